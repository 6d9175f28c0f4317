"""Drop folders: which file a run of a FILE import whose location is a glob or
a folder reads, decided by the freshness gate before anything is read.

1. Look (``look``): list the matching files. A folder that is missing or
   cannot be listed is a permanent failure; an empty one is not. A file is
   *waiting*, not ready, while its modified time is younger than
   ``source.stable_for`` or its ``source.ready_marker`` is missing. Marker
   files are never data.
2. Hash the ready files the selection needs (NEWEST: the newest; EACH: all),
   then stat them again: a file whose size or modified time moved while it was
   hashed is still being written, and waits.
3. Pick (``pick``) against the files already imported under the profile
   digest (the registry's ``imported_files``, looked up by checksum):

   - NEWEST reads the newest ready file, unless its content was imported
     before (``SAME_CONTENT``: "same content as a.csv imported by run 01H…");
   - EACH reads the oldest ready file not imported yet: one run per file.
     A file imported under its own path is never new again; a file whose
     content was imported under another name is ``SAME_CONTENT``. When more
     new files wait after the one picked, ``more_waiting`` asks the registry
     for a follow-up run;
   - nothing to read is ``NO_NEW_INPUT`` ("no new input"), naming the files
     still waiting.

``bypass`` (``--force``, ``runs retry``) reads a file whose content was
imported under another name (or, for NEWEST, under its own) all the same.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ferry.v1 import profile_pb2

from ferry_domain.engine.sources.files import folder_of, list_drop_folder
from ferry_domain.freshness.decision import NO_NEW_INPUT_DETAIL, Reason
from ferry_domain.freshness.files import CHECKSUM_PREFIX, hash_file

M = profile_pb2
_PLACEHOLDERS = ("{name}", "{stem}")


@dataclass(frozen=True)
class Seen:
    """One ready file as the first look saw it."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Waiting:
    path: Path
    why: str


@dataclass(frozen=True)
class Look:
    ready: tuple[Seen, ...]        # oldest first
    waiting: tuple[Waiting, ...]


@dataclass(frozen=True)
class Imported:
    """A file the registry recorded as imported under the profile digest."""

    path: str
    checksum: str
    run_id: str


@dataclass(frozen=True)
class Pick:
    path: Path | None          # the file to read; None: nothing to read
    checksum: str = ""
    reason: Reason = Reason.SOURCE_CHANGED
    detail: str = ""
    more_waiting: bool = False


def is_drop_folder(profile: profile_pb2.Profile) -> bool:
    """A FILE import whose location is a glob or an existing folder."""
    source = profile.source
    return (profile.operation == M.OPERATION_IMPORT and source.kind == M.SOURCE_KIND_FILE
            and source.selection != M.FILE_SELECTION_SINGLE and bool(source.location)
            and folder_of(source.location) is not None)


def _seconds(duration) -> float:
    return duration.seconds + duration.nanos / 1e9


def _is_marker(name: str, marker: str) -> bool:
    pattern = marker
    for placeholder in _PLACEHOLDERS:
        pattern = pattern.replace(placeholder, "*")
    return fnmatch.fnmatchcase(name, pattern)


def _marker_missing(path: Path, marker: str) -> str:
    """Why ``path`` waits for its marker, or "" when the marker is there."""
    if any(p in marker for p in _PLACEHOLDERS):
        name = marker.replace("{name}", path.name).replace("{stem}", path.stem)
        return "" if (path.parent / name).exists() else f"waiting for its marker {name}"
    found = glob.glob(os.path.join(glob.escape(str(path.parent)), marker))
    return "" if found else f"waiting for the folder's marker {marker}"


