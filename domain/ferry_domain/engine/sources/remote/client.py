"""One interface over SFTP (paramiko) and FTP(S) (ftplib): list a folder,
stream a file, rename, delete, make folders. ``connect(source)`` resolves
the secret and opens the right client; failures are engine errors:
network trouble transient, refused logins credentials, an unknown or
mismatching host key permanent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

from ferry.v1 import profile_pb2

from ferry_domain.engine.sources.credentials import secret
from ferry_domain.engine.sources.remote.location import RemoteLocation, parse_location
from ferry_domain.engine.sources.remote.remote_file import RemoteFile

DEFAULT_TIMEOUT = 30.0


class RemoteClient(Protocol):
    location: RemoteLocation

    def list_files(self, folder: str) -> list[RemoteFile]: ...
    def stat(self, path: str) -> RemoteFile | None: ...
    def is_folder(self, path: str) -> bool: ...
    def read_chunks(self, path: str) -> Iterator[bytes]: ...
    def rename(self, old: str, new: str) -> None: ...
    def remove(self, path: str) -> None: ...
    def make_folders(self, path: str) -> None: ...
    def list_folders(self, folder: str) -> list[str]: ...
    def remove_folder(self, path: str) -> None: ...
    def close(self) -> None: ...


def timeout_of(source: profile_pb2.Source) -> float:
    if not source.HasField("timeout"):
        return DEFAULT_TIMEOUT
    return source.timeout.seconds + source.timeout.nanos / 1e9


def connect(source: profile_pb2.Source) -> RemoteClient:
    location = parse_location(source.location, source.kind)
    credential = (secret(source.credentials_ref, "source.credentials_ref")
                  if source.credentials_ref else "")
    if source.kind == profile_pb2.SOURCE_KIND_SFTP:
        from ferry_domain.engine.sources.remote.sftp import SftpClient  # paramiko on demand

        return SftpClient(location, credential, source.host_key, source.known_hosts,
                          timeout_of(source))
    from ferry_domain.engine.sources.remote.ftp import FtpClient

    return FtpClient(location, credential, source.tls or location.scheme == "ftps",
                     timeout_of(source))


def copy_to(client: RemoteClient, path: str, out: BinaryIO, limit: int,
            on_chunk=None) -> int:  # type: ignore[no-untyped-def]
    """Stream ``path`` into ``out``; return the bytes copied. ``limit`` > 0
    stops the copy once passed (the caller refuses the file)."""
    size = 0
    for chunk in client.read_chunks(path):
        size += len(chunk)
        if limit and size > limit:
            return size
        if on_chunk is not None:
            on_chunk(chunk)
        out.write(chunk)
    return size
