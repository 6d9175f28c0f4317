"""SQLite upserts: per batch, BEGIN IMMEDIATE, one indexed pre-read of the
stored (key, row hash) pairs to classify created/updated/unchanged, then one
executemany of INSERT ... ON CONFLICT DO UPDATE ... WHERE changed for the
new and changed rows only, COMMIT. Re-importing unchanged data writes
nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ferry.engine.errors import PermanentSourceError, TransientSourceError
from ferry.engine.targets.tables import HASH_COLUMN, UPDATED_COLUMN
from ferry.engine.targets.writer import TargetWriter, classify_against, sqlite_param

MAX_VARIABLES = 30000


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteWriter(TargetWriter):
    def __init__(
        self,
        engine: sa.Engine,
        table: str,
        columns: list[str],
        key: tuple[str, ...],
        exists: bool,
        convert: list[bool],
    ) -> None:
        self._raw = engine.raw_connection()
        self._con: sqlite3.Connection = self._raw.driver_connection  # type: ignore[assignment]
        self._con.isolation_level = None  # explicit BEGIN/COMMIT
        self._con.execute("PRAGMA busy_timeout = 30000")
        self._exists = exists
        self._key = key
        self._key_index = tuple(columns.index(k) for k in key)
        self._convert = [i for i, c in enumerate(convert) if c]
        t = _q(table)
        cols = [*columns, HASH_COLUMN]
        names = ", ".join(_q(c) for c in cols)
        marks = ", ".join("?" for _ in cols)
        updates = ", ".join(
            f"{_q(c)} = excluded.{_q(c)}"
            for c in [*columns, HASH_COLUMN, UPDATED_COLUMN]
            if c not in key
        )
        self._upsert = (
            f"INSERT INTO {t} ({names}, {_q(UPDATED_COLUMN)}) VALUES ({marks}, CURRENT_TIMESTAMP) "
            f"ON CONFLICT ({', '.join(_q(k) for k in key)}) DO UPDATE SET {updates} "
            f"WHERE {t}.{_q(HASH_COLUMN)} IS NOT excluded.{_q(HASH_COLUMN)}"
        )
        key_cols = ", ".join(_q(k) for k in key)
        self._select = f"SELECT {key_cols}, {_q(HASH_COLUMN)} FROM {t} WHERE "
        if len(key) == 1:
            self._select += f"{_q(key[0])} IN "
        else:
            self._select += f"({key_cols}) IN (VALUES "
        self._chunk = max(1, MAX_VARIABLES // len(key))

    def _existing(self, rows: Sequence[list[Any]]) -> dict[Any, int]:
        found: dict[Any, int] = {}
        if not self._exists:
            return found
        n = len(self._key)
        for start in range(0, len(rows), self._chunk):
            part = rows[start : start + self._chunk]
            if n == 1:
                i = self._key_index[0]
                params = [sqlite_param(r[i]) for r in part]
                sql = self._select + "(" + ",".join("?" * len(part)) + ")"
                for k, h in self._con.execute(sql, params):
                    found[k] = h
            else:
                params = [sqlite_param(r[i]) for r in part for i in self._key_index]
                one = "(" + ",".join("?" * n) + ")"
                sql = self._select + ",".join([one] * len(part)) + ")"
                for *k, h in self._con.execute(sql, params):
                    found[tuple(k)] = h
        return found

    def classify(self, rows: Sequence[list[Any]]) -> tuple[int, int, int]:
        try:
            created, updated, unchanged, _ = classify_against(
                rows, self._key_index, self._existing(rows)
            )
        except sqlite3.Error as exc:
            raise _error(exc) from None
        return created, updated, unchanged

    def _params(self, rows: list[list[Any]]) -> list[list[Any]]:
        if not self._convert:
            return rows
        out = []
        conv = self._convert
        for row in rows:
            row = list(row)
            for i in conv:
                value = row[i]
                if value is not None and value.__class__ is not str:
                    row[i] = sqlite_param(value)
            out.append(row)
        return out

    def write(self, rows: Sequence[list[Any]]) -> tuple[int, int, int]:
        con = self._con
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                created, updated, unchanged, to_write = classify_against(
                    rows, self._key_index, self._existing(rows)
                )
                if to_write:
                    con.executemany(self._upsert, self._params(to_write))
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _error(exc) from None
        return created, updated, unchanged

    def close(self) -> None:
        self._raw.close()


def _error(exc: sqlite3.Error) -> Exception:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and (
        "locked" in text or "busy" in text or "disk I/O" in text
    ):
        return TransientSourceError(f"SQLite target: {text}")
    return PermanentSourceError(f"SQLite target: {type(exc).__name__}: {text}")
