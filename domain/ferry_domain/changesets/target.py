"""The profile's target as the changeset readers see it: the entity table,
its key, its changes table and the runs table, on a connection of their own.

Values are read as the database returns them (no column types), and turned
into JSON values by the entity's field types (``json_values``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_domain.changesets.errors import ChangesetNotFoundError
from ferry_domain.engine.entities import EntitySchema, get_entity
from ferry_domain.engine.errors import EngineError, MappingError
from ferry_domain.engine.mapping import record_key_fields
from ferry_domain.engine.pipeline import target_url
from ferry_domain.engine.targets.changesets.model import (
    Action,
    FieldChange,
    RecordChange,
    key_from_text,
)
from ferry_domain.engine.targets.changesets.recorder import json_value
from ferry_domain.engine.targets.changesets.tables import (
    CHANGE_RUNS,
    KEYS_CREATED,
    changes_table,
    changes_table_name,
    runs_table,
)
from ferry_domain.engine.targets.sql_target import make_engine
from ferry_domain.engine.targets.writer import classify_db_error


@dataclass(frozen=True)
class RecordedRun:
    """A run with a changeset in the target: its number there and the seq
    range its changes lie in (None: it recorded no change)."""

    run_id: str
    run_no: int
    first_seq: int | None
    last_seq: int | None


@dataclass
class ChangesetTarget:
    """One connection to the profile's target (in a transaction)."""

    conn: sa.Connection
    schema: EntitySchema
    table_name: str
    key: tuple[str, ...]
    table_exists: bool
    # The changes and runs tables (None: no changeset was ever recorded for
    # the entity table).
    changes: sa.Table | None
    runs: sa.Table | None

    @cached_property
    def table(self) -> sa.TableClause | None:
        """The entity table with the columns it has (None: it does not exist)."""
        if not self.table_exists:
            return None
        columns = [c["name"] for c in sa.inspect(self.conn).get_columns(self.table_name)]
        return sa.table(self.table_name, *(sa.column(c) for c in columns))

    @property
    def fields(self) -> list[str]:
        """The entity's fields the table has, in schema order."""
        if self.table is None:
            return []
        present = set(self.table.c.keys())
        return [f.name for f in self.schema.fields if f.name in present]

    def type_of(self, name: str) -> str:
        spec = self.schema.field_map.get(name)
        return spec.type if spec is not None else "string"

    def json_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Stored or JSON-decoded values as JSON values; decimals as text."""
        return {k: normal(self.type_of(k), v) for k, v in values.items()}

    def changes_in(self, row: Any, run_id: str) -> list[RecordChange]:
        """The record changes a change row holds: one, or the created records
        of a ``KEYS_CREATED`` row, in the order they were created."""
        if row.action == KEYS_CREATED:
            return [
                RecordChange(run_id, key_from_text(text), Action.CREATED, (), int(row.seq))
                for text in json.loads(row.after)
            ]
        fields = self.field_changes(row.before, row.after)
        return [
            RecordChange(run_id, key_from_text(row.record_key), Action(row.action), fields,
                         int(row.seq))
        ]

    def contains_key(self, column: Any, needle: str) -> Any:
        """SQL: ``column`` (text) contains ``needle``."""
        if self.conn.dialect.name == "postgresql":
            return sa.func.strpos(column, needle) > 0
        return sa.func.instr(column, needle) > 0

    def field_changes(self, before: str | None, after: str | None) -> tuple[FieldChange, ...]:
        """A change row's images as field changes, in schema order."""
        old = self.json_values(_loads(before))
        new = self.json_values(_loads(after))
        names = [f.name for f in self.schema.fields if f.name in old or f.name in new]
        return tuple(FieldChange(n, old.get(n), new.get(n)) for n in names)

    def recorded_runs(self, *where: Any) -> list[RecordedRun]:
        """The runs with a changeset in this entity table (and ``where``)."""
        runs = self.runs
        if runs is None:
            return []
        rows = self.conn.execute(
            sa.select(runs.c.run_id, runs.c.run_no, runs.c.first_seq, runs.c.last_seq).where(
                runs.c.entity_table == self.table_name, *where
            )
        )
        return [RecordedRun(r.run_id, int(r.run_no), r.first_seq, r.last_seq) for r in rows]

    def run(self, run_id: str) -> RecordedRun:
        """The run's changeset here; ChangesetNotFoundError when it has none."""
        found = None
        if self.runs is not None:
            runs = self.runs
            found = self.conn.execute(
                sa.select(runs.c.run_no, runs.c.entity_table, runs.c.first_seq, runs.c.last_seq)
                .where(runs.c.run_id == run_id)
            ).first()
        if found is None or found.entity_table != self.table_name:
            raise ChangesetNotFoundError(
                f"run {run_id} has no changeset in table {self.table_name!r}: it wrote no "
                "records, was a dry run, ran with retention.changeset: off, or its history "
                "was purged"
            )
        return RecordedRun(run_id, int(found.run_no), found.first_seq, found.last_seq)

    def end_of(self, run: RecordedRun) -> int:
        """The seq the target's state was at when ``run`` ended: its last
        change, or for a run that changed nothing the last change of the
        runs registered before it."""
        if run.last_seq is not None:
            return run.last_seq
        runs = self.runs
        assert runs is not None
        before = self.conn.execute(
            sa.select(sa.func.max(runs.c.last_seq)).where(runs.c.run_no < run.run_no)
        ).scalar()
        return int(before or 0)

    def changes_of(self, run: RecordedRun) -> Any:
        """The WHERE clause of the run's change rows: its seq range, then its number."""
        changes = self.changes
        assert changes is not None
        if run.first_seq is None:
            return sa.false()
        return sa.and_(
            changes.c.seq.between(run.first_seq, run.last_seq), changes.c.run_no == run.run_no
        )


def normal(type_: str, value: Any) -> Any:
    """A value as a JSON value; decimals as text without trailing zeros
    (SQLite keeps 84.90 as the number 84.9, PostgreSQL as 84.90)."""
    if type_ == "decimal" and value is not None:
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return str(value)
        if number.is_finite():
            return format(number.normalize(), "f")
        return str(value)
    return json_value(type_, value)


def _loads(text: str | None) -> dict[str, Any]:
    return json.loads(text, parse_float=Decimal) if text else {}


@contextmanager
def open_changesets(
    profile: profile_pb2.Profile, default_target_url: str
) -> Iterator[ChangesetTarget]:
    """The profile's target, for reading (and rolling back) changesets;
    database errors become engine errors (transient or permanent)."""
    try:
        schema = get_entity(profile.entity_type)
    except KeyError:
        raise MappingError(f"unknown entity {profile.entity_type!r}") from None
    table_name = profile.target.table or schema.name
    engine = make_engine(target_url(profile, default_target_url))
    try:
        with engine.begin() as conn:
            names = set(sa.inspect(conn).get_table_names())
            changes = changes_table_name(table_name)
            target = ChangesetTarget(
                conn,
                schema,
                table_name,
                record_key_fields(profile.mapping, schema),
                table_name in names,
                changes_table(table_name) if changes in names else None,
                runs_table() if CHANGE_RUNS in names else None,
            )
            yield target
    except EngineError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise classify_db_error(getattr(exc, "orig", None) or exc, "target database") from None
    finally:
        engine.dispose()


