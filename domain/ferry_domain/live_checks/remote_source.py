"""The live check of an SFTP or FTP source: connect, check the host key
(SFTP), log in, and list what the selection would read. Nothing is
downloaded: the shape is checked when a run opens the file."""

from __future__ import annotations

from ferry.v1 import profile_pb2

from ferry_domain.engine.sources.remote.client import connect
from ferry_domain.engine.sources.remote.reading import resolve_remote, stable_for_seconds


def check_remote(source: profile_pb2.Source) -> str:
    """The line saying what was checked; engine errors (host key, login,
    missing file) propagate to ``probe_source``, which reports them as a
    failed line."""
    client = connect(source)
    try:
        found = resolve_remote(client, source.selection, stable_for_seconds(source))
    finally:
        client.close()
    shown = client.location.url(found[-1].path)
    checked = "host key matched, " if source.kind == profile_pb2.SOURCE_KIND_SFTP else ""
    what = f"{len(found)} files, the last " if len(found) > 1 else ""
    return f"{checked}logged in; {what}{shown} ({found[-1].size} bytes)"
