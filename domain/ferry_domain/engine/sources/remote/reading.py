"""Reading remote files: which files a location picks (one file, the newest
match of a glob or folder, or each match oldest first, as for local files),
and each downloaded into a spooled temporary file under the engine's size
limit (``FERRY_MAX_SOURCE_BYTES``), hashed (XXH3-128) on the way, then read
like a local file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime

import xxhash
from ferry.v1 import profile_pb2

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.dispatch import open_records
from ferry_domain.engine.formats.stream import RecordStream, share_read
from ferry_domain.engine.run_io import RunInput
from ferry_domain.engine.sources.remote.client import RemoteClient, connect, copy_to
from ferry_domain.engine.sources.remote.remote_file import RemoteFile

SPOOL_MEMORY = 8 * 1024 * 1024
CHECKSUM_PREFIX = "xxh3_128:"


def stable_for_seconds(source: profile_pb2.Source) -> float:
    if not source.HasField("stable_for"):
        return 0.0
    return source.stable_for.seconds + source.stable_for.nanos / 1e9


def list_matches(client: RemoteClient, stable_for: float = 0.0,
                 now: datetime | None = None) -> list[RemoteFile]:
    """The files of a glob or folder location, oldest first (mtime, then name);
    with ``stable_for``, only those the server says were last modified at
    least that long ago (a file still being uploaded waits)."""
    location = client.location
    found = [f for f in client.list_files(location.folder) if location.matches(f.name)]
    if stable_for:
        cutoff = (now or datetime.now(UTC)).timestamp() - stable_for
        found = [f for f in found if f.mtime <= cutoff]
    return sorted(found, key=lambda f: (f.mtime, f.name))


def is_listing(client: RemoteClient) -> bool:
    """Whether the location is a glob or a folder (not one file)."""
    return bool(client.location.pattern) or client.is_folder(client.location.path)


def resolve_remote(client: RemoteClient, selection: int,
                   stable_for: float = 0.0) -> list[RemoteFile]:
    """The files a source reads, in reading order."""
    location = client.location
    shown = location.url()
    if not is_listing(client):
        found = client.stat(location.path)
        if found is None:
            raise PermanentSourceError(f"source file {shown} does not exist")
        return [found]
    if selection == profile_pb2.FILE_SELECTION_SINGLE:
        raise PermanentSourceError(
            f"source.location {shown!r} is a glob or folder; selection SINGLE needs one file")
    matches = list_matches(client, stable_for)
    if not matches:
        waiting = " that has been still for stable_for" if stable_for else ""
        raise PermanentSourceError(f"no file{waiting} matches {shown!r}")
    return matches if selection == profile_pb2.FILE_SELECTION_EACH else [matches[-1]]


def download(client: RemoteClient, remote: RemoteFile) -> tuple[tempfile.SpooledTemporaryFile,
                                                                  int, str]:
    """The file in a spool (rewound), its size and checksum. Refused before
    reading when the listed size passes the limit, and while reading once the
    bytes do (a file that grew)."""
    shown = client.location.url(remote.path)
    limit = source_limits.current().max_source_bytes
    too_big = (f"{shown} is larger than the limit of {limit} bytes (FERRY_MAX_SOURCE_BYTES)")
    if limit and remote.size > limit:
        raise PermanentSourceError(too_big)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    hasher = xxhash.xxh3_128()
    try:
        size = copy_to(client, remote.path, spool, limit, hasher.update)
        if limit and size > limit:
            raise PermanentSourceError(too_big)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, CHECKSUM_PREFIX + hasher.hexdigest()


def open_remote(source: profile_pb2.Source) -> Iterator[RecordStream]:
    client = connect(source)
    try:
        for remote in resolve_remote(client, source.selection, stable_for_seconds(source)):
            yield _stream(client, remote, source)
    finally:
        client.close()


def _stream(client: RemoteClient, remote: RemoteFile,
            source: profile_pb2.Source) -> RecordStream:
    spool, size, checksum = download(client, remote)
    shown = client.location.url(remote.path)
    try:
        stream = open_records(spool, remote.name, source.format, source.options)
    except BaseException:
        spool.close()
        raise
    stream.name = shown
    stream.closers.insert(0, spool)
    stream.fraction = share_read(spool, size)
    stream.input = RunInput(path=shown, size_bytes=size, checksum=checksum, is_url=True,
                            modify_time=datetime.fromtimestamp(remote.mtime, UTC))
    return stream
