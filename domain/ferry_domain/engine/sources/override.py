"""A run's source override: the one location a run reads instead of its
profile's (``ferry runs start --source``, or a retry of a run whose file went
to ``failed_dir``).

``check_source_override`` refuses what cannot be a location (INVALID_ARGUMENT
naming ``source_override``): a file path outside ``FERRY_FILE_ROOTS`` (the
text of the path, ``ferry.security.paths.confine_path_lexically``; the runner
confines it again with ``confine_path`` when it opens it), a NUL byte, a URL
that is not http(s), sftp or ftp(s), an sftp/ftp URL with a password.
``with_source_override`` is the profile as the run reads it: that one file
(a name with glob characters matches only itself) or URL; for an SFTP / FTP
profile, the override's path on the profile's own server.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ferry.errors import InvalidArgumentError, Violation
from ferry.security.paths import PathNotAllowedError, confine_path_lexically
from ferry.v1 import profile_pb2

FIELD = "source_override"
_REMOTE_SCHEMES = ("sftp://", "ftp://", "ftps://")
_URL_SCHEMES = ("http://", "https://", *_REMOTE_SCHEMES)
_REMOTE_KINDS = (profile_pb2.SOURCE_KIND_SFTP, profile_pb2.SOURCE_KIND_FTP)


def _refused(description: str) -> InvalidArgumentError:
    return InvalidArgumentError.from_violations("source override",
                                                [Violation(FIELD, description)])


def is_url(location: str) -> bool:
    return "://" in location


def check_source_override(location: str, roots: Sequence[Path] | None) -> str:
    """``location`` as a run records it: a URL as given, a file path made
    absolute and normalised (confined to ``roots`` when they are set). The
    check reads only the path's text: the registry, which makes it, does not
    mount the runners' volumes; the runner confines the file again, following
    symlinks, when it opens it."""
    location = location.strip()
    if "\x00" in location:
        raise _refused("contains a NUL byte")
    if is_url(location):
        if not location.lower().startswith(_URL_SCHEMES):
            raise _refused(f"{location} is not an http(s), sftp or ftp URL or a file path")
        if location.lower().startswith(_REMOTE_SCHEMES) and urlsplit(location).password:
            raise _refused("must not hold a password; the profile's credentials_ref is used")
        return location
    if roots is None:
        return str(Path(location).absolute())
    try:
        return str(confine_path_lexically(location, roots))
    except PathNotAllowedError as exc:
        raise _refused(str(exc)) from None


def _on_profile_server(profile_location: str, override: str) -> str:
    """The override's path on the profile's own server (scheme, user, host and
    port from the profile): an override can name another file, never send
    the profile's credentials to another host."""
    server = urlsplit(profile_location)
    return urlunsplit((server.scheme, server.netloc, urlsplit(override).path, "", ""))


def with_source_override(profile: profile_pb2.Profile, location: str) -> profile_pb2.Profile:
    """A copy of ``profile`` that reads ``location`` (the profile itself when empty)."""
    if not location:
        return profile
    copy = profile_pb2.Profile()
    copy.CopyFrom(profile)
    if copy.source.kind in _REMOTE_KINDS and location.lower().startswith(_REMOTE_SCHEMES):
        location = _on_profile_server(profile.source.location, location)
    copy.source.location = location if is_url(location) else glob.escape(location)
    copy.source.selection = profile_pb2.FILE_SELECTION_NEWEST
    return copy
