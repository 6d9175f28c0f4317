"""Local files: one path, the newest file matching a glob, or each matching
file oldest first; a folder means every file in it.

With ``roots`` (the runner's ``FERRY_FILE_ROOTS``) every path and glob is
confined to those folders (``ferry.security.paths``) before anything is
opened: an escape is a ``PermanentSourceError`` "path not allowed: ...".
Files larger than ``limits.max_source_bytes`` are refused before reading."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from ferry.security.paths import PathNotAllowedError, confine_glob, confine_path
from ferry.v1 import profile_pb2

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.dispatch import open_records
from ferry_domain.engine.formats.stream import RecordStream, share_read
from ferry_domain.engine.run_io import file_input

_GLOB_CHARS = set("*?[")


def is_glob(location: str) -> bool:
    return any(c in location for c in _GLOB_CHARS)


def _confined(location: str, roots: Sequence[Path]) -> tuple[Path | None, list[Path] | None]:
    """(the one file, None) or (None, the matches) for ``location`` inside ``roots``."""
    try:
        if is_glob(location):
            return None, [p for p in confine_glob(location, roots) if p.is_file()]
        path = confine_path(location, roots)
        if path.is_dir():
            return None, [
                p for p in confine_glob(glob.escape(str(path)) + "/*", roots) if p.is_file()
            ]
        return path, None
    except PathNotAllowedError as exc:
        raise PermanentSourceError(f"path not allowed: {exc}") from None
    except FileNotFoundError:
        raise PermanentSourceError(f"source file {location} does not exist") from None


def folder_of(location: str) -> Path | None:
    """The folder a drop-folder location lists: the folder itself, or a glob's
    non-magic prefix (``/in/*.csv`` -> ``/in``); None when it names one file."""
    path = Path(location).expanduser()
    if is_glob(location):
        fixed = list(_until_magic(path.parts))
        return Path(*fixed) if fixed else Path(".")
    return path if path.is_dir() else None


def _until_magic(parts: Sequence[str]) -> Iterator[str]:
    for part in parts:
        if is_glob(part):
            return
        yield part


def check_folder(folder: Path, roots: Sequence[Path] | None = None) -> None:
    """Raise PermanentSourceError when a drop folder is missing or cannot be
    listed (a lost mount): that is a failure, an empty folder is not."""
    try:
        where = confine_path(str(folder), roots) if roots is not None else folder
        os.listdir(where)
    except PathNotAllowedError as exc:
        raise PermanentSourceError(f"path not allowed: {exc}") from None
    except FileNotFoundError:
        raise PermanentSourceError(f"source folder {folder} does not exist") from None
    except NotADirectoryError:
        raise PermanentSourceError(f"source folder {folder} is not a folder") from None
    except OSError as exc:
        raise PermanentSourceError(
            f"source folder {folder} cannot be read ({exc.strerror})") from None


def list_drop_folder(location: str, roots: Sequence[Path] | None = None) -> list[Path]:
    """The files a drop folder (a glob or a folder) holds that match, oldest
    first; empty when there are none. The folder must exist (``check_folder``)."""
    folder = folder_of(location)
    if folder is None:
        raise PermanentSourceError(f"source.location {location!r} is not a glob or a folder")
    check_folder(folder, roots)
    if roots is not None:
        _one, found = _confined(location, roots)
        matches = found or []
    else:
        pattern = str(Path(location).expanduser() / "*") if not is_glob(location) \
            else str(Path(location).expanduser())
        matches = [Path(p) for p in glob.glob(pattern) if os.path.isfile(p)]
    return sorted(matches, key=lambda p: (p.stat().st_mtime_ns, p.name))


def resolve_files(location: str, selection: int, roots: Sequence[Path] | None = None) -> list[Path]:
    """The files a source reads, in reading order (confined to ``roots`` when given)."""
    if not location:
        raise PermanentSourceError("source.location is empty")
    if roots is not None:
        one, found = _confined(location, roots)
        if one is not None:
            return [one]
        if selection == profile_pb2.FILE_SELECTION_SINGLE:
            raise PermanentSourceError(
                f"source.location {location!r} is a glob or folder; selection SINGLE needs one file"
            )
        return _select(found or [], location, selection)
    path = Path(location).expanduser()
    pattern = None
    if is_glob(location):
        pattern = str(path)
    elif path.is_dir():
        pattern = str(path / "*")
    if pattern is None:
        if not path.is_file():
            if path.exists():
                raise PermanentSourceError(f"{path} is not a regular file")
            raise PermanentSourceError(f"source file {path} does not exist")
        return [path]
    if selection == profile_pb2.FILE_SELECTION_SINGLE:
        raise PermanentSourceError(
            f"source.location {location!r} is a glob or folder; selection SINGLE needs one file"
        )
    matches = [Path(p) for p in glob.glob(pattern) if os.path.isfile(p)]
    return _select(matches, location, selection)


def _select(matches: list[Path], location: str, selection: int) -> list[Path]:
    if not matches:
        raise PermanentSourceError(f"no file matches {location!r}")
    matches.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
    if selection == profile_pb2.FILE_SELECTION_EACH:
        return matches
    return [matches[-1]]  # NEWEST (also the default for a glob)


def open_files(
    source: profile_pb2.Source, roots: Sequence[Path] | None = None
) -> Iterator[RecordStream]:
    for path in resolve_files(source.location, source.selection, roots):
        try:
            # O_NONBLOCK: a FIFO must not block the run waiting for a writer.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise PermanentSourceError(f"cannot open {path}: {exc.strerror}") from None
        handle = os.fdopen(fd, "rb")
        try:
            _check_regular(handle, path)
            stream = open_records(handle, str(path), source.format, source.options)
        except BaseException:
            handle.close()
            raise
        stream.closers.insert(0, handle)
        info = os.fstat(handle.fileno())
        stream.fraction = share_read(handle, info.st_size)
        stream.input = file_input(str(path), info)
        yield stream


def _check_regular(handle, path: Path) -> None:
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):
        raise PermanentSourceError(f"{path} is not a regular file")
    os.set_blocking(handle.fileno(), True)
    limit = source_limits.current().max_source_bytes
    if limit and info.st_size > limit:
        raise PermanentSourceError(
            f"{path} is {info.st_size} bytes, above the limit of {limit} bytes "
            "(FERRY_MAX_SOURCE_BYTES)"
        )
