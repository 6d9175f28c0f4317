"""The location of a remote source: ``sftp://user@host:port/folder/*.csv``
or ``ftp://user@host/folder/file.csv``. The password or key never sits in the
URL: it comes from ``source.credentials_ref``."""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ferry.v1 import profile_pb2

from ferry_domain.engine.errors import PermanentSourceError

SCHEMES = {profile_pb2.SOURCE_KIND_SFTP: ("sftp",), profile_pb2.SOURCE_KIND_FTP: ("ftp", "ftps")}
DEFAULT_PORTS = {"sftp": 22, "ftp": 21, "ftps": 21}
_GLOB_CHARS = set("*?[")


def is_remote(kind: int) -> bool:
    return kind in SCHEMES


@dataclass(frozen=True)
class RemoteLocation:
    scheme: str
    host: str
    port: int
    user: str
    # Absolute path on the server: one file, a folder, or a glob in the last part.
    path: str

    @property
    def folder(self) -> str:
        """The folder listed: the path's parent when the last part is a glob."""
        return posixpath.dirname(self.path) if self.pattern else self.path

    @property
    def pattern(self) -> str:
        """The glob of the last path part, or "" when the path names one file or folder."""
        name = posixpath.basename(self.path)
        return name if any(c in _GLOB_CHARS for c in name) else ""

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.pattern) if self.pattern else True

    def url(self, path: str | None = None) -> str:
        """The URL of ``path`` (default: this location) without any secret."""
        user = f"{self.user}@" if self.user else ""
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{user}{self.host}{port}{path or self.path}"


def parse_location(location: str, kind: int) -> RemoteLocation:
    """Raise PermanentSourceError when ``location`` is not a URL of the source's kind."""
    schemes = SCHEMES[kind]
    try:
        parts = urlsplit(location)
        port = parts.port
    except ValueError as exc:
        raise PermanentSourceError(f"source.location is not a valid URL: {exc}") from None
    if parts.scheme not in schemes:
        raise PermanentSourceError(
            f"source.location must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise PermanentSourceError("source.location names no host")
    if parts.password:
        raise PermanentSourceError(
            "source.location must not hold a password; use source.credentials_ref")
    path = unquote(parts.path) or "/"
    if any(c in _GLOB_CHARS for c in posixpath.dirname(path)):
        raise PermanentSourceError(
            "source.location: only the last part of the path may be a glob")
    return RemoteLocation(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme],
                          unquote(parts.username or ""), path)
