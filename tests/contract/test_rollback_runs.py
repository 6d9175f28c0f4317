"""RollbackRun: which runs can be undone, the ROLLBACK run it queues (as a
manual run, without the dry-run gate), the freshness token reset when a live
rollback ends, the deleted count; GetKeptRuns: which runs the registry keeps."""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
from ferry.v1 import (
    execution_service_pb2,
    profile_pb2,
    profile_service_pb2,
    run_pb2,
    run_service_pb2,
)

from tests.contract.helpers import (
    Outcome,
    apply,
    claim,
    expect_error,
    finish,
    get_run,
    list_runs,
    profile,
    start_run,
)

ROLLBACK = profile_pb2.OPERATION_ROLLBACK


def rollback(client, run_id: str, **fields) -> run_pb2.Run:
    return client.runs.RollbackRun(run_service_pb2.RollbackRunRequest(
        run_id=run_id, **fields)).run


def imported(client, name: str = "stock", *, token: str = "", dry_run: bool = False,
             status: int = run_pb2.RUN_STATUS_COMPLETED, **counts) -> run_pb2.Run:
    """A run of ``name`` that ended ``status`` having written ``counts``."""
    run = start_run(client, name, dry_run=dry_run, force=dry_run)
    return finish(client, claim(client, run.id), status,
                  counts=run_pb2.RunCounts(**counts), new_freshness_token=token)


def token_of(client, name: str = "stock") -> str:
    return client.execution.GetFreshnessToken(
        execution_service_pb2.GetFreshnessTokenRequest(profile=name)).token


def test_rollback_queues_a_rollback_run_of_the_same_profile(client):
    apply(client)
    done = imported(client, created=25, rows_read=25)
    queued = rollback(client, done.id, request_id="undo-1")
    assert queued.status == run_pb2.RUN_STATUS_QUEUED
    assert queued.operation == ROLLBACK and queued.profile == "stock"
    assert queued.rollback_of == done.id and not queued.rollback_force
    assert queued.trigger == run_pb2.RUN_TRIGGER_MANUAL and not queued.dry_run
    # Idempotent by request id: the same call returns the same run.
    assert rollback(client, done.id, request_id="undo-1").id == queued.id
    assert get_run(client, queued.id).rollback_of == done.id
    [listed] = list_runs(client, 'operation = "ROLLBACK"').runs
    assert listed.id == queued.id
    events = client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(
        run_id=queued.id)).events
    assert f"rolling back run {done.id}" in events[0].message


def test_a_rollback_runs_claim_and_end_carry_the_undone_run_and_deleted(client):
    apply(client)
    done = imported(client, created=3)
    queued = rollback(client, done.id, force=True, dry_run=True)
    assert queued.dry_run and queued.rollback_force
    reply = claim(client, queued.id)
    assert reply.outcome == Outcome.CLAIM_OUTCOME_CLAIMED
    assert reply.run.operation == ROLLBACK and reply.run.rollback_of == done.id
    assert reply.run.rollback_force and reply.profile.name == "stock"
    ended = finish(client, reply, counts=run_pb2.RunCounts(rows_read=3, deleted=3))
    assert ended.counts.deleted == 3 and get_run(client, queued.id).counts.deleted == 3


def test_runs_that_cannot_be_undone_are_refused_with_the_reason(client):
    apply(client)
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, rollback, client, "")
    missing = expect_error(grpc.StatusCode.NOT_FOUND, rollback, client, "no-such-run")
    assert "no-such-run" in missing.details()

    queued = start_run(client)
    refused = expect_error(grpc.StatusCode.FAILED_PRECONDITION, rollback, client, queued.id)
    assert f"run {queued.id} is QUEUED: wait until it ends" in refused.details()
    finish(client, claim(client, queued.id), counts=run_pb2.RunCounts(unchanged=4))
    refused = expect_error(grpc.StatusCode.FAILED_PRECONDITION, rollback, client, queued.id)
    assert "wrote no records (created 0, updated 0, deleted 0)" in refused.details()

    dry = imported(client, dry_run=True, created=5)
    refused = expect_error(grpc.StatusCode.FAILED_PRECONDITION, rollback, client, dry.id)
    assert f"run {dry.id} was a dry run" in refused.details()

    export = profile_pb2.Profile(name="stock-export", entity_type="products",
                                 operation=profile_pb2.OPERATION_EXPORT,
                                 export=profile_pb2.ExportSpec(directory="/tmp/out"))
    apply(client, export)
    exported = imported(client, "stock-export", written=5)
    refused = expect_error(grpc.StatusCode.FAILED_PRECONDITION, rollback, client, exported.id)
    assert "is an export run" in refused.details()


def test_a_failed_import_that_wrote_records_can_be_undone_a_deleted_profile_not(client):
    apply(client)
    failed = imported(client, status=run_pb2.RUN_STATUS_FAILED, created=2, errors=9)
    assert rollback(client, failed.id).rollback_of == failed.id
    apply(client, profile("gone"))
    done = imported(client, "gone", updated=1)
    client.profiles.DeleteProfile(profile_service_pb2.DeleteProfileRequest(name="gone"))
    refused = expect_error(grpc.StatusCode.NOT_FOUND, rollback, client, done.id)
    assert 'profile "gone" of run' in refused.details()


