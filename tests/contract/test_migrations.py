"""The migrations build exactly the models' schema on both databases, with the
schema's own guard of one RUNNING run per profile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from ferry_domain.runs.states import RunStatus
from ferry_registry.db import migrate
from ferry_registry.db.models import RunRow, metadata
from sqlalchemy.exc import IntegrityError


def test_migrations_match_the_models_and_are_idempotent(database_url):
    engine = sa.create_engine(database_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def _run_values(run_id: str, status: int) -> dict[str, object]:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    return dict(
        id=run_id, profile="stock", status=status, entity_type="products", operation=1,
        trigger=1, dry_run=False, force=False, attempt=1, max_attempts=3, rows_read=0,
        created=0, updated=0, unchanged=0, skipped=0, errors=0, written=0, rows_total=0,
        queue_time=now, update_time=now, details=b"", rejected_columns=[], runner_id="",
        error_class=0, error_message="", hint="", retry_of="", cancel_requested=False,
        profile_revision=1, mapping_digest="", lease_seconds=30.0, fencing_token=0,
        publish_count=0)


def test_the_database_refuses_a_second_running_run_of_a_profile(database_url):
    """Invariant 6 in the schema: a partial unique index on runs(profile) WHERE
    status = RUNNING, whatever writes the rows."""
    engine = sa.create_engine(database_url)
    runs = RunRow.__table__
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(runs.insert(), [_run_values("r1", RunStatus.RUNNING),
                                         _run_values("r2", RunStatus.QUEUED),
                                         _run_values("r3", RunStatus.QUEUED),
                                         _run_values("r4", RunStatus.COMPLETED)])
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(runs.insert(), [_run_values("r5", RunStatus.RUNNING)])
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == "r2")
                         .values(status=RunStatus.RUNNING))
        with engine.begin() as conn:  # once the first ends, another may run
            conn.execute(runs.update().where(runs.c.id == "r1")
                         .values(status=RunStatus.COMPLETED))
            conn.execute(runs.update().where(runs.c.id == "r2")
                         .values(status=RunStatus.RUNNING))
            running = conn.execute(sa.select(runs.c.id).where(
                runs.c.status == RunStatus.RUNNING)).scalars().all()
        assert running == ["r2"]
    finally:
        engine.dispose()
