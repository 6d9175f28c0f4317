"""Claims (SQLite, in-process): a claim whose compare-and-set would start a
second RUNNING run of a profile is refused by the schema's index and ends
DEFERRED, never as an error; a run whose profile is gone ends FAILED as a
recorded transition (timeline and metrics)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from ferry.clock import FakeClock
from ferry.metrics import FerryMetrics
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.runs.states import ClaimVerdict, ErrorClass, RunStatus
from ferry_registry.config import RegistryConfig
from ferry_registry.server import Registry, build_registry
from ferry_registry.store import statements
from ferry_registry.store.runs import NewRun
from prometheus_client import CollectorRegistry

LEASE = timedelta(seconds=30)
RUNS = statements.RUNS
# The claim's compare-and-set without its "no other run of the profile RUNNING"
# guard: only the index stands between it and a second RUNNING run.
UNGUARDED_CLAIM = (
    sa.update(RUNS)
    .where(RUNS.c.id == sa.bindparam("b_run_id"), RUNS.c.status == RunStatus.QUEUED)
    .values(status=RunStatus.RUNNING, lease_owner=sa.bindparam("b_runner_id"),
            lease_expires_at=sa.bindparam("b_expires"),
            lease_seconds=sa.bindparam("b_lease_seconds"),
            fencing_token=RUNS.c.fencing_token + 1, start_time=sa.bindparam("b_now"),
            runner_id=sa.bindparam("b_runner_id"), update_time=sa.bindparam("b_now"))
    .returning(*RUNS.c))


@pytest.fixture
def registry(tmp_path) -> Registry:
    config = RegistryConfig(address="127.0.0.1:0",
                            database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                            state_dir=tmp_path)
    built = build_registry(config, FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)))
    yield built
    built.db.dispose()


def queued_runs(registry: Registry, count: int) -> list[run_pb2.Run]:
    registry.profiles.apply(profile_pb2.Profile(
        name="stock", entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location="/d/s.csv"),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target="sku", source="SKU"),
            profile_pb2.FieldMapping(target="name", source="Name")])))
    return [registry.runs.create(NewRun(profile="stock", trigger=run_pb2.RUN_TRIGGER_MANUAL)).run
            for _ in range(count)]


def test_a_claim_refused_by_the_index_ends_deferred(registry, monkeypatch) -> None:
    first, second = queued_runs(registry, 2)
    assert registry.claims.claim(first.id, "r1", LEASE, 0).outcome is ClaimVerdict.CLAIMED
    monkeypatch.setattr(statements, "CLAIM_UPDATE", UNGUARDED_CLAIM)

    claim = registry.claims.claim(second.id, "r2", LEASE, 0)

    assert claim.outcome is ClaimVerdict.DEFERRED
    assert claim.run.status == RunStatus.QUEUED and claim.fencing_token == 0
    assert registry.runs.get(second.id).status == RunStatus.QUEUED
    _, timeline = registry.runs.snapshot(second.id, 0)
    assert [e.message for e in timeline] == ["queued manual run, attempt 1 of 3"]


def test_the_guarded_claim_defers_without_reaching_the_index(registry) -> None:
    first, second = queued_runs(registry, 2)
    assert registry.claims.claim(first.id, "r1", LEASE, 0).outcome is ClaimVerdict.CLAIMED
    assert registry.claims.claim(second.id, "r2", LEASE, 0).outcome is ClaimVerdict.DEFERRED


def test_a_run_whose_profile_is_gone_is_refused_as_a_recorded_transition(tmp_path) -> None:
    metrics = FerryMetrics(CollectorRegistry())
    config = RegistryConfig(address="127.0.0.1:0",
                            database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                            state_dir=tmp_path)
    registry = build_registry(config, FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
                              metrics)
    try:
        (run,) = queued_runs(registry, 1)
        registry.profiles.delete("stock", force=False)

        claim = registry.claims.claim(run.id, "r1", LEASE, 0)

        assert claim.outcome is ClaimVerdict.FINISHED
        assert (claim.run.status, claim.run.error_class) == (RunStatus.FAILED,
                                                             ErrorClass.PERMANENT)
        _, timeline = registry.runs.snapshot(run.id, 0)
        assert [(e.status, e.message) for e in timeline][-1] == (
            RunStatus.FAILED, 'profile "stock" no longer exists')
        assert metrics.registry.get_sample_value(
            "ferry_runs_finished_total",
            {"status": "failed", "entity_type": "products", "operation": "import"}) == 1
    finally:
        registry.db.dispose()
