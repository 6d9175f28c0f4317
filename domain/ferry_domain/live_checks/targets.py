"""Can the run write its target? Nothing is written: every probe runs inside
a transaction that is rolled back.

- The URL is ``target.dsn_ref`` resolved, else the registry's
  ``FERRY_TARGET_URL``; the table is ``target.table`` or the entity's name.
- SQLite file that does not exist yet: its folder must exist and be writable
  (no file is created).
- The table exists: it has every column of the entity schema (else the
  missing ones fail the check); PostgreSQL checks INSERT and UPDATE privileges on it;
  SQLite checks the file takes writes (a scratch table created and rolled back).
- The table does not exist: it is created from the entity schema, then rolled
  back (proves CREATE permission).
- Exports read the table, so it must exist; the export directory must be writable.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from ferry.secrets import SecretError, SecretRedactor, resolve_secret
from ferry.v1 import profile_pb2
from sqlalchemy.pool import NullPool

from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.targets.tables import build_table
from ferry_domain.live_checks.results import (
    EXPORT_DIRECTORY,
    TARGET,
    CheckResult,
    failed,
    first_line,
    ok,
)
from ferry_domain.live_checks.sources import TIMEOUT_SECONDS, connect_args


def _engine(url: sa.engine.URL) -> sa.Engine:
    engine = sa.create_engine(url, poolclass=NullPool,
                              connect_args=connect_args(url, TIMEOUT_SECONDS / 2))
    if engine.dialect.name == "sqlite":
        # pysqlite runs DDL outside transactions; begin explicitly so the
        # probe's CREATE TABLE is rolled back (SQLAlchemy's documented recipe).
        @sa.event.listens_for(engine, "connect")
        def _autocommit(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def _where(profile: profile_pb2.Profile, default_url: str) -> tuple[str, str]:
    """(URL, how it was chosen) or raise SecretError/ValueError."""
    if profile.target.dsn_ref:
        return resolve_secret(profile.target.dsn_ref), f"secret {profile.target.dsn_ref}"
    if not default_url:
        raise ValueError("no target: target.dsn_ref is empty and the registry has no "
                         "FERRY_TARGET_URL")
    return default_url, "FERRY_TARGET_URL"


def _shown(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


def check_target(profile: profile_pb2.Profile, default_url: str) -> list[CheckResult]:
    try:
        text, origin = _where(profile, default_url)
        url = sa.engine.make_url(text)
    except (SecretError, ValueError) as exc:
        return [failed(TARGET, first_line(exc))]
    except sa.exc.ArgumentError:
        return [failed(TARGET, f"the target URL from {_origin_of(profile)} is not a valid "
                               "SQLAlchemy URL")]
    redactor = SecretRedactor([text] + ([str(url.password)] if url.password else []))
    try:
        schema = get_entity(profile.entity_type)
    except KeyError:
        return [failed(TARGET, f"unknown entity type {profile.entity_type!r}")]
    table = profile.target.table or schema.name
    export = profile.operation == profile_pb2.OPERATION_EXPORT
    where = f"{_shown(url)} (from {origin})"
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        missing = _missing_sqlite_file(Path(url.database), where, export)
        if missing is not None:
            return [missing, *(_export_directory(profile) if export else [])]
    try:
        engine = _engine(url)
    except Exception as exc:  # noqa: BLE001 - a driver that is not installed, ...
        return [failed(TARGET, f"cannot use {where}: {type(exc).__name__}")]
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            result = _probe(conn, schema, table, where, export)
            transaction.rollback()
    except sa.exc.SQLAlchemyError as exc:
        result = failed(TARGET, redactor.redact(
            f"{'cannot read' if export else 'cannot write'} {where}: {first_line(exc)}"))
    finally:
        engine.dispose()
    return [result, *(_export_directory(profile) if export else [])]


def _origin_of(profile: profile_pb2.Profile) -> str:
    return f"secret {profile.target.dsn_ref}" if profile.target.dsn_ref else "FERRY_TARGET_URL"


def _missing_sqlite_file(path: Path, where: str, export: bool) -> CheckResult | None:
    if path.exists():
        return None
    folder = path.parent
    if export:
        return failed(TARGET, f"database file {path} does not exist: nothing to export yet")
    if not folder.is_dir():
        return failed(TARGET, f"cannot write {where}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        return failed(TARGET, f"cannot write {where}: folder {folder} is not writable")
    return ok(TARGET, f"database file {path} does not exist yet; the first live run creates "
                      f"it in the writable folder {folder}")


def _probe(conn: sa.Connection, schema, table: str, where: str, export: bool) -> CheckResult:
    exists = sa.inspect(conn).has_table(table)
    if export:
        if not exists:
            return failed(TARGET, f"table {table} does not exist in {where}: nothing to export")
        conn.execute(sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1))
        return ok(TARGET, f"table {table} in {where} is readable")
    if not exists:
        build_table(schema, table).create(conn)
        return ok(TARGET, f"table {table} does not exist yet in {where} and can be created "
                          "(checked in a rolled-back transaction)")
    present = {column["name"] for column in sa.inspect(conn).get_columns(table)}
    missing = [c.name for c in build_table(schema, table).columns if c.name not in present]
    if missing:
        return failed(TARGET, f"table {table} in {where} lacks the columns "
                              f"{', '.join(missing)} of entity {schema.name}")
    if conn.dialect.name == "postgresql":
        allowed = conn.execute(sa.text(
            "SELECT has_table_privilege(:t, 'INSERT') AND has_table_privilege(:t, 'UPDATE')"),
            {"t": table}).scalar()
        if not allowed:
            return failed(TARGET, f"table {table} in {where} exists but this login may not "
                                  "INSERT and UPDATE it")
    else:
        scratch = f"_ferry_validate_{uuid.uuid4().hex[:12]}"
        conn.exec_driver_sql(f'CREATE TABLE "{scratch}" (x INTEGER)')
        conn.exec_driver_sql(f'INSERT INTO "{scratch}" VALUES (1)')
    return ok(TARGET, f"table {table} exists in {where} and is writable "
                      "(checked in a rolled-back transaction)")


def _export_directory(profile: profile_pb2.Profile) -> list[CheckResult]:
    folder = Path(profile.export.directory)
    if folder.is_dir():
        if os.access(folder, os.W_OK | os.X_OK):
            return [ok(EXPORT_DIRECTORY, f"{folder} is writable")]
        return [failed(EXPORT_DIRECTORY, f"{folder} is not writable")]
    parent = next((p for p in folder.parents if p.exists()), None)
    if parent is not None and parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
        return [ok(EXPORT_DIRECTORY, f"{folder} does not exist yet; the export creates it "
                                     f"under the writable {parent}")]
    return [failed(EXPORT_DIRECTORY, f"{folder} does not exist and cannot be created")]
