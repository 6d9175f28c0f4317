"""SFTP through paramiko. The server's host key is checked before any
credential is sent: against the fingerprint pinned in the profile
(``source.host_key``, "SHA256:..." as ``ssh-keygen -lf`` prints it) or a
known_hosts file (``source.known_hosts``). A key that is unknown or differs
is refused with a permanent error, never added. The secret of
``credentials_ref`` is a private key (PEM / OpenSSH text) or a password."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import paramiko

from ferry_domain.engine.errors import (
    CredentialsError,
    PermanentSourceError,
    TransientSourceError,
)
from ferry_domain.engine.sources.remote.location import RemoteLocation
from ferry_domain.engine.sources.remote.remote_file import RemoteFile

CHUNK = 1 << 16
_KEY_TYPES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:<base64>``, the form OpenSSH prints."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _private_key(text: str) -> paramiko.PKey | None:
    if "PRIVATE KEY-----" not in text:
        return None
    for key_type in _KEY_TYPES:
        try:
            return key_type.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError):
            continue
    raise CredentialsError("source.credentials_ref holds a private key paramiko cannot read "
                           "(Ed25519, ECDSA or RSA without a passphrase)")


class SftpClient:
    def __init__(self, location: RemoteLocation, credential: str, host_key: str,
                 known_hosts: str, timeout: float) -> None:
        self.location = location
        where = location.url("")
        if not host_key and not known_hosts:
            raise PermanentSourceError(
                f"{where}: no host key to check; set source.host_key or source.known_hosts")
        try:
            sock = socket.create_connection((location.host, location.port), timeout=timeout)
        except OSError as exc:
            raise TransientSourceError(f"{where}: cannot connect: {exc}") from None
        self._transport = paramiko.Transport(sock)
        try:
            self._transport.banner_timeout = timeout
            self._transport.start_client(timeout=timeout)
            self._check_host_key(host_key, known_hosts, where)
            self._login(credential, where)
            self._sftp = paramiko.SFTPClient.from_transport(self._transport)
            self._sftp.get_channel().settimeout(timeout)
        except paramiko.AuthenticationException:
            self._transport.close()
            raise CredentialsError(
                f"{where}: the server refused the login of {location.user!r}; "
                "check source.credentials_ref") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self._transport.close()
            raise TransientSourceError(f"{where}: SSH failed: {exc}") from None
        except BaseException:
            self._transport.close()
            raise

    def _check_host_key(self, pinned: str, known_hosts: str, where: str) -> None:
        key = self._transport.get_remote_server_key()
        seen = fingerprint(key)
        if pinned:
            if pinned.strip().rstrip("=") != seen:
                raise PermanentSourceError(
                    f"{where}: host key {seen} does not match the pinned source.host_key "
                    f"{pinned}; refused (if the server's key really changed, pin the new one)")
            return
        try:
            known = paramiko.HostKeys(known_hosts)
        except OSError as exc:
            raise PermanentSourceError(
                f"source.known_hosts {known_hosts} cannot be read ({exc.strerror})") from None
        host = self.location.host
        names = [host] if self.location.port == 22 else [f"[{host}]:{self.location.port}"]
        entry = known.lookup(names[0])
        if entry is None or key.get_name() not in entry:
            raise PermanentSourceError(
                f"{where}: unknown host key {seen} ({key.get_name()}): not in {known_hosts}; "
                "refused")
        if entry[key.get_name()] != key:
            raise PermanentSourceError(
                f"{where}: host key {seen} differs from the one in {known_hosts}; refused")

    def _login(self, credential: str, where: str) -> None:
        user = self.location.user
        if not user:
            raise PermanentSourceError(f"{where}: source.location names no user (sftp://USER@host)")
        key = _private_key(credential)
        if key is not None:
            self._transport.auth_publickey(user, key)
        elif credential:
            self._transport.auth_password(user, credential)
        else:
            raise CredentialsError(f"{where}: source.credentials_ref is required for SFTP")

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:
            raise PermanentSourceError(f"{self.location.url(what)} does not exist") from None
        except PermissionError:
            raise PermanentSourceError(f"{self.location.url(what)}: permission denied") from None
        except (TimeoutError, paramiko.SSHException, EOFError, ConnectionError) as exc:
            raise TransientSourceError(f"{self.location.url(what)}: {exc}") from None
        except OSError as exc:
            raise PermanentSourceError(f"{self.location.url(what)}: {exc}") from None

    def list_files(self, folder: str) -> list[RemoteFile]:
        with self._guard(folder):
            entries = self._sftp.listdir_attr(folder)
        return [RemoteFile(f"{folder.rstrip('/')}/{e.filename}", e.st_size or 0,
                           int(e.st_mtime or 0))
                for e in entries if e.st_mode is not None and stat.S_ISREG(e.st_mode)]

    def is_folder(self, path: str) -> bool:
        with self._guard(path):
            mode = self._sftp.stat(path).st_mode
        return mode is not None and stat.S_ISDIR(mode)

    def stat(self, path: str) -> RemoteFile | None:
        try:
            with self._guard(path):
                info = self._sftp.stat(path)
        except PermanentSourceError:
            return None
        return RemoteFile(path, info.st_size or 0, int(info.st_mtime or 0))

    def read_chunks(self, path: str) -> Iterator[bytes]:
        with self._guard(path), self._sftp.open(path, "rb") as handle:
            handle.prefetch()
            while chunk := handle.read(CHUNK):
                yield chunk

    def rename(self, old: str, new: str) -> None:
        with self._guard(old):
            self._sftp.posix_rename(old, new)

    def remove(self, path: str) -> None:
        with self._guard(path):
            self._sftp.remove(path)

    def make_folders(self, path: str) -> None:
        current = ""
        for part in [p for p in path.split("/") if p]:
            current += "/" + part
            try:
                self._sftp.stat(current)
            except FileNotFoundError:
                with self._guard(current):
                    self._sftp.mkdir(current)

    def list_folders(self, folder: str) -> list[str]:
        """Names of the sub-folders; none when ``folder`` does not exist."""
        try:
            with self._guard(folder):
                entries = self._sftp.listdir_attr(folder)
        except PermanentSourceError:
            return []
        return [e.filename for e in entries
                if e.st_mode is not None and stat.S_ISDIR(e.st_mode)]

    def remove_folder(self, path: str) -> None:
        with self._guard(path):
            self._sftp.rmdir(path)

    def close(self) -> None:
        self._transport.close()
