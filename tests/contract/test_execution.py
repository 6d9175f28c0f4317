"""ExecutionService contract: claims, leases, fencing, reaper, finish."""

from __future__ import annotations

import threading
from datetime import timedelta

import grpc
from ferry.v1 import execution_service_pb2, profile_pb2, run_pb2, run_service_pb2

from tests.contract.helpers import (
    Outcome,
    apply,
    claim,
    expect_error,
    finish,
    get_run,
    profile,
    start_run,
    violated_fields,
)


def _events(client, run_id):
    return list(client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(
        run_id=run_id)).events)


def test_claim_is_exclusive_under_concurrent_claimers(client):
    apply(client)
    run = start_run(client)
    outcomes: list[int] = []
    barrier = threading.Barrier(8)

    def contend(index: int) -> None:
        barrier.wait()
        outcomes.append(claim(client, run.id, f"runner-{index}").outcome)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(Outcome.CLAIM_OUTCOME_CLAIMED) == 1
    assert outcomes.count(Outcome.CLAIM_OUTCOME_ALREADY_CLAIMED) == 7
    claimed = get_run(client, run.id)
    assert claimed.status == run_pb2.RUN_STATUS_RUNNING
    assert claimed.runner_id.startswith("runner-")


def test_claim_returns_profile_token_and_lease(client, clock):
    apply(client)
    run = start_run(client)
    claimed = claim(client, run.id, lease=timedelta(seconds=20))
    assert claimed.outcome == Outcome.CLAIM_OUTCOME_CLAIMED
    assert claimed.fencing_token == 1
    assert claimed.profile.name == "stock"
    assert claimed.lease_expire_time.ToDatetime().replace(tzinfo=clock.now().tzinfo) == \
        clock.now() + timedelta(seconds=20)
    assert claimed.run.start_time.seconds > 0
    statuses = [e.status for e in _events(client, run.id)]
    assert statuses == [run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_RUNNING]


def test_a_negative_or_huge_lease_is_refused_naming_the_field(client):
    apply(client)
    run = start_run(client)
    for lease in (timedelta(seconds=-5), timedelta(days=2)):
        exc = expect_error(grpc.StatusCode.INVALID_ARGUMENT, claim, client, run.id, lease=lease)
        assert violated_fields(exc) == {"lease_duration"}
    assert get_run(client, run.id).status == run_pb2.RUN_STATUS_QUEUED
    assert claim(client, run.id).outcome == Outcome.CLAIM_OUTCOME_CLAIMED


def test_claim_outcomes_finished_stale_deferred(client):
    apply(client)
    first = start_run(client)
    second = start_run(client)
    claimed = claim(client, first.id)
    assert claim(client, second.id, "runner-2").outcome == Outcome.CLAIM_OUTCOME_DEFERRED
    assert claim(client, second.id, "runner-2", attempt=2).outcome == Outcome.CLAIM_OUTCOME_STALE
    finish(client, claimed)
    assert claim(client, first.id, "runner-2").outcome == Outcome.CLAIM_OUTCOME_FINISHED
    assert claim(client, second.id, "runner-2", attempt=1).outcome == \
        Outcome.CLAIM_OUTCOME_CLAIMED
    expect_error(grpc.StatusCode.NOT_FOUND, claim, client, "no-such-run")


def test_heartbeat_extends_lease_and_reports_cancel(client, clock):
    apply(client)
    run = start_run(client)
    claimed = claim(client, run.id, lease=timedelta(seconds=10))
    clock.advance(timedelta(seconds=8))
    beat = client.execution.HeartbeatRun(execution_service_pb2.HeartbeatRunRequest(
        run_id=run.id, runner_id="runner-1", fencing_token=claimed.fencing_token))
    assert beat.lease_expire_time.ToDatetime().replace(tzinfo=clock.now().tzinfo) == \
        clock.now() + timedelta(seconds=10)
    assert not beat.cancel_requested
    client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run.id, reason="wrong file"))
    beat = client.execution.HeartbeatRun(execution_service_pb2.HeartbeatRunRequest(
        run_id=run.id, runner_id="runner-1", fencing_token=claimed.fencing_token))
    assert beat.cancel_requested
    done = finish(client, claimed, run_pb2.RUN_STATUS_CANCELLED)
    assert done.status == run_pb2.RUN_STATUS_CANCELLED


