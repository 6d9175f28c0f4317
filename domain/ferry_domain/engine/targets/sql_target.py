"""Opening the SQL target for a run: engine from the URL, table from the
entity schema (created on first use, never in a dry run), and the upsert
writer of the database (SQLite or PostgreSQL).

A long-lived process (a runner) opens the same target for every run, so the
expensive, run-independent parts are kept per process: one engine per URL
(``NullPool``: no connection stays open between runs), one ``Table`` per
(entity schema, table name), and which tables were already created or widened
here. Each run checks a SQLite table with one ``PRAGMA table_info`` on the
run's own connection (cheaper than SQLAlchemy reflection); a table that was
dropped or lost a column since is created or widened again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from ferry_domain.engine.entities import EntitySchema
from ferry_domain.engine.errors import PermanentSourceError, TransientSourceError
from ferry_domain.engine.targets.changesets.recorder import ChangeRecorder, ChangesetRun
from ferry_domain.engine.targets.sqlite_upsert import SqliteWriter
from ferry_domain.engine.targets.tables import build_table, ensure_table, table_exists
from ferry_domain.engine.targets.writer import AbsentTargetWriter, TargetTable, TargetWriter

MAX_CACHED_ENGINES = 32

_lock = threading.Lock()
_engines: dict[str, sa.Engine] = {}
_tables: dict[tuple[Any, ...], sa.Table] = {}
# (url, table, schema fields, key) created or widened by this process.
_ensured: set[tuple[Any, ...]] = set()


def make_engine(url: str) -> sa.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError:
        raise PermanentSourceError("target URL is not a valid SQLAlchemy URL") from None
    kwargs = {"poolclass": NullPool}
    return sa.create_engine(parsed, **kwargs)


def cached_engine(url: str) -> sa.Engine:
    """The process's engine for ``url`` (NullPool, so disposing it is harmless)."""
    with _lock:
        engine = _engines.get(url)
    if engine is not None:
        return engine
    engine = make_engine(url)
    with _lock:
        if len(_engines) >= MAX_CACHED_ENGINES:
            _engines.clear()
            _ensured.clear()
        return _engines.setdefault(url, engine)


def _signature(schema: EntitySchema) -> tuple[Any, ...]:
    return (schema.name, tuple((f.name, f.type) for f in schema.fields), tuple(schema.key))


def _table(schema: EntitySchema, table_name: str) -> sa.Table:
    key = (_signature(schema), table_name)
    with _lock:
        table = _tables.get(key)
        if table is None:
            table = _tables[key] = build_table(schema, table_name)
        return table


def _sqlite_columns(raw: Any, table_name: str) -> set[str]:
    quoted = '"' + table_name.replace('"', '""') + '"'
    return {row[1] for row in raw.driver_connection.execute(f"PRAGMA table_info({quoted})")}


def _open_sqlite(
    engine: sa.Engine,
    url: str,
    schema: EntitySchema,
    target: TargetTable,
    dry_run: bool,
    run: RunStamp,
) -> TargetWriter:
    ensured = (url, target.name, _signature(schema), tuple(target.key))
    raw = engine.raw_connection()
    with _released_on_error(raw.close, sqlite3.OperationalError, sqlite3.Error):
        present = _sqlite_columns(raw, target.name)
        exists = bool(present)
        if not dry_run:
            table = _table(schema, target.name)
            with _lock:
                known = ensured in _ensured
            if not known or not {c.name for c in table.columns} <= present:
                ensure_table(engine, table, target.key)
                with _lock:
                    _ensured.add(ensured)
            exists = True
        return SqliteWriter(
            engine,
            replace(target, exists=exists),
            live=not dry_run,
            raw=raw,
            run_id=run.run_id,
            recorder=run.recorder(engine, target, dry_run),
        )


@contextmanager
def _released_on_error(
    release: Callable[[], object],
    unreachable: type[Exception],
    failed: type[Exception],
) -> Iterator[None]:
    """Opening a target: on any error ``release`` the connection or engine;
    ``unreachable`` errors are transient, other ``failed`` ones permanent."""
    try:
        yield
    except unreachable as exc:
        release()
        orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
        text = str(orig).splitlines()[0] if orig is not None and str(orig) else ""
        raise TransientSourceError(
            f"target database unreachable: {text or type(exc).__name__}"
        ) from None
    except failed as exc:
        release()
        raise PermanentSourceError(f"target database: {type(exc).__name__}") from None
    except BaseException:
        release()
        raise


@dataclass(frozen=True)
class RunStamp:
    """What a live run leaves in the target: its id on the rows it writes
    (none: no id) and, with ``changeset``, its changeset."""

    run_id: str = ""
    changeset: ChangesetRun | None = None

    def recorder(
        self, engine: sa.Engine, target: TargetTable, dry_run: bool
    ) -> ChangeRecorder | None:
        if dry_run or self.changeset is None:
            return None
        return ChangeRecorder(
            engine, target.name, self.changeset, target.columns, target.types, target.key_index
        )


def open_writer(
    url: str,
    schema: EntitySchema,
    table_name: str,
    columns: list[str],
    key: tuple[str, ...],
    dry_run: bool,
    run: RunStamp | None = None,
) -> tuple[sa.Engine, TargetWriter]:
    run = run or RunStamp()
    engine = cached_engine(url)
    if dry_run and engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if database and database != ":memory:" and not Path(database).exists():
            # Connecting would create the file; a dry run creates nothing.
            return engine, AbsentTargetWriter()
    with _released_on_error(engine.dispose, sa_exc.OperationalError, sa_exc.SQLAlchemyError):
        types = [schema.field_map[c].type for c in columns]
        target = TargetTable(table_name, columns, types, key, exists=False)
        if engine.dialect.name == "sqlite":
            return engine, _open_sqlite(engine, url, schema, target, dry_run, run)
        exists = table_exists(engine, table_name)
        if not dry_run:
            ensure_table(engine, _table(schema, table_name), key)
            exists = True
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            # psycopg (a quarter second of CPU to import) loads with the first
            # PostgreSQL target, not in every process that imports the engine.
            from ferry_domain.engine.targets.postgres_upsert import PostgresWriter

            target = replace(target, exists=exists)
            return engine, PostgresWriter(
                engine, target, run_id=run.run_id, recorder=run.recorder(engine, target, dry_run)
            )
        raise PermanentSourceError(
            f"target database {engine.dialect.name}+{engine.dialect.driver} is not supported;"
            " use sqlite or postgresql+psycopg"
        )
