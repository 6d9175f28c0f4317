"""Retention of source files and masked samples after a run.

- After success: keep the file, delete it, or move it to
  ``<backup_dir>/YYYY/MM/DD/<name>`` (the run's date, UTC).
- After failure: move the file to ``<failed_dir>/YYYY/MM/DD/<name>``;
  ``purge_failed`` later removes what has been there longer than
  ``keep_failed_days`` full days (0 keeps failed files for ever), except a
  file whose failure is not yet released (``pins``): it stays until a later
  live run of the profile completes, then ``keep_failed_days`` after that.
- ``purge_backups`` removes backups older than ``keep_backup_days``.
  Only files in such dated folders are purged: nothing Ferry did not put there.
- ``save_sample`` writes the first rows of a run, masked, as CSV.

Every step is returned as an ``Action`` (``to_proto()`` gives
``run_pb2.RetentionAction``). Moves never overwrite: a clash gets a ``-1``,
``-2``... suffix. Across filesystems a move copies, checks the size, then
deletes the original, so a file is never lost half-way. Time comes from the
caller (the run's clock).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ferry.clock import SystemClock
from ferry.v1 import profile_pb2, run_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ferry_domain.masking import Masker
from ferry_domain.runs.states import ErrorClass

_MAX_SUFFIX = 10_000


class RetentionError(Exception):
    """A retention step cannot be carried out (bad policy, unwritable folder).
    The file in question is left where it was; ``actions`` lists the steps
    already taken for the other files, so they can still be recorded."""

    error_class = ErrorClass.PERMANENT

    def __init__(self, message: str, actions: list[Action] | None = None) -> None:
        super().__init__(message)
        self.actions: list[Action] = list(actions or [])


@dataclass(frozen=True)
class Action:
    """One retention step. ``kind`` is the RetentionActionKind name without
    its prefix (``MOVED_TO_BACKUP``...); ``path`` is where the file now is
    (or was, for deletions); ``detail`` says where it came from or why."""

    kind: str
    path: str
    detail: str
    time: datetime

    def to_proto(self) -> run_pb2.RetentionAction:
        stamp = Timestamp()
        stamp.FromDatetime(self.time.astimezone(UTC))
        return run_pb2.RetentionAction(
            kind=run_pb2.RetentionActionKind.Value(f"RETENTION_ACTION_KIND_{self.kind}"),
            path=self.path,
            detail=self.detail,
            action_time=stamp,
        )


def dated_folder(root: Path, when: datetime) -> Path:
    """``root/YYYY/MM/DD`` for the UTC date of ``when``."""
    day = when.astimezone(UTC) if when.tzinfo else when
    return root / f"{day.year:04d}" / f"{day.month:02d}" / f"{day.day:02d}"


def _candidates(name: str) -> Iterable[str]:
    yield name
    stem, dot, suffix = name.partition(".") if not name.startswith(".") else (name, "", "")
    for n in range(1, _MAX_SUFFIX):
        yield f"{stem}-{n}{dot}{suffix}"


def move_no_clobber(source: Path, folder: Path) -> Path:
    """Move ``source`` into ``folder`` under its name, or the first free
    ``name-N`` variant; never overwrites. Returns the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in _candidates(source.name):
        target = folder / name
        try:
            # Reserve the name atomically; from here the target is ours.
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        try:
            _move_onto_reserved(source, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target
    raise RetentionError(f"no free name for {source.name} in {folder}")


def _move_onto_reserved(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)  # same filesystem: atomic rename
        return
    except OSError as exc:
        if exc.errno != getattr(os, "EXDEV", 18):
            raise
    # Another filesystem: copy beside the target, check, swap in, then delete.
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        shutil.copy2(source, partial)
        if partial.stat().st_size != source.stat().st_size:
            raise RetentionError(f"copy of {source} to {target} is incomplete; source kept")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    source.unlink()


def apply_success(
    paths: Sequence[Path], policy: profile_pb2.RetentionPolicy, now: datetime
) -> list[Action]:
    """What ``retention.on_success`` says to do with the imported files."""
    action = policy.on_success
    if action in (profile_pb2.SUCCESS_ACTION_UNSPECIFIED, profile_pb2.SUCCESS_ACTION_KEEP):
        return []
    done: list[Action] = []
    if action == profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP:
        if not policy.backup_dir:
            raise RetentionError("retention.backup_dir is required to move files to backup")
        folder = dated_folder(Path(policy.backup_dir), now)
        for path in _existing(paths):
            target = _move(path, folder, done)
            done.append(Action("MOVED_TO_BACKUP", str(target), f"from {path}", now))
    elif action == profile_pb2.SUCCESS_ACTION_DELETE:
        for path in _existing(paths):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise RetentionError(f"cannot delete {path} ({exc.strerror})", done) from None
            done.append(Action("DELETED", str(path), "imported successfully", now))
    return done


def apply_failure(
    paths: Sequence[Path], policy: profile_pb2.RetentionPolicy, now: datetime
) -> list[Action]:
    """Move failed source files to ``<failed_dir>/YYYY/MM/DD/``; without a
    failed folder they stay where they are (no action). A file already in the
    failed folder (a replay that failed again) stays, and is recorded where it
    is, so a retry finds it."""
    if not policy.failed_dir:
        return []
    root = Path(policy.failed_dir).absolute()
    folder = dated_folder(Path(policy.failed_dir), now)
    days = policy.keep_failed_days
    why = f"run failed; kept {days} days" if days > 0 else "run failed; kept until removed"
    done: list[Action] = []
    for path in _existing(paths):
        if path.absolute().is_relative_to(root):
            done.append(Action("MOVED_TO_FAILED", str(path), f"already there; {why}", now))
            continue
        target = _move(path, folder, done)
        done.append(Action("MOVED_TO_FAILED", str(target), f"from {path}; {why}", now))
    return done


def purge_failed(failed_dir: Path | str, keep_days: int, now: datetime,
                 pins: Mapping[str, datetime | None] | None = None) -> list[Action]:
    """Remove files moved to ``failed_dir`` more than ``keep_days`` full days
    before ``now`` (by their dated folder), and the emptied folders.

    ``pins`` maps the failed files that failed runs recorded to when their
    failure was released (a later live run completed), or None while it is
    not: a pinned file is kept, a released one is kept ``keep_days`` full days
    after its release. Files no run recorded follow their dated folder."""
    known = {_key(path): when for path, when in (pins or {}).items()}

    def verdict(path: Path, day: date) -> str | None:
        if _key(path) not in known:
            return _older(day, keep_days, now, "in the failed folder since")
        released = known[_key(path)]
        if released is None:
            return None
        return _older(_day(released), keep_days, now, "its failure released on")

    return _purge_dated(failed_dir, keep_days, now, verdict, "keep_failed_days")


def purge_backups(backup_dir: Path | str, keep_days: int, now: datetime) -> list[Action]:
    """Remove files moved to ``backup_dir`` more than ``keep_days`` full days
    before ``now`` (by their dated folder), and the emptied folders; 0 keeps
    backups for ever."""
    return _purge_dated(
        backup_dir, keep_days, now,
        lambda path, day: _older(day, keep_days, now, "in the backup folder since"),
        "keep_backup_days")


def _day(when: datetime) -> date:
    return when.astimezone(UTC).date() if when.tzinfo else when.date()


def _older(day: date, keep_days: int, now: datetime, since: str) -> str | None:
    """Why a file kept from ``day`` is due (more than ``keep_days`` full days
    before ``now``), or None while it is kept."""
    age = (_day(now) - day).days
    return f"{since} {day.isoformat()}, {age} days" if age > keep_days else None


def _key(path: Path | str) -> str:
    return os.path.abspath(os.path.normpath(path))


def _purge_dated(root_dir: Path | str, keep_days: int, now: datetime,
                 verdict: Callable[[Path, date], str | None], setting: str) -> list[Action]:
    """Remove each file under ``root_dir/YYYY/MM/DD`` whose ``verdict`` gives
    a reason, then the emptied folders."""
    root = Path(root_dir)
    if keep_days <= 0 or not root.is_dir():
        return []
    done: list[Action] = []
    for day, folder in _dated_folders(root):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
            reason = verdict(path, day)
            if reason is None:
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            done.append(Action("PURGED", str(path), f"{reason} > {setting} {keep_days}", now))
        _remove_empty(folder, root)
    return done


_YEAR, _MONTH, _DAY = re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$"), re.compile(r"^\d{2}$")


def _dated_folders(root: Path) -> Iterable[tuple[date, Path]]:
    for year in sorted(p for p in root.iterdir() if p.is_dir() and _YEAR.match(p.name)):
        for month in sorted(p for p in year.iterdir() if p.is_dir() and _MONTH.match(p.name)):
            for day in sorted(p for p in month.iterdir() if p.is_dir() and _DAY.match(p.name)):
                try:
                    yield date(int(year.name), int(month.name), int(day.name)), day
                except ValueError:
                    continue


def _remove_empty(folder: Path, root: Path) -> None:
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        _rmdir_quietly(path)
    current = folder
    while current != root and root in current.parents:
        if not _rmdir_quietly(current):
            break
        current = current.parent


def _rmdir_quietly(path: Path) -> bool:
    try:
        path.rmdir()
        return True
    except OSError:
        return False


def _existing(paths: Sequence[Path]) -> list[Path]:
    return [Path(p) for p in paths if Path(p).is_file()]


def _move(path: Path, folder: Path, done: list[Action]) -> Path:
    try:
        return move_no_clobber(path, folder)
    except RetentionError as exc:
        raise RetentionError(str(exc), done) from None
    except OSError as exc:
        raise RetentionError(
            f"cannot move {path} to {folder} ({exc.strerror}); kept", done
        ) from None


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def save_sample(
    rows: Iterable[Mapping[str, Any]],
    directory: Path | str,
    run_id: str,
    masker: Masker,
    now: datetime | None = None,
    limit: int | None = None,
) -> tuple[Path, Action]:
    """Write the rows, masked, to ``<directory>/<run_id>.sample.csv``
    atomically (temporary file, then rename). Columns are the union of the
    rows' keys in order of first appearance. ``now`` is the run's clock time
    (the system clock when omitted)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    masked = masker.mask_rows(rows, limit=limit)
    columns: dict[str, None] = {}
    for row in masked:
        columns.update(dict.fromkeys(row))
    name = (_SAFE_NAME.sub("_", run_id).strip("._") or "run") + ".sample.csv"
    target = folder / name
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=folder, prefix=f".{name}.", suffix=".partial",
        delete=False,
    )
    try:
        with handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            for row in masked:
                writer.writerow({k: _cell(v) for k, v in row.items()})
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    when = now or SystemClock().now()
    detail = f"{len(masked)} rows, {len(columns)} columns, masked"
    return target, Action("SAMPLE_SAVED", str(target), detail, when)


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
