"""The runner's choice of engine function by the run's operation: a ROLLBACK
run calls rollback_run (no freshness gate, sample or retention), an IMPORT run
the engine; counts.deleted reaches FinishRun; refusals end the run FAILED
with the keys; live IMPORT and ROLLBACK runs purge stale changesets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.changesets.errors import ChangesetNotFoundError, RollbackRefusedError
from ferry_domain.engine.results import Counts
from ferry_domain.engine.results import RunResult as Result
from ferry_domain.runs.states import ErrorClass, RunStatus
from ferry_runner.changeset_purge import apply_changeset_purge
from ferry_runner.execution import RunExecutor
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.operations import REFUSED_HINT, purges_changesets, reads_source
from ferry_runner.outcome import FinishPlan, counts_dict
from ferry_runner.registry import Claim, counts_message
from ferry_runner.shutdown import Shutdown

from tests.unit.runner.test_execution import FakeRegistry

IMPORT = profile_pb2.OPERATION_IMPORT
ROLLBACK = profile_pb2.OPERATION_ROLLBACK
NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)


class KeepingRegistry(FakeRegistry):
    def __init__(self, kept: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.kept = kept
        self.asked: list[list[str]] = []

    def kept_runs(self, run_ids) -> list[str]:
        self.asked.append(list(run_ids))
        return [r for r in run_ids if r in self.kept]

    def failed_file_pins(self, profile: str) -> dict:
        return {}


class Gate:
    """A freshness gate that lets every run through, counting its checks."""

    def __init__(self) -> None:
        self.checked: list[str] = []

    def check(self, claim: Claim) -> Any:
        self.checked.append(claim.run_id)
        return None


def claim_of(operation: int, *, dry_run: bool = False, rollback_of: str = "",
             force: bool = False) -> Claim:
    profile = profile_pb2.Profile(name="p", entity_type="products", operation=IMPORT)
    run = run_pb2.Run(id="run-2", profile="p", attempt=1, max_attempts=1, operation=operation,
                      dry_run=dry_run, rollback_of=rollback_of, rollback_force=force)
    return Claim(run_id="run-2", profile_name="p", attempt=1, fencing_token=3, run=run,
                 profile=profile)


def executor(registry: FakeRegistry, *, engine: Any, rollback: Any,
             gate: Gate | None = None) -> RunExecutor:
    return RunExecutor(registry, target_url="sqlite://", heartbeat_interval=0.05,  # type: ignore[arg-type]
                       metrics=RunnerMetrics(), shutdown=Shutdown(5), engine=engine,
                       progress_interval=0.02, gate=gate or Gate(),  # type: ignore[arg-type]
                       rollback=rollback)


def never(*args: Any, **kwargs: Any) -> Result:
    raise AssertionError("the wrong engine function was called")


def test_a_rollback_run_calls_rollback_run_with_the_undone_run_and_reports_deleted() -> None:
    seen: dict[str, Any] = {}

    def rollback(profile: Any, **kwargs: Any) -> Result:
        seen.update(kwargs, profile=profile.name)
        kwargs["on_progress"](Counts(rows_read=3, deleted=1))
        return Result(RunStatus.COMPLETED, Counts(rows_read=3, updated=2, deleted=1))

    registry, gate = KeepingRegistry(), Gate()
    executor(registry, engine=never, rollback=rollback, gate=gate).execute(
        claim_of(ROLLBACK, rollback_of="run-1", force=True, dry_run=True))
    assert gate.checked == []  # no freshness gate for a rollback
    assert seen["profile"] == "p" and seen["run_id"] == "run-2"
    assert seen["undo_run_id"] == "run-1" and seen["force"] is True
    assert seen["dry_run"] is True and seen["default_target_url"] == "sqlite://"
    assert not seen["should_cancel"]()
    [(plan, _)] = registry.finished
    assert plan.status is RunStatus.COMPLETED
    assert plan.counts["deleted"] == 1 and plan.counts["updated"] == 2
    assert counts_message(plan.counts).deleted == 1
    assert registry.asked == []  # a dry run purges nothing


def test_an_import_run_calls_the_engine_not_rollback_run() -> None:
    seen: dict[str, Any] = {}

    def engine(profile: Any, **kwargs: Any) -> Result:
        seen.update(kwargs)
        return Result(RunStatus.COMPLETED, Counts(rows_read=2, created=2))

    registry, gate = KeepingRegistry(), Gate()
    executor(registry, engine=engine, rollback=never, gate=gate).execute(
        claim_of(IMPORT, dry_run=True))
    assert gate.checked == ["run-2"]
    assert seen["run_id"] == "run-2" and "undo_run_id" not in seen
    assert registry.finished[0][0].counts["created"] == 2


@pytest.mark.parametrize("error, hint", [
    (RollbackRefusedError("run-1", [(("SKU-1",), "run-9"), (("SKU-2",), "run-9")]), REFUSED_HINT),
    (ChangesetNotFoundError("run run-1 has no changeset in the target"), "changeset"),
])
def test_refused_and_missing_changesets_fail_the_rollback_at_once(error, hint) -> None:
    calls = []

    def rollback(profile: Any, **kwargs: Any) -> Result:
        calls.append(1)
        raise error

    registry = KeepingRegistry()
    executor(registry, engine=never, rollback=rollback).execute(
        claim_of(ROLLBACK, rollback_of="run-1", dry_run=True))
    [(plan, _)] = registry.finished
    assert len(calls) == 1  # permanent: not retried
    assert plan.status is RunStatus.FAILED and plan.error_class is ErrorClass.PERMANENT
    assert plan.error_message == str(error) and hint in plan.hint
    if isinstance(error, RollbackRefusedError):
        assert ("SKU-1 (last written by run run-9); SKU-2 (last written by run run-9)"
                in plan.error_message)


def test_which_runs_read_a_source_and_which_purge_changesets() -> None:
    assert reads_source(claim_of(IMPORT).run) and not reads_source(claim_of(ROLLBACK).run)
    done = RunStatus.COMPLETED
    assert purges_changesets(claim_of(IMPORT).run, done)
    assert purges_changesets(claim_of(ROLLBACK).run, RunStatus.WARNING)
    assert not purges_changesets(claim_of(IMPORT, dry_run=True).run, done)
    assert not purges_changesets(claim_of(profile_pb2.OPERATION_EXPORT).run, done)
    for status in (RunStatus.UNCHANGED, RunStatus.FAILED, RunStatus.CANCELLED):
        assert not purges_changesets(claim_of(IMPORT).run, status)


def test_a_live_rollback_purges_changesets_through_the_registry() -> None:
    # The sqlite:// target has no changeset tables: nothing to purge, no warning.
    registry = KeepingRegistry()
    executor(registry, engine=never,
             rollback=lambda p, **k: Result(RunStatus.COMPLETED, Counts(updated=1))).execute(
        claim_of(ROLLBACK, rollback_of="run-1"))
    [(plan, _)] = registry.finished
    assert plan.status is RunStatus.COMPLETED and plan.warnings == ()


def plan() -> FinishPlan:
    return FinishPlan(status=RunStatus.COMPLETED, counts=counts_dict(None), warnings=("w",))


def test_purged_changesets_are_recorded_as_purged_retention_actions() -> None:
    seen: dict[str, Any] = {}

    def purge(profile: Any, **kwargs: Any) -> list[str]:
        seen.update(kwargs)
        kept = set(kwargs["kept"](["old-1", "new-1", "old-2"]))
        return sorted({"old-1", "new-1", "old-2"} - kept)

    registry = KeepingRegistry(kept=("new-1",))
    done = apply_changeset_purge(profile_pb2.Profile(name="p"), plan(), target_url="t",
                                 kept=registry.kept_runs, now=NOW, purge=purge)
    assert seen["default_target_url"] == "t"
    assert [(a.kind, a.path) for a in done.retention_actions] == [
        (run_pb2.RETENTION_ACTION_KIND_PURGED, "changeset:old-1"),
        (run_pb2.RETENTION_ACTION_KIND_PURGED, "changeset:old-2")]
    assert "its run history is gone" in done.retention_actions[0].detail
    assert done.warnings == ("w",)


def test_a_purge_that_cannot_be_done_is_a_warning() -> None:
    def purge(profile: Any, **kwargs: Any) -> list[str]:
        raise ConnectionRefusedError("target unreachable")

    done = apply_changeset_purge(profile_pb2.Profile(name="p"), plan(), target_url="t",
                                 kept=lambda ids: ids, now=NOW, purge=purge)
    assert done.status is RunStatus.COMPLETED
    assert done.warnings == ("w", "changesets: none purged (target unreachable)")
