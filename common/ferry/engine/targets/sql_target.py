"""Opening the SQL target for a run: engine from the URL, table from the
entity schema (created on first use, never in a dry run), and the upsert
writer of the database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from ferry.engine.entities import EntitySchema
from ferry.engine.errors import PermanentSourceError, TransientSourceError
from ferry.engine.targets.tables import build_table, ensure_table, table_exists
from ferry.engine.targets.writer import AbsentTargetWriter, TargetWriter


def make_engine(url: str) -> sa.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError:
        raise PermanentSourceError("target URL is not a valid SQLAlchemy URL") from None
    kwargs = {"poolclass": NullPool}
    return sa.create_engine(parsed, **kwargs)


def open_writer(
    url: str,
    schema: EntitySchema,
    table_name: str,
    columns: list[str],
    key: tuple[str, ...],
    dry_run: bool,
) -> tuple[sa.Engine, TargetWriter]:
    engine = make_engine(url)
    if dry_run and engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if database and database != ":memory:" and not Path(database).exists():
            # Connecting would create the file; a dry run creates nothing.
            return engine, AbsentTargetWriter()
    try:
        exists = table_exists(engine, table_name)
        if not dry_run:
            ensure_table(engine, build_table(schema, table_name), key)
            exists = True
        types = [schema.field_map[c].type for c in columns]
        if engine.dialect.name == "sqlite":
            from ferry.engine.targets.sqlite_upsert import SqliteWriter

            writer: TargetWriter = SqliteWriter(
                engine, table_name, columns, key, exists, types, live=not dry_run
            )
        elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            from ferry.engine.targets.postgres_upsert import PostgresWriter

            writer = PostgresWriter(
                engine,
                table_name,
                columns,
                key,
                exists,
                [t == "list" for t in types],
                [schema.field_map[k].type for k in key],
            )
        else:
            raise PermanentSourceError(
                f"target database {engine.dialect.name}+{engine.dialect.driver} is not supported;"
                " use sqlite or postgresql+psycopg"
            )
    except sa_exc.OperationalError as exc:
        engine.dispose()
        text = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        raise TransientSourceError(f"target database unreachable: {text}") from None
    except sa_exc.SQLAlchemyError as exc:
        engine.dispose()
        raise PermanentSourceError(f"target database: {type(exc).__name__}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine, writer
