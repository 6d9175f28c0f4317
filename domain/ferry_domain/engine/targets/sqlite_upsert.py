"""SQLite upserts: per batch, BEGIN IMMEDIATE; per chunk of the batch, one
indexed pre-read of the stored (key, row hash) pairs to classify
created/updated/unchanged, then multi-row INSERT ... VALUES (...), (...)
ON CONFLICT DO UPDATE ... WHERE changed statements for the new and changed
rows only; COMMIT. Re-importing unchanged data writes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any

import sqlalchemy as sa

from ferry_domain.engine.batch import Batch, classify
from ferry_domain.engine.errors import PermanentSourceError, TransientSourceError
from ferry_domain.engine.targets.changesets.recorder import (
    CHANGE_COLUMNS,
    ChangeRecorder,
    ChangeRow,
)
from ferry_domain.engine.targets.tables import HASH_COLUMN, RUN_COLUMN, UPDATED_COLUMN
from ferry_domain.engine.targets.writer import (
    Capability,
    TargetTable,
    TargetWriter,
    sqlite_param,
)

MAX_VARIABLES = 30000
# Rows per INSERT statement, fewer for wide rows: SQLite before 3.32 takes
# at most 999 parameters per statement.
GROUP_ROWS = 50
MAX_STATEMENT_VARIABLES = 999
# Types sqlite3 binds as they are (bool is an int).
_NATIVE = ("string", "email", "integer", "boolean")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteWriter(TargetWriter):
    # Reads in a dry run happen outside a transaction on the run's one
    # connection, so a chunk's lookup is what classify would read.
    capabilities = Capability.MULTI_ROW_UPSERT | Capability.REUSABLE_LOOKUP

    def __init__(
        self,
        engine: sa.Engine,
        target: TargetTable,
        live: bool = True,
        raw: Any = None,
        *,
        run_id: str = "",
        recorder: ChangeRecorder | None = None,
    ) -> None:
        table, columns, key, exists = target.name, target.columns, target.key, target.exists
        types = target.types
        self._raw = raw if raw is not None else engine.raw_connection()
        self._con: sqlite3.Connection = self._raw.driver_connection  # type: ignore[assignment]
        self._con.isolation_level = None  # explicit BEGIN/COMMIT
        self._con.execute("PRAGMA busy_timeout = 30000")
        if live:
            # WAL keeps readers going while batches commit; with WAL,
            # synchronous=NORMAL is crash-safe (a power cut may lose only the
            # last committed batches, which a retried, idempotent run redoes).
            self._con.execute("PRAGMA journal_mode = WAL")
            self._con.execute("PRAGMA synchronous = NORMAL")
        self._exists = exists
        # A table that is empty when the run starts holds, during the first
        # source part, only rows of this run, whose keys are unique (the
        # pipeline drops duplicates): no pre-read is needed then.
        self._fresh = (
            not exists or self._con.execute(f"SELECT 1 FROM {_q(table)} LIMIT 1").fetchone() is None
        )
        self._key = key
        self._key_index = target.key_index
        self._convert = [(i, t) for i, t in enumerate(types) if t not in _NATIVE]
        self._key_convert = any(types[i] not in _NATIVE for i in self._key_index)
        t = _q(table)
        cols = [*columns, HASH_COLUMN]
        names = ", ".join(_q(c) for c in cols)
        updates = ", ".join(
            f"{_q(c)} = excluded.{_q(c)}"
            for c in [*columns, HASH_COLUMN, UPDATED_COLUMN, RUN_COLUMN]
            if c not in key
        )
        conflict = (
            f"ON CONFLICT ({', '.join(_q(k) for k in key)}) DO UPDATE SET {updates} "
            f"WHERE {t}.{_q(HASH_COLUMN)} IS NOT excluded.{_q(HASH_COLUMN)}"
        )
        head = f"INSERT INTO {t} ({names}, {_q(UPDATED_COLUMN)}, {_q(RUN_COLUMN)}) VALUES "
        self._upsert_rows = GroupedInsert(head, len(cols) + 2, conflict)
        self._run_id = run_id or None
        # The run's changeset: change rows go in with their chunk's upsert.
        self._recorder = recorder
        if recorder is not None:
            self._insert_changes = GroupedInsert(
                f"INSERT INTO {_q(recorder.changes_table)} ({', '.join(CHANGE_COLUMNS)}) VALUES ",
                len(CHANGE_COLUMNS),
            )
            self._select_rows = f"SELECT {', '.join(_q(c) for c in cols)} FROM {t} WHERE "
        key_cols = ", ".join(_q(k) for k in key)
        self._range = (
            f"SELECT {key_cols}, {_q(HASH_COLUMN)} FROM {t} "
            f"WHERE {_q(key[0])} BETWEEN ? AND ? LIMIT ?"
        )
        self._select = f"SELECT {key_cols}, {_q(HASH_COLUMN)} FROM {t} WHERE "
        self._key_in = f"{_q(key[0])} IN " if len(key) == 1 else f"({key_cols}) IN (VALUES "
        self._chunk = max(1, MAX_VARIABLES // len(key))

    def _existing(self, batch: Batch) -> dict[Any, int]:
        return self.lookup(batch.keys(self._key_index))

    def lookup(self, keys: list[Any]) -> dict[Any, int]:
        found: dict[Any, int] = {}
        if not self._exists or self._fresh:
            return found
        n = len(self._key)
        if self._key_convert:
            keys = [tuple(sqlite_param(x) for x in k) if n > 1 else sqlite_param(k) for k in keys]
        if n == 1 and keys:
            # Files are often sorted by key: one index range scan then reads
            # just the batch's neighbourhood. Used when the range holds at
            # most twice as many stored rows as the batch has keys.
            try:
                low, high = min(keys), max(keys)
            except TypeError:
                low = high = None
            if low is not None:
                limit = 2 * len(keys)
                rows = self._con.execute(self._range, (low, high, limit + 1)).fetchall()
                if len(rows) <= limit:
                    return dict(rows)
        for *k, h in self._rows_of(self._select, keys):
            found[k[0] if n == 1 else tuple(k)] = h
        return found

    def _rows_of(self, select: str, keys: list[Any]) -> Iterator[tuple]:
        """Rows of ``select`` (which ends with WHERE) for ``keys``, as stored."""
        n = len(self._key)
        for start in range(0, len(keys), self._chunk):
            part = keys[start : start + self._chunk]
            if n == 1:
                sql = select + self._key_in + "(" + ",".join("?" * len(part)) + ")"
                yield from self._con.execute(sql, part)
            else:
                params = [x for k in part for x in k]
                one = "(" + ",".join("?" * n) + ")"
                sql = select + self._key_in + ",".join([one] * len(part)) + ")"
                yield from self._con.execute(sql, params)

    def classify(self, batch: Batch) -> tuple[int, int, int]:
        try:
            created, updated, unchanged, _ = classify(batch, self._key_index, self._existing(batch))
        except sqlite3.Error as exc:
            raise _error(exc) from None
        return created, updated, unchanged

    def _stored_cols(self, batch: Batch) -> list[list[Any]]:
        """The batch's columns as SQLite stores them."""
        cols = list(batch.cols)
        for i, type_ in self._convert:
            col = cols[i]
            if type_ == "decimal":
                cols[i] = [x if x is None else str(x) for x in col]
            else:
                cols[i] = list(map(sqlite_param, col))
        return cols

    def _params(self, cols: list[list[Any]], indices: list[int] | None) -> list[Any]:
        """The parameters of the rows to write, row after row, flat."""
        now = str(datetime.now(UTC).replace(tzinfo=None))
        run = self._run_id
        if indices is None:
            n = len(cols[0])
            return list(
                chain.from_iterable(zip(*cols, repeat(now, n), repeat(run, n), strict=True))
            )
        return [x for j in indices for x in (*(c[j] for c in cols), now, run)]

    def _stored_key(self, key: Any) -> Any:
        """A batch key as SQLite stores it."""
        if not self._key_convert:
            return key
        if len(self._key) == 1:
            return sqlite_param(key)
        return tuple(sqlite_param(x) for x in key)

    def _record(
        self, batch: Batch, cols: list[list[Any]], write: list[int] | None, existing: dict[Any, int]
    ) -> None:
        """Insert the change rows of the rows about to be written: one for the
        created ones, one per updated one with the changed fields of the
        stored row."""
        recorder = self._recorder
        assert recorder is not None
        keys = batch.keys(self._key_index)
        if write is None:
            created = keys
            changed: list[int] = []
        else:
            created = [keys[j] for j in write if keys[j] not in existing]
            changed = [j for j in write if keys[j] in existing]
        recorder.before_insert(self._con)
        rows: list[ChangeRow] = [recorder.created(created)] if created else []
        n = len(self._key)
        wanted = [self._stored_key(keys[j]) for j in changed]
        stored = {}
        for row in self._rows_of(self._select_rows, wanted):
            key = tuple(row[i] for i in self._key_index)
            stored[key[0] if n == 1 else key] = row
        for j, key in zip(changed, wanted, strict=True):
            old = stored.get(key)
            if old is not None:
                rows.append(recorder.updated(keys[j], old, [c[j] for c in cols], old[-1]))
        self._insert_changes(self._con, list(chain.from_iterable(rows)))

    def begin(self) -> None:
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _error(exc) from None

    def write_chunk(self, batch: Batch) -> tuple[int, int, int]:
        """Upsert one chunk inside the open transaction; on an error the
        transaction is rolled back."""
        with self._or_roll_back():
            existing = self._existing(batch)
            created, updated, unchanged, write = classify(batch, self._key_index, existing)
            if write is None or write:
                cols = self._stored_cols(batch)
                if self._recorder is not None:
                    self._record(batch, cols, write, existing)
                self._upsert_rows(self._con, self._params(cols, write))
        return created, updated, unchanged

    def commit(self) -> None:
        with self._or_roll_back():
            if self._recorder is not None:
                self._recorder.before_commit(self._con)
            self._con.execute("COMMIT")

    @contextmanager
    def _or_roll_back(self) -> Iterator[None]:
        """Roll the open transaction back on any error; SQLite's as engine errors."""
        try:
            yield
        except BaseException as exc:
            self.rollback()
            if isinstance(exc, sqlite3.Error):
                raise _error(exc) from None
            raise

    def rollback(self) -> None:
        if self._recorder is not None:
            self._recorder.rolled_back()
        if self._con.in_transaction:
            self._con.execute("ROLLBACK")

    def end_part(self) -> None:
        """The next source part may repeat keys of this one."""
        self._fresh = False

    def close(self) -> None:
        try:
            self.rollback()
        except sqlite3.Error:
            pass  # closing rolls back as well
        self._raw.close()