def test_reaper_requeues_then_fencing_rejects_the_stale_runner(client, clock, reap):
    apply(client)
    run = start_run(client)
    old = claim(client, run.id, "runner-old", lease=timedelta(seconds=10))
    clock.advance(timedelta(seconds=5))
    assert reap() == 0
    clock.advance(timedelta(seconds=6))
    assert reap() == 1
    requeued = get_run(client, run.id)
    assert requeued.status == run_pb2.RUN_STATUS_QUEUED
    assert requeued.attempt == 2
    types = [e.type for e in _events(client, run.id)]
    assert run_pb2.RUN_EVENT_TYPE_LEASE_EXPIRED in types

    stale = expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.execution.HeartbeatRun,
                         execution_service_pb2.HeartbeatRunRequest(
                             run_id=run.id, runner_id="runner-old",
                             fencing_token=old.fencing_token))
    assert "lease lost" in stale.details()
    assert claim(client, run.id, "runner-new", attempt=1).outcome == Outcome.CLAIM_OUTCOME_STALE
    # The same runner id claims again (e.g. restarted): only the token tells them apart.
    new = claim(client, run.id, "runner-old", attempt=2)
    assert new.outcome == Outcome.CLAIM_OUTCOME_CLAIMED
    assert new.fencing_token == old.fencing_token + 1
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.execution.FinishRun,
                 execution_service_pb2.FinishRunRequest(
                     run_id=run.id, runner_id="runner-old", fencing_token=old.fencing_token,
                     status=run_pb2.RUN_STATUS_COMPLETED, new_freshness_token="stale"))
    # The stale finish wrote nothing.
    assert get_run(client, run.id).status == run_pb2.RUN_STATUS_RUNNING
    token = client.execution.GetFreshnessToken(
        execution_service_pb2.GetFreshnessTokenRequest(profile="stock"))
    assert token.token == ""


def test_reaper_fails_the_run_when_attempts_are_exhausted(client, clock, reap):
    apply(client, profile(max_attempts=2))
    run = start_run(client)
    assert run.max_attempts == 2
    for attempt in (1, 2):
        claimed = claim(client, run.id, f"runner-{attempt}", lease=timedelta(seconds=5))
        assert claimed.outcome == Outcome.CLAIM_OUTCOME_CLAIMED
        clock.advance(timedelta(seconds=6))
        assert reap() == 1
    failed = get_run(client, run.id)
    assert failed.status == run_pb2.RUN_STATUS_FAILED
    assert failed.error_class == run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED
    assert "attempt 2 of 2" in failed.error_message
    assert "lease expired" in failed.error_message
    assert failed.end_time.seconds > 0


def test_finish_advances_freshness_only_for_live_completed_or_warning(client):
    apply(client)
    store = client.execution.GetFreshnessToken
    request = execution_service_pb2.GetFreshnessTokenRequest(profile="stock")

    def run_to(status: int, *, dry_run: bool = False, token: str) -> run_pb2.Run:
        run = start_run(client, dry_run=dry_run)
        return finish(client, claim(client, run.id), status, new_freshness_token=token,
                      counts=run_pb2.RunCounts(rows_read=3, created=2, skipped=1))

    run_to(run_pb2.RUN_STATUS_FAILED, token="t-failed")
    assert store(request).token == ""
    run_to(run_pb2.RUN_STATUS_COMPLETED, dry_run=True, token="t-dry")
    assert store(request).token == ""
    done = run_to(run_pb2.RUN_STATUS_COMPLETED, token="t1")
    assert store(request).token == "t1"
    assert done.counts.created == 2
    run_to(run_pb2.RUN_STATUS_UNCHANGED, token="t-unchanged")
    assert store(request).token == "t1"
    run_to(run_pb2.RUN_STATUS_WARNING, token="t2")
    assert store(request).token == "t2"
    run_to(run_pb2.RUN_STATUS_CANCELLED, token="t-cancelled")
    assert store(request).token == "t2"


def test_dry_run_clears_the_dry_run_gate_only_for_the_current_mapping(client):
    from ferry.v1 import profile_service_pb2

    apply(client)
    assert apply(client, profile(column="Title")).profile.dry_run_required
    stale_dry = start_run(client, dry_run=True)
    apply(client, profile(column="Label"))  # mapping changes again after the dry run queued
    finish(client, claim(client, stale_dry.id))

    def required() -> bool:
        return client.profiles.GetProfile(
            profile_service_pb2.GetProfileRequest(name="stock")).profile.dry_run_required

    assert required()
    live = start_run(client, force=True)
    finish(client, claim(client, live.id))
    assert required()
    failed_dry = start_run(client, dry_run=True)
    finish(client, claim(client, failed_dry.id), run_pb2.RUN_STATUS_FAILED)
    assert required()
    dry = start_run(client, dry_run=True)
    finish(client, claim(client, dry.id), run_pb2.RUN_STATUS_WARNING)
    assert not required()


