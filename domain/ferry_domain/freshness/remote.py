"""Remote probes (SFTP, FTP): the size and modification time the server
lists for the files the source selects, and the XXH3-128 checksum of their
bytes streamed from the server (nothing is kept). Tokens have the shape of
the local file ones (``files.py``), keyed by the files' URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import xxhash
from ferry.v1 import profile_pb2

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.sources.remote.client import RemoteClient, connect
from ferry_domain.engine.sources.remote.reading import (
    is_listing,
    list_matches,
    resolve_remote,
    stable_for_seconds,
)
from ferry_domain.engine.sources.remote.remote_file import RemoteFile
from ferry_domain.freshness.decision import NO_NEW_INPUT_DETAIL, MethodResult, compare
from ferry_domain.freshness.files import CHECKSUM_PREFIX

M = profile_pb2


def _stamp(remote: RemoteFile) -> str:
    when = datetime.fromtimestamp(remote.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{remote.size}@{when}Z"


def mtime_size_token(client: RemoteClient, found: list[RemoteFile]) -> str:
    if not found:
        return "none"
    if len(found) == 1:
        return _stamp(found[0])
    return "|".join(f"{client.location.url(f.path)}={_stamp(f)}"
                    for f in sorted(found, key=lambda f: f.path))


def checksum_token(client: RemoteClient, found: list[RemoteFile]) -> str:
    """The streamed content checksum; for several files, the hash of each
    file's digest in path order (as for local files)."""
    if not found:
        return "none"
    digests = []
    limit = source_limits.current().max_source_bytes
    for remote in sorted(found, key=lambda f: f.path):
        if limit and remote.size > limit:  # the run would refuse it: do not hash it
            raise PermanentSourceError(
                f"{client.location.url(remote.path)} is larger than the limit of {limit} "
                "bytes (FERRY_MAX_SOURCE_BYTES)")
        hasher = xxhash.xxh3_128()
        for chunk in client.read_chunks(remote.path):
            hasher.update(chunk)
        digests.append(hasher)
    if len(digests) == 1:
        return CHECKSUM_PREFIX + digests[0].hexdigest()
    combined = xxhash.xxh3_128()
    for hasher in digests:
        combined.update(hasher.digest())
    return CHECKSUM_PREFIX + combined.hexdigest()


def remote_results(source: profile_pb2.Source, methods: list[int],
                   previous: dict[str, Any]) -> list[MethodResult]:
    """One result per method, over one connection. Connection, login and
    host-key failures are the engine's errors (transient, credentials,
    permanent), which the runner classifies by their ``error_class``."""
    client = connect(source)
    try:
        found = resolve_remote(client, source.selection, stable_for_seconds(source))
        results = []
        for method in methods:
            if method == M.FRESHNESS_METHOD_MTIME_SIZE:
                results.append(compare(method, previous, mtime_size_token(client, found)))
            elif method == M.FRESHNESS_METHOD_CHECKSUM:
                results.append(compare(method, previous, checksum_token(client, found)))
        return results
    finally:
        client.close()


def nothing_ready(source: profile_pb2.Source, now: datetime | None = None) -> str:
    """For a glob or folder location: the "no new input" detail when no file
    matches (or none has been still for ``stable_for``), so that the run ends
    UNCHANGED, as a local drop folder's does; "" when there is a file to read
    or the location names one file. A missing folder raises (the run fails)."""
    client = connect(source)
    try:
        if not is_listing(client):
            return ""
        stable = stable_for_seconds(source)
        if list_matches(client, stable, now):
            return ""
        waiting = len(list_matches(client)) if stable else 0
    finally:
        client.close()
    return NO_NEW_INPUT_DETAIL + (f"; {waiting} waiting for stable_for" if waiting else "")