class GroupedInsert:
    """Rows inserted with multi-row INSERTs of up to GROUP_ROWS rows each (a
    third less time per row than executemany's one row per statement), the
    rest one by one; ``head`` ends with VALUES, ``tail`` follows the rows."""

    def __init__(self, head: str, width: int, tail: str = "", rows: int = GROUP_ROWS) -> None:
        marks = "(" + ", ".join("?" * width) + ")"
        self._width = width
        self._group = max(1, min(rows, MAX_STATEMENT_VARIABLES // width))
        self._one = f"{head}{marks} {tail}"
        self._many = f"{head}{', '.join([marks] * self._group)} {tail}"

    def __call__(self, con: sqlite3.Connection, flat: list[Any]) -> None:
        """Insert the rows of ``flat`` (their values, row after row)."""
        step = self._group * self._width
        whole = len(flat) - len(flat) % step
        for start in range(0, whole, step):
            con.execute(self._many, flat[start : start + step])
        if whole < len(flat):
            width = self._width
            rest = flat[whole:]
            con.executemany(self._one, [rest[i : i + width] for i in range(0, len(rest), width)])


def _error(exc: sqlite3.Error) -> Exception:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and (
        "locked" in text or "busy" in text or "disk I/O" in text
    ):
        return TransientSourceError(f"SQLite target: {text}")
    return PermanentSourceError(f"SQLite target: {type(exc).__name__}: {text}")
