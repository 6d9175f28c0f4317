"""How a target writer records a batch's changes: the change rows of the
records it creates and updates, with the before- and after-images of the
changed fields, for the writer to insert in the batch's own transaction.

``ChangesetRun`` names the run a writer records for; ``ChangeRecorder``
registers it in the target (``tables.register_run``) and builds the rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ferry_domain.engine.targets.changesets.model import Action, key_part, key_text
from ferry_domain.engine.targets.changesets.tables import (
    KEYS_CREATED,
    ensure_changeset_tables,
    extend_run_range,
    forget_ensured,
    next_seq,
    register_run,
)

# (run_no, record_key, action, before, after, before_hash)
ChangeRow = tuple[int, str | None, int, str | None, str | None, int | None]
CHANGE_COLUMNS = ("run_no", "record_key", "action", "before", "after", "before_hash")


@dataclass(frozen=True)
class ChangesetRun:
    """The live run a writer records a changeset for."""

    run_id: str
    profile: str


def json_value(type_: str, value: Any) -> Any:
    """A stored value as a JSON value: booleans as booleans, lists as lists
    (SQLite keeps them as 0/1 and JSON text), decimals and dates as text."""
    if value is None:
        return None
    if type_ == "decimal":
        return str(value)
    if type_ == "boolean":
        return bool(value)
    if type_ == "list" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, int | float | str | list | dict):
        return value
    return key_part(value)


def same_value(type_: str, stored: Any, new: Any) -> bool:
    """Whether a stored value equals a new one. SQLite stores decimals as
    integers or reals where it can (numeric affinity): they compare as numbers."""
    if stored == new:
        return True
    if type_ == "decimal" and stored is not None and new is not None:
        return Decimal(str(stored)) == Decimal(str(new))
    return False


def dump(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, default=key_part)


class ChangeRecorder:
    """The change rows of one run into one entity table. ``columns`` and
    ``types``: the table's value columns in the writer's order."""

    def __init__(
        self,
        engine: sa.Engine,
        table: str,
        run: ChangesetRun,
        columns: Sequence[str],
        types: Sequence[str],
        key_index: Sequence[int],
    ) -> None:
        runs, changes = ensure_changeset_tables(engine, table)
        try:
            self.run_no = register_run(engine, runs, run.run_id, run.profile, table)
        except sa.exc.DBAPIError:
            # Dropped since this process checked them: create them again.
            forget_ensured(engine, table)
            runs, changes = ensure_changeset_tables(engine, table)
            self.run_no = register_run(engine, runs, run.run_id, run.profile, table)
        self.run_id = run.run_id
        self.changes_table = changes.name
        self.runs_table = runs.name
        # The lowest seq the open transaction's changes can have (None:
        # it recorded none yet).
        self._first: int | None = None
        self._columns = list(columns)
        self._types = list(types)
        self._single = len(key_index) == 1
        keys = set(key_index)
        self._compared = [i for i in range(len(columns)) if i not in keys]

    # -- the run's seq range, kept in each batch's transaction -------------
    def before_insert(self, conn: Any) -> None:
        """Call before inserting change rows (``conn``: DB-API connection or cursor)."""
        if self._first is None:
            self._first = next_seq(conn, self.changes_table)

    def before_commit(self, conn: Any) -> None:
        """Call before committing a transaction that may have recorded changes."""
        if self._first is not None:
            extend_run_range(conn, self.changes_table, self.runs_table, self.run_no, self._first)
            self._first = None

    def rolled_back(self) -> None:
        self._first = None

    def key(self, key: Any) -> str:
        return key_part(key) if self._single else key_text(key)

    def key_texts(self, keys: Sequence[Any]) -> list[str]:
        if self._single:
            return [k if k.__class__ is str else key_part(k) for k in keys]
        return [key_text(k) for k in keys]

    def created(self, keys: Sequence[Any]) -> ChangeRow:
        """The one change row of these created records (``KEYS_CREATED``)."""
        texts = self.key_texts(keys)
        return (self.run_no, None, KEYS_CREATED, None, json.dumps(texts, ensure_ascii=False),
                None)

    def updated(
        self, key: Any, old: Sequence[Any], new: Sequence[Any], old_hash: int | None
    ) -> ChangeRow:
        """``old`` and ``new``: the row's values in column order, as stored."""
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        columns, types = self._columns, self._types
        for i in self._compared:
            if not same_value(types[i], old[i], new[i]):
                before[columns[i]] = json_value(types[i], old[i])
                after[columns[i]] = json_value(types[i], new[i])
        return (
            self.run_no,
            self.key(key),
            int(Action.UPDATED),
            dump(before),
            dump(after),
            old_hash,
        )
