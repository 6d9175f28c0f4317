"""Tables built from entity schemas (SQLAlchemy Core), created on first use
and widened with new schema fields."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from ferry_domain.engine.entities import EntitySchema

HASH_COLUMN = "_ferry_hash"
UPDATED_COLUMN = "_ferry_updated_at"
# The id of the run that last wrote the row (changesets name the runs).
RUN_COLUMN = "_ferry_run_id"
# Ferry's own columns of an entity table, after the schema's fields.
META_COLUMNS = (HASH_COLUMN, UPDATED_COLUMN, RUN_COLUMN)


def column_type(type_: str) -> sa.types.TypeEngine:
    if type_ == "integer":
        return sa.BigInteger()
    if type_ == "decimal":
        return sa.Numeric(asdecimal=True)
    if type_ == "boolean":
        return sa.Boolean(create_constraint=False)
    if type_ == "date":
        return sa.Date()
    if type_ == "datetime":
        return sa.DateTime(timezone=True)
    if type_ == "list":
        return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Text()


def build_table(schema: EntitySchema, name: str, metadata: sa.MetaData | None = None) -> sa.Table:
    metadata = metadata or sa.MetaData()
    columns = [
        sa.Column(f.name, column_type(f.type), nullable=f.name not in schema.key)
        for f in schema.fields
    ]
    columns.append(sa.Column(HASH_COLUMN, sa.BigInteger()))
    columns.append(sa.Column(UPDATED_COLUMN, sa.DateTime(timezone=True)))
    columns.append(sa.Column(RUN_COLUMN, sa.Text()))
    return sa.Table(name, metadata, *columns, sa.PrimaryKeyConstraint(*schema.key))


def table_exists(engine: sa.Engine, name: str) -> bool:
    return sa.inspect(engine).has_table(name)


# What another process creating the same table or column at the same moment
# makes this one's DDL fail with (SQLite, PostgreSQL).
_LOST_RACE = ("already exists", "duplicate column", "pg_type_typname_nsp_index")
ENSURE_ATTEMPTS = 3


def ensure_table(engine: sa.Engine, table: sa.Table, key: tuple[str, ...]) -> None:
    """Create the table, add missing schema columns, and a unique index on a
    custom natural key (when the profile's key is not the entity's).

    Runners may do this for the same table at the same moment (the first runs
    of two profiles into a fresh target): a statement that lost that race is
    tried again, and then finds the table or column there."""
    for attempt in range(1, ENSURE_ATTEMPTS + 1):
        try:
            _ensure_table(engine, table, key)
            return
        except sa_exc.DBAPIError as exc:
            text = str(exc.orig)
            if attempt == ENSURE_ATTEMPTS or not any(m in text for m in _LOST_RACE):
                raise


def _ensure_table(engine: sa.Engine, table: sa.Table, key: tuple[str, ...]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
        existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        prep = conn.dialect.identifier_preparer
        for column in table.columns:
            if column.name not in existing:
                ddl = column.type.compile(dialect=conn.dialect)
                name = prep.quote(column.name)
                tname = prep.quote(table.name)
                conn.exec_driver_sql(f"ALTER TABLE {tname} ADD COLUMN {name} {ddl}")
        pk = tuple(c.name for c in table.primary_key.columns)
        if tuple(key) != pk:
            index = prep.quote(f"ux_{table.name}_{'_'.join(key)}"[:63])
            cols = ", ".join(prep.quote(k) for k in key)
            conn.exec_driver_sql(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {prep.quote(table.name)} ({cols})"
            )
