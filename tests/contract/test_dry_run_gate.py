"""The dry-run gate: after a mapping change, live runs wait for a passing dry run."""

from __future__ import annotations

from datetime import timedelta

import grpc
from ferry.v1 import profile_service_pb2, run_pb2, run_service_pb2, schedule_service_pb2

from tests.contract.conftest import START
from tests.contract.helpers import (
    Outcome,
    apply,
    claim,
    create_run,
    create_schedule,
    expect_error,
    finish,
    get_run,
    hourly,
    profile,
    start_run,
)


def change_mapping(client) -> None:
    apply(client)
    assert apply(client, profile(column="Title")).profile.dry_run_required


def test_scheduled_live_run_ends_failed_at_claim_until_a_dry_run_passes(client):
    change_mapping(client)
    schedule = create_schedule(client, hourly(auto_pause_after=2))
    gated = []
    for hour in (1, 2, 3):  # more than auto_pause_after: the gate never auto-pauses
        run = create_run(client, schedule.id, START + timedelta(hours=hour)).run
        assert run.status == run_pb2.RUN_STATUS_QUEUED
        reply = claim(client, run.id)
        assert reply.outcome == Outcome.CLAIM_OUTCOME_FINISHED
        assert not reply.HasField("profile") and reply.fencing_token == 0
        gated.append(get_run(client, run.id))
    ended = gated[0]
    assert ended.status == run_pb2.RUN_STATUS_FAILED
    assert ended.error_class == run_pb2.ERROR_CLASS_MAPPING
    assert ended.error_message == ("dry run required after mapping change: run "
                                   "`ferry runs start stock --dry-run`")
    assert "--force" in ended.hint and not ended.HasField("start_time")
    events = client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(
        run_id=ended.id)).events
    assert events[-1].message.startswith("dry run required after mapping change")
    refreshed = client.schedules.GetSchedule(
        schedule_service_pb2.GetScheduleRequest(id=schedule.id)).schedule
    assert not refreshed.paused and refreshed.consecutive_failures == 0

    dry = start_run(client, dry_run=True)  # a dry run is never gated
    finish(client, claim(client, dry.id))
    after = create_run(client, schedule.id, START + timedelta(hours=4)).run
    assert claim(client, after.id).outcome == Outcome.CLAIM_OUTCOME_CLAIMED


def test_manual_live_run_is_refused_without_force(client):
    change_mapping(client)
    error = expect_error(grpc.StatusCode.FAILED_PRECONDITION, start_run, client)
    assert "dry run required after mapping change" in error.details()
    assert "--dry-run" in error.details() and "--force" in error.details()
    forced = start_run(client, force=True)
    assert forced.force
    assert claim(client, forced.id).outcome == Outcome.CLAIM_OUTCOME_CLAIMED


def test_retry_of_a_gated_run_is_refused_until_a_dry_run_passes(client):
    change_mapping(client)
    schedule = create_schedule(client, hourly())
    run = create_run(client, schedule.id, START + timedelta(hours=1)).run
    claim(client, run.id)
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.runs.RetryRun,
                 run_service_pb2.RetryRunRequest(id=run.id))
    finish(client, claim(client, start_run(client, dry_run=True).id), run_pb2.RUN_STATUS_WARNING)
    assert not client.profiles.GetProfile(
        profile_service_pb2.GetProfileRequest(name="stock")).profile.dry_run_required
    retried = client.runs.RetryRun(run_service_pb2.RetryRunRequest(id=run.id)).run
    assert claim(client, retried.id).outcome == Outcome.CLAIM_OUTCOME_CLAIMED


def test_a_new_profile_is_not_gated(client):
    apply(client)
    assert claim(client, start_run(client).id).outcome == Outcome.CLAIM_OUTCOME_CLAIMED
