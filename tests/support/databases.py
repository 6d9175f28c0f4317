"""Throw-away PostgreSQL databases on the local server, one per use."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.support.needs import POSTGRES_URL, require_server

ADMIN_URL = POSTGRES_URL


def _admin_engine() -> sa.Engine:
    return sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def create_database(prefix: str = "ferry_test") -> str:
    """Create a fresh database and return its SQLAlchemy URL (the test is
    skipped, or failed under CI, when PostgreSQL is not there)."""
    require_server("postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = sa.make_url(url).database
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()
