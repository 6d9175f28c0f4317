"""FTP and FTPS (explicit TLS with a protected data channel) through
ftplib. Listings use MLSD/MLST (RFC 3659), which give exact sizes and UTC
modification times."""

from __future__ import annotations

import ftplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from ferry_domain.engine.errors import (
    CredentialsError,
    PermanentSourceError,
    TransientSourceError,
)
from ferry_domain.engine.sources.remote.location import RemoteLocation
from ferry_domain.engine.sources.remote.remote_file import RemoteFile

CHUNK = 1 << 16


def _epoch(modify: str) -> int:
    if not modify:
        return 0
    stamp = datetime.strptime(modify[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return int(stamp.timestamp())


class FtpClient:
    def __init__(self, location: RemoteLocation, password: str, tls: bool,
                 timeout: float) -> None:
        self.location = location
        where = location.url("")
        self._tls = tls
        self._ftp = ftplib.FTP_TLS(timeout=timeout) if tls else ftplib.FTP(timeout=timeout)
        try:
            self._ftp.connect(location.host, location.port)
            self._ftp.login(location.user or "anonymous", password)
            if isinstance(self._ftp, ftplib.FTP_TLS):
                self._ftp.prot_p()
        except ftplib.error_perm as exc:
            self._ftp.close()
            if str(exc).startswith("530"):
                raise CredentialsError(
                    f"{where}: the server refused the login of {location.user or 'anonymous'!r}; "
                    "check source.credentials_ref") from None
            raise PermanentSourceError(f"{where}: {exc}") from None
        except ssl.SSLError as exc:
            self._ftp.close()
            raise PermanentSourceError(f"{where}: TLS failed: {exc}") from None
        except (OSError, EOFError, ftplib.Error) as exc:
            self._ftp.close()
            raise TransientSourceError(f"{where}: cannot connect: {exc}") from None

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except ftplib.error_perm as exc:
            text = str(exc)
            if text.startswith("550"):
                raise PermanentSourceError(
                    f"{self.location.url(what)} does not exist or cannot be read: {text}"
                ) from None
            raise PermanentSourceError(f"{self.location.url(what)}: {text}") from None
        except (TimeoutError, OSError, EOFError, ftplib.Error) as exc:
            raise TransientSourceError(f"{self.location.url(what)}: {exc}") from None

    def list_files(self, folder: str) -> list[RemoteFile]:
        with self._guard(folder):
            entries = list(self._ftp.mlsd(folder, facts=["type", "size", "modify"]))
        base = folder.rstrip("/")
        return [RemoteFile(f"{base}/{name}", int(facts.get("size", 0)),
                           _epoch(facts.get("modify", "")))
                for name, facts in entries if facts.get("type") == "file"]

    def _mlst(self, path: str) -> dict[str, str]:
        with self._guard(path):
            reply = self._ftp.sendcmd(f"MLST {path}")
        lines = reply.splitlines()
        facts_line = lines[1].strip() if len(lines) > 1 else ""
        facts_text = facts_line.split(" ", 1)[0]
        return {k.lower(): v for k, _, v in
                (item.partition("=") for item in facts_text.split(";") if item)}

    def is_folder(self, path: str) -> bool:
        return self._mlst(path).get("type", "") in ("dir", "cdir")

    def stat(self, path: str) -> RemoteFile | None:
        try:
            facts = self._mlst(path)
        except PermanentSourceError:
            return None
        return RemoteFile(path, int(facts.get("size", 0)), _epoch(facts.get("modify", "")))

    def read_chunks(self, path: str) -> Iterator[bytes]:
        with self._guard(path):
            self._ftp.voidcmd("TYPE I")
            with self._ftp.transfercmd(f"RETR {path}") as conn:
                while data := conn.recv(CHUNK):
                    yield data
                if isinstance(conn, ssl.SSLSocket):
                    conn.unwrap()
            self._ftp.voidresp()

    def rename(self, old: str, new: str) -> None:
        with self._guard(old):
            self._ftp.rename(old, new)

    def remove(self, path: str) -> None:
        with self._guard(path):
            self._ftp.delete(path)

    def make_folders(self, path: str) -> None:
        current = ""
        for part in [p for p in path.split("/") if p]:
            current += "/" + part
            try:
                self._ftp.mkd(current)
            except ftplib.error_perm:
                pass  # exists already (a real failure shows on the rename)

    def list_folders(self, folder: str) -> list[str]:
        """Names of the sub-folders; none when ``folder`` does not exist."""
        try:
            with self._guard(folder):
                entries = list(self._ftp.mlsd(folder, facts=["type"]))
        except PermanentSourceError:
            return []
        return [name for name, facts in entries if facts.get("type") == "dir"]

    def remove_folder(self, path: str) -> None:
        with self._guard(path):
            self._ftp.rmd(path)

    def close(self) -> None:
        try:
            self._ftp.quit()
        except (OSError, EOFError, ftplib.Error):
            self._ftp.close()
