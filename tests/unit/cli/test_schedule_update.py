"""``ferry schedules update`` sends only the fields given (an update mask);
``ferry schedules missed`` lists the fire times that did not become a run."""

from __future__ import annotations

import json

import pytest
from ferry import errors
from ferry.v1 import profile_pb2, schedule_pb2, schedule_service_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from tests.unit.cli.fakes import FakeRpcError


@pytest.fixture
def updating(fake_registry):
    def update(request):
        return schedule_service_pb2.UpdateScheduleResponse(schedule=schedule_pb2.Schedule(
            id=request.schedule.id, profile="stock-feed", cron=request.schedule.cron,
            time_zone=request.schedule.time_zone or "UTC"))
    fake_registry.replies["UpdateSchedule"] = update
    return fake_registry


def test_update_sends_a_mask_of_the_given_fields(invoke, updating):
    result = invoke("schedules", "update", "s-1", "--cron", "*/10 * * * *",
                    "--timezone", "Europe/Paris")
    assert result.exit_code == 0, result.output
    [request] = updating.requests("UpdateSchedule")
    assert request.schedule.id == "s-1"
    assert sorted(request.update_mask.paths) == ["cron", "time_zone"]
    assert request.schedule.cron.expression == "*/10 * * * *"
    assert "cron */10 * * * *" in result.stdout and "Europe/Paris" in result.stdout


def test_update_of_options_only_keeps_the_trigger(invoke, updating):
    result = invoke("schedules", "update", "s-1", "--misfire-grace", "2h", "--catch-up", "skip",
                    "--jitter", "30s", "--overlap", "skip", "--auto-pause-after", "3",
                    "--description", "", "-o", "json")
    assert result.exit_code == 0, result.output
    [request] = updating.requests("UpdateSchedule")
    assert sorted(request.update_mask.paths) == ["auto_pause_after", "catch_up", "description",
                                                 "jitter", "misfire_grace", "overlap_policy"]
    assert request.schedule.WhichOneof("trigger") is None
    assert request.schedule.misfire_grace.seconds == 7200
    assert request.schedule.overlap_policy == profile_pb2.OVERLAP_POLICY_SKIP
    assert json.loads(result.stdout)["id"] == "s-1"


@pytest.mark.parametrize("args, message", [
    ((), "nothing to update"),
    (("--daily", "06:00", "--every", "1h"), "exactly one trigger"),
    (("--minute", "5"), "--minute goes with --hourly"),
    (("--daily", "25:00"), "not a time of day"),
])
def test_update_usage_errors_send_nothing(args, message, invoke, updating):
    result = invoke("schedules", "update", "s-1", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert updating.calls == []


def test_update_refused_by_the_registry_is_one_line(invoke, fake_registry):
    fake_registry.replies["UpdateSchedule"] = FakeRpcError.from_domain(
        errors.NotFoundError('schedule "s-9" not found'))
    result = invoke("schedules", "update", "s-9", "--every", "1h")
    assert (result.exit_code, result.stderr) == (1, 'error: schedule "s-9" not found\n')


def stamp(text: str) -> Timestamp:
    value = Timestamp()
    value.FromJsonString(text)
    return value


def test_missed_lists_fire_times_with_reasons(invoke, fake_registry):
    fake_registry.replies.update(
        ListMissedFires=schedule_service_pb2.ListMissedFiresResponse(missed_fires=[
            schedule_pb2.MissedFire(schedule_id="s-1", fire_time=stamp("2026-11-27T06:00:00Z"),
                                    reason=schedule_pb2.MISSED_FIRE_REASON_OVERLAP,
                                    record_time=stamp("2026-11-27T06:00:01Z"))]),
        ListSchedules=schedule_service_pb2.ListSchedulesResponse(schedules=[
            schedule_pb2.Schedule(id="s-1", profile="stock-feed")]))
    result = invoke("schedules", "missed", "s-1")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == ["SCHEDULE", "PROFILE", "FIRE", "TIME", "REASON", "RECORDED"]
    assert row.split()[:2] == ["s-1", "stock-feed"] and "overlap" in row.split()
    assert fake_registry.requests("ListMissedFires")[0].schedule_id == "s-1"

    data = json.loads(invoke("schedules", "missed", "s-1", "-o", "json").stdout)
    assert data == {"missedFires": [{
        "scheduleId": "s-1", "fireTime": "2026-11-27T06:00:00Z",
        "reason": "MISSED_FIRE_REASON_OVERLAP", "recordTime": "2026-11-27T06:00:01Z"}]}


def test_missed_without_any(invoke, fake_registry):
    fake_registry.replies["ListMissedFires"] = schedule_service_pb2.ListMissedFiresResponse()
    result = invoke("schedules", "missed")
    assert (result.exit_code, result.stdout) == (0, "no missed fires\n")
    assert fake_registry.requests("ListMissedFires")[0].schedule_id == ""
