"""Where rows come from: local files, HTTP(S), SFTP and FTP(S) servers, SQL
queries and connector plugins. ``open_parts`` yields one RecordStream per part (file, response,
query) in order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ferry.v1 import profile_pb2

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.sources.connectors import open_connector
from ferry_domain.engine.sources.files import open_files
from ferry_domain.engine.sources.sql import open_sql


def open_parts(
    source: profile_pb2.Source, file_roots: Sequence[Path] | None = None
) -> Iterator[RecordStream]:
    """``file_roots``: confine file sources to these folders (None: not confined)."""
    kind = source.kind
    if kind in (profile_pb2.SOURCE_KIND_FILE, profile_pb2.SOURCE_KIND_UNSPECIFIED):
        return open_files(source, file_roots)
    if kind == profile_pb2.SOURCE_KIND_HTTP:
        # httpx (a quarter second of CPU) loads with the first HTTP source.
        from ferry_domain.engine.sources.http import open_http

        return open_http(source)
    if kind == profile_pb2.SOURCE_KIND_SQL:
        return open_sql(source)
    if kind == profile_pb2.SOURCE_KIND_CONNECTOR:
        return open_connector(source)
    if kind in (profile_pb2.SOURCE_KIND_SFTP, profile_pb2.SOURCE_KIND_FTP):
        # paramiko / ftplib load with the first remote source.
        from ferry_domain.engine.sources.remote.reading import open_remote

        return open_remote(source)
    raise PermanentSourceError(f"unknown source kind {kind}")