def look(source: profile_pb2.Source, now: datetime,
         roots: Sequence[Path] | None = None) -> Look:
    """The drop folder's ready and waiting files (raises PermanentSourceError
    for a folder that is missing or cannot be read)."""
    stable = _seconds(source.stable_for) if source.HasField("stable_for") else 0.0
    marker = source.ready_marker
    ready: list[Seen] = []
    waiting: list[Waiting] = []
    for path in list_drop_folder(source.location, roots):
        if marker and _is_marker(path.name, marker):
            continue
        try:
            info = path.stat()
        except OSError:
            continue  # gone between the listing and the stat: not there
        age = now.timestamp() - info.st_mtime_ns / 1e9
        if stable and age < stable:
            waiting.append(Waiting(path, f"modified {max(age, 0):.0f}s ago, "
                                         f"stable_for {stable:g}s"))
            continue
        why = _marker_missing(path, marker) if marker else ""
        if why:
            waiting.append(Waiting(path, why))
            continue
        ready.append(Seen(path, info.st_size, info.st_mtime_ns))
    return Look(tuple(ready), tuple(waiting))


def checksums(found: Look, selection: int) -> tuple[dict[Path, str], Look]:
    """Hash the ready files the selection needs; a file that moved while it
    was hashed (size or modified time) is moved to waiting."""
    wanted = found.ready if selection == M.FILE_SELECTION_EACH else found.ready[-1:]
    sums: dict[Path, str] = {}
    moved: list[Waiting] = []
    buffer = bytearray(4 * 1024 * 1024)
    for seen in wanted:
        digest = CHECKSUM_PREFIX + hash_file(seen.path, buffer=buffer).hexdigest()
        try:
            after = seen.path.stat()
        except OSError:
            continue
        if (after.st_size, after.st_mtime_ns) != (seen.size, seen.mtime_ns):
            moved.append(Waiting(seen.path, "still being written (its size changed)"))
            continue
        sums[seen.path] = digest
    ready = tuple(s for s in found.ready if s.path in sums)
    return sums, Look(ready, found.waiting + tuple(moved))


def _waiting_note(waiting: Sequence[Waiting]) -> str:
    if not waiting:
        return ""
    shown = "; ".join(f"{w.path.name} ({w.why})" for w in waiting[:3])
    more = f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
    return f"; waiting: {shown}{more}"


def _same_content(record: Imported) -> str:
    return f"same content as {Path(record.path).name} imported by run {record.run_id}"


def pick(selection: int, found: Look, sums: dict[Path, str],
         imported: Sequence[Imported], *, bypass: bool) -> Pick:
    """The file to read, or why there is none (see the module)."""
    by_sum: dict[str, list[Imported]] = {}
    for record in imported:
        by_sum.setdefault(record.checksum, []).append(record)
    no_input = Pick(None, reason=Reason.NO_NEW_INPUT,
                    detail=NO_NEW_INPUT_DETAIL + _waiting_note(found.waiting))
    if not found.ready:
        return no_input
    if selection != M.FILE_SELECTION_EACH:
        newest = found.ready[-1].path
        records = by_sum.get(sums[newest], [])
        if records and not bypass:
            return Pick(None, reason=Reason.SAME_CONTENT, detail=_same_content(records[0]))
        return Pick(newest, sums[newest])

    def status(path: Path) -> Imported | None | bool:
        """False: new; an Imported: same content under another name; True: imported."""
        records = by_sum.get(sums[path], [])
        if any(r.path == str(path) for r in records):
            return True
        if records and not bypass:
            return records[0]
        return False

    fresh: list[Path] = []
    same: list[Imported] = []
    for seen in found.ready:
        state = status(seen.path)
        if state is False:
            fresh.append(seen.path)
        elif isinstance(state, Imported):
            same.append(state)
    if fresh:
        return Pick(fresh[0], sums[fresh[0]], more_waiting=len(fresh) > 1)
    if same:
        return Pick(None, reason=Reason.SAME_CONTENT, detail=_same_content(same[-1]))
    return no_input


def choose(profile: profile_pb2.Profile, now: datetime,
           lookup: Callable[[list[str]], Sequence[Imported]], *, bypass: bool,
           roots: Sequence[Path] | None = None) -> Pick:
    """Look, hash, ask ``lookup`` (checksums -> files imported under the
    profile digest) and pick."""
    source = profile.source
    found = look(source, now, roots)
    if not found.ready:
        return pick(source.selection, found, {}, (), bypass=bypass)
    sums, found = checksums(found, source.selection)
    imported = lookup(sorted(set(sums.values()))) if sums else ()
    return pick(source.selection, found, sums, imported, bypass=bypass)