def test_a_rollback_of_a_rollback_is_allowed(client):
    apply(client)
    first = rollback(client, imported(client, updated=3).id)
    undone = finish(client, claim(client, first.id), counts=run_pb2.RunCounts(updated=3))
    again = rollback(client, undone.id)
    assert again.operation == ROLLBACK and again.rollback_of == first.id


def test_the_dry_run_gate_does_not_hold_a_rollback(client):
    apply(client)
    done = imported(client, created=2)
    assert apply(client, profile(column="Title")).profile.dry_run_required
    queued = rollback(client, done.id)
    reply = claim(client, queued.id)
    assert reply.outcome == Outcome.CLAIM_OUTCOME_CLAIMED
    finish(client, reply, counts=run_pb2.RunCounts(deleted=2))
    # A dry-run rollback that ends well does not clear the import's gate.
    dry = rollback(client, done.id, dry_run=True)
    finish(client, claim(client, dry.id), counts=run_pb2.RunCounts(deleted=2))
    assert client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(
        name="stock")).profile.dry_run_required
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, start_run, client)


def test_one_running_run_per_profile_holds_for_rollbacks(client):
    apply(client)
    done = imported(client, created=2)
    running = start_run(client)
    assert claim(client, running.id).outcome == Outcome.CLAIM_OUTCOME_CLAIMED
    queued = rollback(client, done.id)
    assert claim(client, queued.id).outcome == Outcome.CLAIM_OUTCOME_DEFERRED


def test_a_live_rollback_that_ends_well_resets_the_freshness_token(client):
    apply(client)
    token = json.dumps({"checksum": "xxh3_128:ab", "profile_digest": "d1"})
    done = imported(client, token=token, updated=3)
    assert token_of(client) == token
    dry = rollback(client, done.id, dry_run=True)
    finish(client, claim(client, dry.id), counts=run_pb2.RunCounts(updated=3))
    assert token_of(client) == token  # a dry run changes nothing
    failed = rollback(client, done.id)
    finish(client, claim(client, failed.id), run_pb2.RUN_STATUS_FAILED,
           error_class=run_pb2.ERROR_CLASS_PERMANENT, error_message="refused")
    assert token_of(client) == token
    live = rollback(client, done.id)
    finish(client, claim(client, live.id), counts=run_pb2.RunCounts(updated=3))
    assert json.loads(token_of(client)) == {"profile_digest": "d1", "rolled_back_by": live.id}


def test_get_kept_runs_names_the_runs_whose_history_is_kept(client, clock, internals):
    kept = profile()
    kept.retention.CopyFrom(profile_pb2.RetentionPolicy(keep_runs_days=1, keep_min_runs=1))
    apply(client, kept)
    old = imported(client, created=1)
    clock.advance(timedelta(days=1))
    new = imported(client, updated=1)
    ask = client.execution.GetKeptRuns
    reply = ask(execution_service_pb2.GetKeptRunsRequest(run_ids=[new.id, "ghost", old.id]))
    assert list(reply.run_ids) == [new.id, old.id]
    clock.advance(timedelta(days=2))
    assert internals.janitor.run_once().runs_deleted == 1
    reply = ask(execution_service_pb2.GetKeptRunsRequest(run_ids=[old.id, new.id]))
    assert list(reply.run_ids) == [new.id]
    assert list(ask(execution_service_pb2.GetKeptRunsRequest()).run_ids) == []
    too_many = expect_error(grpc.StatusCode.INVALID_ARGUMENT, ask,
                            execution_service_pb2.GetKeptRunsRequest(
                                run_ids=[f"r{i}" for i in range(1001)]))
    assert "at most 1000 run ids" in too_many.details()


def test_retry_of_a_failed_rollback_is_a_rollback_again(client):
    apply(client)
    done = imported(client, created=2)
    queued = rollback(client, done.id, force=True)
    finish(client, claim(client, queued.id), run_pb2.RUN_STATUS_FAILED,
           error_class=run_pb2.ERROR_CLASS_PERMANENT, error_message="refused")
    retried = client.runs.RetryRun(run_service_pb2.RetryRunRequest(id=queued.id)).run
    assert retried.operation == ROLLBACK and retried.rollback_of == done.id
    assert retried.rollback_force and retried.retry_of == queued.id


def test_rollbacks_do_not_speak_for_the_source(client):
    """A refused rollback is not a failing source, and a completed one does
    not release an import's failure: only imports and exports count."""
    apply(client)
    done = imported(client, created=2)
    refused = rollback(client, done.id)
    finish(client, claim(client, refused.id), run_pb2.RUN_STATUS_FAILED,
           error_class=run_pb2.ERROR_CLASS_PERMANENT, error_message="refused: later runs")
    shown = client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name="stock"))
    assert not shown.profile.HasField("failing_since")

    failed = imported(client, status=run_pb2.RUN_STATUS_FAILED, created=1)
    undo = rollback(client, failed.id)
    finish(client, claim(client, undo.id), counts=run_pb2.RunCounts(deleted=1))
    shown = client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name="stock"))
    assert shown.profile.failing_runs == 1
    assert shown.profile.failing_since.ToDatetime() == failed.end_time.ToDatetime()
