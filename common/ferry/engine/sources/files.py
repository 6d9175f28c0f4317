"""Local files: one path, the newest file matching a glob, or each matching
file oldest first; a folder means every file in it."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

from ferry.engine.errors import PermanentSourceError
from ferry.engine.formats.dispatch import open_records
from ferry.engine.formats.stream import RecordStream
from ferry.v1 import profile_pb2

_GLOB_CHARS = set("*?[")


def is_glob(location: str) -> bool:
    return any(c in location for c in _GLOB_CHARS)


def resolve_files(location: str, selection: int) -> list[Path]:
    """The files a source reads, in reading order."""
    if not location:
        raise PermanentSourceError("source.location is empty")
    path = Path(location).expanduser()
    pattern = None
    if is_glob(location):
        pattern = str(path)
    elif path.is_dir():
        pattern = str(path / "*")
    if pattern is None:
        if not path.is_file():
            raise PermanentSourceError(f"source file {path} does not exist")
        return [path]
    if selection == profile_pb2.FILE_SELECTION_SINGLE:
        raise PermanentSourceError(
            f"source.location {location!r} is a glob or folder; selection SINGLE needs one file"
        )
    matches = [Path(p) for p in glob.glob(pattern) if os.path.isfile(p)]
    if not matches:
        raise PermanentSourceError(f"no file matches {location!r}")
    matches.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
    if selection == profile_pb2.FILE_SELECTION_EACH:
        return matches
    return [matches[-1]]  # NEWEST (also the default for a glob)


def open_files(source: profile_pb2.Source) -> Iterator[RecordStream]:
    for path in resolve_files(source.location, source.selection):
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise PermanentSourceError(f"cannot open {path}: {exc.strerror}") from None
        try:
            stream = open_records(handle, str(path), source.format, source.options)
        except BaseException:
            handle.close()
            raise
        stream.closers.insert(0, handle)
        yield stream
