"""Migrations build exactly the models' schema; ids sort by creation."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from ferry_registry.db import migrate
from ferry_registry.db.models import metadata
from ferry_registry.ids import new_id


def _check_schema(engine: sa.Engine) -> None:
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # a second start changes nothing
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_migrations_match_the_models_and_are_idempotent(tmp_path):
    _check_schema(sa.create_engine(f"sqlite:///{tmp_path / 'r.db'}"))


def test_migration_scripts_ship_inside_the_package():
    assert (migrate.MIGRATIONS / "env.py").is_file()
    assert (migrate.MIGRATIONS / "script.py.mako").is_file()
    assert list((migrate.MIGRATIONS / "versions").glob("0001_*.py"))


def test_ids_are_unique_and_sort_by_creation():
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 for i in ids)
