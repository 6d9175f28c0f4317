"""The changeset tables in a target database, beside the entity tables.

- ``_ferry_change_runs``: one row per run that recorded a changeset: its
  number in this database (``run_no``), run id, profile, entity table, and
  the range of ``seq`` its changes lie in.
- ``_ferry_changes_<table>``: one row per record a run wrote into
  ``<table>``: ``seq`` (the order of changes in this database), ``run_no``,
  the key as text (``model.key_text``), the action (``model.Action``), the
  before- and after-images of the changed fields as JSON text, and the row's
  stored hash before the change.

Both are created by the first live run that records a changeset, as the
entity table is. A run's changes are found by their ``seq`` range; one
index serves a record's history (``record_key, seq``): an index on the run
as well cost a third more per change recorded.


Created records are stored many to a row (``KEYS_CREATED``); readers
expand them. Whether a later run changed a record is told by the entity
row's ``_ferry_run_id`` (every write stamps it), not by the changes."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ferry_domain.engine.targets.tables import ensure_table

CHANGE_RUNS = "_ferry_change_runs"
CHANGES_PREFIX = "_ferry_changes_"
# The stored action of one row for many created records (a chunk's or a
# batch's): ``after`` holds their keys, a JSON list of key texts in the order
# they were created, and ``record_key`` is NULL. Created records are most of
# a first import, and one indexed row each cost more than the import itself.
KEYS_CREATED = 9
# PostgreSQL's identifier limit.
MAX_NAME = 63
MAX_ENSURED = 64

_lock = threading.Lock()
# (database URL, entity table) -> its changeset tables, created or checked here.
_ensured: dict[tuple[str, str], tuple[sa.Table, sa.Table]] = {}


def changes_table_name(table: str) -> str:
    """``_ferry_changes_<table>``, shortened with a hash when too long."""
    name = CHANGES_PREFIX + table
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(table.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def _serial(name: str) -> sa.Column:
    """An ascending integer primary key (SQLite's rowid)."""
    return sa.Column(
        name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
        autoincrement=True,
    )


def runs_table(metadata: sa.MetaData | None = None) -> sa.Table:
    return sa.Table(
        CHANGE_RUNS,
        metadata or sa.MetaData(),
        _serial("run_no"),
        sa.Column("run_id", sa.Text(), nullable=False, unique=True),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("entity_table", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        # Every change of the run has a seq in [first_seq, last_seq] (changes
        # of other runs may be interleaved): a run's changes are read by
        # this range of the primary key, with no index on run_no to keep up.
        sa.Column("first_seq", sa.BigInteger()),
        sa.Column("last_seq", sa.BigInteger()),
    )


def changes_table(table: str, metadata: sa.MetaData | None = None) -> sa.Table:
    name = changes_table_name(table)
    return sa.Table(
        name,
        metadata or sa.MetaData(),
        _serial("seq"),
        sa.Column("run_no", sa.BigInteger(), nullable=False),
        # NULL on a KEYS_CREATED row.
        sa.Column("record_key", sa.Text()),
        sa.Column("action", sa.SmallInteger(), nullable=False),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("before_hash", sa.BigInteger()),
        sa.Index(f"ix_{name}_key"[:MAX_NAME], "record_key", "seq"),
    )


def ensure_changeset_tables(engine: sa.Engine, table: str) -> tuple[sa.Table, sa.Table]:
    """Create the runs table and ``table``'s changes table if missing; once
    per process and database (a runner opens the same target for every run)."""
    ensured = (engine.url.render_as_string(hide_password=False), table)
    with _lock:
        known = _ensured.get(ensured)
    if known is not None:
        return known
    runs, changes = runs_table(), changes_table(table)
    for t in (runs, changes):
        ensure_table(engine, t, tuple(c.name for c in t.primary_key.columns))
        with engine.begin() as conn:
            for index in t.indexes:
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
    with _lock:
        if len(_ensured) >= MAX_ENSURED:
            _ensured.clear()
        _ensured[ensured] = (runs, changes)
    return runs, changes


def forget_ensured(engine: sa.Engine, table: str) -> None:
    """Check the tables again next time (they may have been dropped)."""
    with _lock:
        _ensured.pop((engine.url.render_as_string(hide_password=False), table), None)


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


def extend_run_range(conn: Any, changes: str, runs: str, run_no: int, first: int) -> None:
    """After a transaction's changes of run ``run_no``, all with a seq above
    ``first - 1``: widen the run's seq range to cover them (same transaction).
    ``conn``: a DB-API connection or cursor (``?`` or ``%s`` placeholders are
    not portable, so the values are integers formatted in)."""
    last = conn.execute(f"SELECT max(seq) FROM {quoted(changes)}").fetchone()[0]
    if last is None or last < first:
        return
    conn.execute(
        f"UPDATE {quoted(runs)} SET first_seq = coalesce(first_seq, {int(first)}), "
        f"last_seq = {int(last)} WHERE run_no = {int(run_no)}"
    )


def next_seq(conn: Any, changes: str) -> int:
    """The lowest seq the changes this transaction inserts next can have."""
    last = conn.execute(f"SELECT max(seq) FROM {quoted(changes)}").fetchone()[0]
    return (last or 0) + 1


def quoted(name: str) -> str:
    """An identifier quoted for SQLite and PostgreSQL."""
    return '"' + name.replace('"', '""') + '"'
