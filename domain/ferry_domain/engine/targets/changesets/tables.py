"""The changeset tables in a target database, beside the entity tables.

- ``_ferry_change_runs``: one row per run that recorded a changeset: its
  number in this database (``run_no``), run id, profile, entity table.
- ``_ferry_changes_<table>``: one row per record a run wrote into
  ``<table>``: ``seq`` (the order of changes in this database), ``run_no``,
  the key as text (``model.key_text``), the action (``model.Action``), the
  before- and after-images of the changed fields as JSON text, and the row's
  stored hash before the change.

Both are created by the first live run that records a changeset, as the
entity table is; indexes serve a run's records (``run_no, seq``) and a
record's history (``record_key, seq``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ferry_domain.engine.targets.tables import ensure_table

CHANGE_RUNS = "_ferry_change_runs"
CHANGES_PREFIX = "_ferry_changes_"
# PostgreSQL's identifier limit.
MAX_NAME = 63


def changes_table_name(table: str) -> str:
    """``_ferry_changes_<table>``, shortened with a hash when too long."""
    name = CHANGES_PREFIX + table
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(table.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def runs_table(metadata: sa.MetaData | None = None) -> sa.Table:
    return sa.Table(
        CHANGE_RUNS,
        metadata or sa.MetaData(),
        sa.Column(
            "run_no",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("run_id", sa.Text(), nullable=False, unique=True),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("entity_table", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
    )


def changes_table(table: str, metadata: sa.MetaData | None = None) -> sa.Table:
    name = changes_table_name(table)
    return sa.Table(
        name,
        metadata or sa.MetaData(),
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("run_no", sa.BigInteger(), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("action", sa.SmallInteger(), nullable=False),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("before_hash", sa.BigInteger()),
        sa.Index(f"ix_{name}_run"[:MAX_NAME], "run_no", "seq"),
        sa.Index(f"ix_{name}_key"[:MAX_NAME], "record_key", "seq"),
    )


def ensure_changeset_tables(engine: sa.Engine, table: str) -> tuple[sa.Table, sa.Table]:
    """Create the runs table and ``table``'s changes table if missing."""
    runs, changes = runs_table(), changes_table(table)
    for t in (runs, changes):
        ensure_table(engine, t, tuple(c.name for c in t.primary_key.columns))
        with engine.begin() as conn:
            for index in t.indexes:
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
    return runs, changes


def register_run(engine: sa.Engine, runs: sa.Table, run_id: str, profile: str, table: str) -> int:
    """The run's number in this database, registering it on first use (a
    retried attempt of a run gets the same number)."""
    with engine.begin() as conn:
        return register_run_in(conn, runs, run_id, profile, table)


def register_run_in(
    conn: sa.Connection, runs: sa.Table, run_id: str, profile: str, table: str
) -> int:
    """``register_run`` in the caller's transaction."""
    values = {
        "run_id": run_id,
        "profile": profile,
        "entity_table": table,
        "create_time": datetime.now(UTC),
    }
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(runs).values(values).on_conflict_do_nothing())
    return conn.execute(sa.select(runs.c.run_no).where(runs.c.run_id == run_id)).scalar_one()


def has_changesets(engine: sa.Engine, table: str) -> bool:
    inspector = sa.inspect(engine)
    return inspector.has_table(CHANGE_RUNS) and inspector.has_table(changes_table_name(table))
