"""Claim decisions and the mapping of engine results to FinishRun fields."""

from __future__ import annotations

import pytest
from ferry.v1 import execution_service_pb2 as ex
from ferry_domain.engine.results import Counts, RowError
from ferry_domain.engine.results import RejectedRow as Rejected
from ferry_domain.engine.results import RunResult as Result
from ferry_domain.runs.states import ErrorClass, RunStatus
from ferry_runner.classify import Classification
from ferry_runner.outcome import (
    ClaimDecision,
    decide_claim,
    finish_from_failure,
    finish_from_result,
    result_is_transient_failure,
)


@pytest.mark.parametrize(("outcome", "decision"), [
    (ex.CLAIM_OUTCOME_CLAIMED, ClaimDecision.RUN),
    (ex.CLAIM_OUTCOME_ALREADY_CLAIMED, ClaimDecision.DUPLICATE),
    (ex.CLAIM_OUTCOME_FINISHED, ClaimDecision.DUPLICATE),
    (ex.CLAIM_OUTCOME_STALE, ClaimDecision.DUPLICATE),
    (ex.CLAIM_OUTCOME_DEFERRED, ClaimDecision.DEFERRED),
    (ex.CLAIM_OUTCOME_UNSPECIFIED, ClaimDecision.INVALID),
    (99, ClaimDecision.INVALID),  # a number this runner does not know
])
def test_decide_claim(outcome: int, decision: ClaimDecision) -> None:
    assert decide_claim(outcome) is decision


def test_warning_result_keeps_counts_first_error_and_rejects() -> None:
    result = Result(RunStatus.WARNING, Counts(rows_read=10, created=8, errors=1, skipped=1),
                    first_error=RowError(3, "price", "not a number"),
                    first_skip_reason="row 7: sku is empty", warnings=["2 rows rejected"],
                    rejected_rows=[Rejected(3, "error", "price", "not a number",
                                            {"sku": "A", "price": "x", "qty": None})],
                    rejected_columns=["sku", "price", "qty"], rows_total=10)
    plan = finish_from_result(result)
    assert plan.status == RunStatus.WARNING
    assert plan.counts == {"rows_read": 10, "created": 8, "updated": 0, "unchanged": 0,
                           "skipped": 1, "errors": 1, "written": 0, "filtered": 0,
                           "deleted": 0}
    assert (plan.first_error.row, plan.first_error.field) == (3, "price")
    assert plan.rejected_rows[0].values == {"sku": "A", "price": "x", "qty": ""}
    assert plan.rejected_columns == ("sku", "price", "qty")
    assert plan.hint == ""


def test_failed_result_gets_the_hint_of_its_class() -> None:
    plan = finish_from_result(Result(RunStatus.FAILED, error_class=ErrorClass.CREDENTIALS,
                                     error_message="HTTP 401"))
    assert (plan.status, plan.error_class, plan.error_message) == \
        (RunStatus.FAILED, ErrorClass.CREDENTIALS, "HTTP 401")
    assert "source.credentials" in plan.hint


def test_run_failed_on_the_error_threshold_points_at_the_rejected_rows() -> None:
    plan = finish_from_result(Result(RunStatus.FAILED, Counts(rows_read=20, errors=5),
                                     first_error=RowError(4, "price", "not a number"),
                                     error_class=ErrorClass.PERMANENT,
                                     error_message="too many rows in error: 5 of 20"))
    assert "error threshold" in plan.hint and "ferry runs errors" in plan.hint
    assert "row 4, field price" in plan.hint
    assert "source.location" not in plan.hint


def test_a_status_a_run_cannot_finish_with_is_refused() -> None:
    for status in (RunStatus.UNSPECIFIED, RunStatus.QUEUED, RunStatus.RUNNING):
        with pytest.raises(ValueError):
            finish_from_result(Result(status))