def test_finish_stores_results_rejected_rows_and_events(client):
    apply(client)
    run = start_run(client)
    claimed = claim(client, run.id)
    client.execution.ReportProgress(execution_service_pb2.ReportProgressRequest(
        run_id=run.id, runner_id="runner-1", fencing_token=claimed.fencing_token,
        counts=run_pb2.RunCounts(rows_read=10), rows_total=100,
        events=[run_pb2.RunEvent(type=run_pb2.RUN_EVENT_TYPE_WARNING, message="odd header")]))
    progressed = get_run(client, run.id)
    assert progressed.counts.rows_read == 10 and progressed.rows_total == 100
    done = finish(
        client, claimed, run_pb2.RUN_STATUS_WARNING,
        counts=run_pb2.RunCounts(rows_read=100, created=98, errors=2),
        first_error=run_pb2.RowError(row=7, field="price", message="not a number"),
        warnings=["2 rows rejected"],
        freshness=run_pb2.FreshnessEvidence(method=profile_pb2.FRESHNESS_METHOD_CHECKSUM,
                                            verdict=run_pb2.FRESHNESS_VERDICT_CHANGED),
        rejected_rows=[run_service_pb2.RejectedRow(row=7, outcome="error", field="price",
                                                   message="not a number",
                                                   values={"SKU": "A1", "Price": "x"})],
        rejected_columns=["SKU", "Price"])
    assert done.status == run_pb2.RUN_STATUS_WARNING
    assert done.first_error.row == 7
    assert list(done.warnings) == ["2 rows rejected"]
    assert done.freshness.verdict == run_pb2.FRESHNESS_VERDICT_CHANGED
    assert done.end_time.seconds > 0
    rejected = client.runs.ListRejectedRows(run_service_pb2.ListRejectedRowsRequest(
        run_id=run.id))
    assert list(rejected.columns) == ["SKU", "Price"]
    assert rejected.rows[0].values["Price"] == "x"
    kinds = [e.type for e in _events(client, run.id)]
    assert run_pb2.RUN_EVENT_TYPE_WARNING in kinds
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.execution.FinishRun,
                 execution_service_pb2.FinishRunRequest(
                     run_id=run.id, runner_id="runner-1", fencing_token=claimed.fencing_token,
                     status=run_pb2.RUN_STATUS_RUNNING))


def test_release_requeues_or_fails_when_attempts_run_out(client):
    apply(client, profile(max_attempts=2))
    run = start_run(client)

    def release(claimed, used: bool) -> run_pb2.Run:
        return client.execution.ReleaseRun(execution_service_pb2.ReleaseRunRequest(
            run_id=run.id, runner_id=claimed.run.runner_id,
            fencing_token=claimed.fencing_token, reason="connection reset",
            error_class=run_pb2.ERROR_CLASS_TRANSIENT, attempt_used=used)).run

    back = release(claim(client, run.id), used=False)
    assert (back.status, back.attempt) == (run_pb2.RUN_STATUS_QUEUED, 1)
    back = release(claim(client, run.id), used=True)
    assert (back.status, back.attempt) == (run_pb2.RUN_STATUS_QUEUED, 2)
    done = release(claim(client, run.id), used=True)
    assert done.status == run_pb2.RUN_STATUS_FAILED
    assert done.error_class == run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED
    assert "attempts ran out" in done.error_message
    assert "connection reset" in done.error_message


def test_freshness_token_of_unknown_profile_is_not_found(client):
    expect_error(grpc.StatusCode.NOT_FOUND, client.execution.GetFreshnessToken,
                 execution_service_pb2.GetFreshnessTokenRequest(profile="ghost"))


def test_finish_stores_raw_evidence_masked_again(client):
    """Defence in depth: a runner that sent raw values (an old or foreign one)
    still gets its rejected rows and messages stored masked; what the runner
    masked is kept as it was, and the field and the reason stay readable."""
    prof = profile("customers")
    prof.entity_type = "customers"
    del prof.mapping.fields[:]
    prof.mapping.fields.add(target="email", source="E-Mail")
    prof.mapping.fields.add(target="last_name", source="Surname2")
    prof.retention.masked_fields.append("Notes")
    apply(client, prof)
    run = start_run(client, "customers")
    claimed = claim(client, run.id)
    already = "a***@e***.com~abcdefgh"
    done = finish(
        client, claimed, run_pb2.RUN_STATUS_WARNING,
        counts=run_pb2.RunCounts(rows_read=3, created=1, errors=1, skipped=1),
        first_error=run_pb2.RowError(row=2, field="email",
                                     message="'not-an-email' is not an e-mail address"),
        first_skip_reason="row 3: duplicate key email='ada@example.com' in the same file",
        warnings=["call +44 20 7946 0018 about row 2"],
        rejected_rows=[
            run_service_pb2.RejectedRow(
                row=2, outcome="error", field="email",
                message="'not-an-email' is not an e-mail address",
                values={"E-Mail": "not-an-email", "Surname2": "Hopper", "Notes": "VIP",
                        "Sku": "A1"}),
            run_service_pb2.RejectedRow(
                row=3, outcome="skipped", field="email",
                message=f"duplicate key email='{already}' in the same file",
                values={"E-Mail": already, "Surname2": "Byron", "Notes": "", "Sku": "A2"})])
    text = str(done) + str(client.runs.ListRejectedRows(
        run_service_pb2.ListRejectedRowsRequest(run_id=run.id)))
    for raw in ("not-an-email", "Hopper", "Byron", "VIP", "ada@example.com", "7946 0018"):
        assert raw not in text, (raw, text)
    assert done.first_error.field == "email"
    assert done.first_error.message.endswith("is not an e-mail address")
    rows = client.runs.ListRejectedRows(run_service_pb2.ListRejectedRowsRequest(
        run_id=run.id)).rows
    assert rows[1].values["E-Mail"] == already and rows[1].values["Sku"] == "A2"
    assert rows[1].message == f"duplicate key email='{already}' in the same file"
