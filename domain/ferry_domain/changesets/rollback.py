"""Undoing a run: restore the before-images of the rows it updated, delete
the rows it created, bring back the rows it deleted, each with its stored
hash, in one transaction; itself a run with its own changeset, so it can be
undone too.

A run may have changed a record more than once (a key in two files of a
drop folder): the record goes back to its state before the run's first
change, field by field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_domain.changesets.errors import RollbackRefusedError
from ferry_domain.changesets.target import ChangesetTarget, RecordedRun, open_changesets
from ferry_domain.engine.results import Counts, RunResult
from ferry_domain.engine.targets.changesets.model import (
    Action,
    key_from_text,
    key_text,
)
from ferry_domain.engine.targets.changesets.recorder import dump
from ferry_domain.engine.targets.changesets.tables import (
    CHANGE_RUNS,
    extend_run_range,
    next_seq,
    register_run_in,
    runs_table,
)
from ferry_domain.engine.targets.tables import HASH_COLUMN, RUN_COLUMN, UPDATED_COLUMN
from ferry_domain.runs.states import RunStatus

# Records read, restored and recorded at a time.
CHUNK = 500


@dataclass
class _Undo:
    """What one record goes back to: absent (the run created it), or these
    field values (the first before-image of each field) with this hash."""

    key: str
    absent: bool
    fields: dict[str, Any] = field(default_factory=dict)
    before_hash: int | None = None
    # The run's last change of the record deleted it.
    left_deleted: bool = False


class _Cancelled(Exception):  # noqa: N818 - control flow: roll back everything
    pass


def rollback_run(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    run_id: str,
    undo_run_id: str,
    force: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[Counts], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> RunResult:
    """Undo ``undo_run_id`` in the profile's target as run ``run_id``.

    Refuses (RollbackRefusedError, naming the keys and the runs) when a
    later run changed any of its records, unless ``force``. A dry run checks
    and counts and writes nothing. Counts: ``rows_read`` records of the
    changeset, ``created`` rows brought back, ``updated`` rows restored,
    ``deleted`` rows removed, ``unchanged`` already as they were,
    ``skipped`` rows that cannot be restored (a later run deleted them).
    ChangesetNotFoundError when the run has none. A cancel rolls everything
    back: the run ends CANCELLED and the target is as it was."""
    counts = Counts()
    warnings: list[str] = []
    try:
        with open_changesets(profile, default_target_url) as target:
            undo = _Rollback(target, run_id, counts, warnings, dry_run)
            undos = _undos(target, target.run(undo_run_id))
            later = undo.changed_since(undos, undo_run_id)
            if later and not force:
                raise RollbackRefusedError(undo_run_id, later)
            if later:
                warnings.append(
                    f"--force: {len(later)} record(s) later runs changed were overwritten"
                )
            counts.rows_read = len(undos)
            if not dry_run and profile.retention.changeset != profile_pb2.CHANGESET_MODE_OFF:
                undo.record_as(profile.name)
            for start in range(0, len(undos), CHUNK):
                if should_cancel is not None and should_cancel():
                    raise _Cancelled()
                undo.apply(undos[start : start + CHUNK])
                if on_progress is not None:
                    on_progress(counts.copy())
            undo.finish()
    except _Cancelled:
        return RunResult(
            status=RunStatus.CANCELLED,
            counts=Counts(rows_read=counts.rows_read),
            error_message="cancelled: the rollback was undone whole; the target is unchanged",
        )
    status = RunStatus.WARNING if warnings or counts.skipped else RunStatus.COMPLETED
    if counts.skipped:
        warnings.append(
            f"{counts.skipped} record(s) could not be restored: a later run deleted them"
        )
    return RunResult(status=status, counts=counts, warnings=warnings)


def _undos(target: ChangesetTarget, run: RecordedRun) -> list[_Undo]:
    """Per record the run changed, in the order it first changed them."""
    changes = target.changes
    assert changes is not None
    rows = target.conn.execute(
        sa.select(changes)
        .where(target.changes_of(run))
        .order_by(changes.c.seq)
        .execution_options(yield_per=CHUNK)
    )
    undos: dict[str, _Undo] = {}
    for row in rows:
        for change in target.changes_in(row, run.run_id):
            text = key_text(change.key)
            undo = undos.get(text)
            if undo is None:
                created = change.action is Action.CREATED
                undo = undos[text] = _Undo(text, created, {}, row.before_hash)
            undo.left_deleted = change.action is Action.DELETED
            if not undo.absent:
                for field_change in change.fields:
                    undo.fields.setdefault(field_change.field, field_change.before)
    return list(undos.values())


class _Rollback:
    """Applies undos to the target on the rollback's connection, and records
    the rollback's own changeset (unless it is a dry run)."""

    def __init__(
        self,
        target: ChangesetTarget,
        run_id: str,
        counts: Counts,
        warnings: list[str],
        dry_run: bool,
    ) -> None:
        self.t = target
        self.run_id = run_id
        self.counts = counts
        self.warnings = warnings
        self.dry_run = dry_run
        self.run_no: int | None = None  # recording the rollback's changeset
        self._first: int | None = None  # the lowest seq of its changes
        self.sqlite = target.conn.dialect.name == "sqlite"

    def record_as(self, profile: str) -> None:
        self.run_no = register_run_in(
            self.t.conn, runs_table(), self.run_id, profile, self.t.table_name
        )

    def changed_since(self, undos: Sequence[_Undo], undo_run_id: str) -> list[tuple[Any, str]]:
        """The records another run wrote after ``undo_run_id`` (key, the run
        that wrote the row last; "" when the row is gone): every write stamps
        the row with its run, so a row the run left is still stamped with it."""
        later: list[tuple[Any, str]] = []
        for start in range(0, len(undos), CHUNK):
            part = undos[start : start + CHUNK]
            current = self._current([u.key for u in part])
            for undo in part:
                row = current.get(undo.key)
                if undo.left_deleted:
                    if row is not None:
                        later.append((key_from_text(undo.key), row.get(RUN_COLUMN) or ""))
                elif row is None:
                    later.append((key_from_text(undo.key), ""))
                elif row.get(RUN_COLUMN) != undo_run_id:
                    later.append((key_from_text(undo.key), row.get(RUN_COLUMN) or ""))
        return later

    def apply(self, undos: Sequence[_Undo]) -> None:
        current = self._current([u.key for u in undos])
        changes: list[dict[str, Any]] = []
        for undo in undos:
            row = current.get(undo.key)
            change = self._undo(undo, row)
            if change is not None:
                changes.append(change)
        if changes and self.run_no is not None and not self.dry_run:
            assert self.t.changes is not None
            if self._first is None:
                self._first = next_seq(self._raw(), self.t.changes.name)
            self.t.conn.execute(sa.insert(self.t.changes), changes)

    def finish(self) -> None:
        """Record the seq range of the rollback's own changes."""
        if self._first is not None and self.run_no is not None:
            assert self.t.changes is not None
            extend_run_range(self._raw(), self.t.changes.name, CHANGE_RUNS, self.run_no,
                             self._first)

    def _raw(self) -> Any:
        """The DB-API connection under the rollback's transaction."""
        return self.t.conn.connection.driver_connection

    def _undo(self, undo: _Undo, row: dict[str, Any] | None) -> dict[str, Any] | None:
        counts = self.counts
        if undo.absent:
            if row is None:
                counts.unchanged += 1
                return None
            counts.deleted += 1
            self._write(sa.delete, undo.key)
            values = self.t.json_values({f: row[f] for f in self.t.fields})
            return self._change(undo.key, Action.DELETED, dump(values), None, row[HASH_COLUMN])
        if row is None:
            if set(self.t.fields) - set(undo.fields):
                counts.skipped += 1
                return None
            counts.created += 1
            self._insert(undo)
            return self._change(undo.key, Action.CREATED, None, None, None)
        now = self.t.json_values({f: row[f] for f in undo.fields if f in row})
        restored = {f: v for f, v in undo.fields.items() if now.get(f) != v}
        if not restored and row[HASH_COLUMN] == undo.before_hash:
            counts.unchanged += 1
            return None
        counts.updated += 1
        self._write(sa.update, undo.key, self._values(undo, restored))
        before = {f: now.get(f) for f in restored}
        return self._change(
            undo.key, Action.UPDATED, dump(before), dump(restored), row[HASH_COLUMN]
        )

    # -- the target ------------------------------------------------------------
    def _current(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        table = self.t.table
        if table is None:
            return {}
        columns = [table.c[k] for k in self.t.key]
        parts = [key_from_text(k) for k in keys]
        if len(columns) == 1:
            where = columns[0].in_([p[0] for p in parts])
        else:
            where = sa.tuple_(*columns).in_(parts)
        found: dict[str, dict[str, Any]] = {}
        for row in self.t.conn.execute(sa.select(table).where(where)):
            stored = dict(row._mapping)
            found[key_text([stored[k] for k in self.t.key])] = stored
        return found

    def _where(self, key: str) -> list[Any]:
        table = self.t.table
        assert table is not None
        parts = key_from_text(key)
        return [table.c[k] == v for k, v in zip(self.t.key, parts, strict=True)]

    def _values(self, undo: _Undo, fields: dict[str, Any]) -> dict[str, Any]:
        values = {f: self._param(f, v) for f, v in fields.items()}
        values[HASH_COLUMN] = undo.before_hash
        values[UPDATED_COLUMN] = self._now()
        values[RUN_COLUMN] = self.run_id
        return values

    def _write(self, statement: Any, key: str, values: dict[str, Any] | None = None) -> None:
        if self.dry_run:
            return
        table = self.t.table
        query = statement(table).where(*self._where(key))
        self.t.conn.execute(query.values(values) if values else query)

    def _insert(self, undo: _Undo) -> None:
        if self.dry_run:
            return
        self.t.conn.execute(sa.insert(self.t.table).values(self._values(undo, undo.fields)))

    def _param(self, name: str, value: Any) -> Any:
        """A JSON value as the target stores it."""
        if value is None:
            return None
        type_ = self.t.type_of(name)
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False)
        if type_ == "boolean":
            return int(bool(value)) if self.sqlite else bool(value)
        if type_ == "decimal":
            return str(value)
        return value

    def _now(self) -> Any:
        now = datetime.now(UTC)
        return str(now.replace(tzinfo=None)) if self.sqlite else now

    def _change(
        self, key: str, action: Action, before: str | None, after: str | None, old_hash: Any
    ) -> dict[str, Any]:
        return {
            "run_no": self.run_no,
            "record_key": key,
            "action": int(action),
            "before": before,
            "after": after,
            "before_hash": old_hash,
        }