def test_failures() -> None:
    plan = finish_from_failure(Classification(ErrorClass.CREDENTIALS, "HTTP 403"),
                               Counts(rows_read=2))
    assert (plan.status, plan.error_class, plan.counts["rows_read"]) == \
        (RunStatus.FAILED, ErrorClass.CREDENTIALS, 2)
    assert plan.hint
    with pytest.raises(ValueError):
        finish_from_failure(Classification(ErrorClass.TRANSIENT, "reset"))
    assert result_is_transient_failure(Result(RunStatus.FAILED, error_class=ErrorClass.TRANSIENT))
    assert not result_is_transient_failure(Result(RunStatus.FAILED,
                                                  error_class=ErrorClass.PERMANENT))


def test_retention_after_success_and_failure(tmp_path) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from ferry.v1 import profile_pb2
    from ferry_runner.outcome import FinishPlan
    from ferry_runner.retention_step import apply_retention

    now = datetime(2026, 3, 4, 12, tzinfo=UTC)
    source = tmp_path / "feed.csv"
    source.write_text("sku\nA\n")
    profile = profile_pb2.Profile(
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location=str(source)),
        retention=profile_pb2.RetentionPolicy(
            on_success=profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP,
            backup_dir=str(tmp_path / "backup"), failed_dir=str(tmp_path / "failed")))
    plan = FinishPlan(status=RunStatus.COMPLETED, counts={}, source_paths=(str(source),))

    assert apply_retention(profile, plan, dry_run=True, now=now) is plan  # dry runs: no-op
    assert apply_retention(profile, FinishPlan(status=RunStatus.CANCELLED, counts={},
                                               source_paths=(str(source),)),
                           dry_run=False, now=now).retention_actions == ()
    done = apply_retention(profile, plan, dry_run=False, now=now)
    assert (tmp_path / "backup" / "2026" / "03" / "04" / "feed.csv").exists()
    assert len(done.retention_actions) == 1 and not source.exists()

    source.write_text("sku\nB\n")
    failed = apply_retention(profile, FinishPlan(status=RunStatus.FAILED, counts={},
                                                 source_paths=(str(source),)),
                             dry_run=False, now=now)
    assert (tmp_path / "failed" / "2026" / "03" / "04" / "feed.csv").exists()
    assert len(failed.retention_actions) == 1

    profile.retention.backup_dir = ""  # a bad policy: a warning, not a failed run
    source.write_text("sku\nC\n")
    warned = apply_retention(profile, plan, dry_run=False, now=now)
    assert warned.status == RunStatus.COMPLETED and source.exists()
    assert any("retention" in w for w in warned.warnings)


def test_retention_purges_unpinned_failed_files_and_old_backups(tmp_path) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    import grpc
    from ferry.v1 import profile_pb2, run_pb2
    from ferry_runner.outcome import FinishPlan
    from ferry_runner.retention_step import apply_retention

    now = datetime(2026, 3, 4, 12, tzinfo=UTC)
    old_day = ("2026", "02", "01")
    pinned, stray, backup = (tmp_path / d / "/".join(old_day) / n for d, n in (
        ("failed", "pinned.csv"), ("failed", "stray.csv"), ("backup", "feed.csv")))
    for path in (pinned, stray, backup):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("sku\n")
    profile = profile_pb2.Profile(
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE,
                                  location=str(tmp_path / "in.csv")),
        retention=profile_pb2.RetentionPolicy(
            backup_dir=str(tmp_path / "backup"), keep_backup_days=7,
            failed_dir=str(tmp_path / "failed"), keep_failed_days=7))
    failed = FinishPlan(status=RunStatus.FAILED, counts={})

    done = apply_retention(profile, failed, dry_run=False, now=now,
                           pins=lambda: {str(pinned): None})
    purged = {a.path for a in done.retention_actions
              if a.kind == run_pb2.RETENTION_ACTION_KIND_PURGED}
    assert purged == {str(stray), str(backup)} and pinned.exists()

    def unreachable():  # noqa: ANN202 - the registry is down: no failed file is purged
        raise grpc.RpcError()

    for path in (stray, backup):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("sku\n")
    kept = apply_retention(profile, failed, dry_run=False, now=now, pins=unreachable)
    assert [a.path for a in kept.retention_actions] == [str(backup)]  # backups still go
    assert pinned.exists() and stray.exists() and not backup.exists()
    assert any(w.startswith("retention: no failed files purged") for w in kept.warnings)
