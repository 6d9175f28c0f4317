"""Duration options of the CLI (``--every``, ``--misfire-grace``, ``--jitter``,
``--since``) read the one grammar; a bad value is a usage error (status 2)
that names the option and says what is wrong, and nothing is sent."""

from __future__ import annotations

import pytest
from ferry.v1 import run_pb2, run_service_pb2, schedule_pb2, schedule_service_pb2


@pytest.mark.parametrize(("option", "value", "seconds"), [
    ("--every", "7d", 7 * 86400),
    ("--every", "1d12h", 36 * 3600),
    ("--every", "250ms", 0),
    ("--misfire-grace", "2h", 7200),
    ("--jitter", "1m30s", 90),
])
def test_schedule_durations_reach_the_request(invoke, fake_registry, option, value, seconds):
    fake_registry.replies["CreateSchedule"] = schedule_service_pb2.CreateScheduleResponse(
        schedule=schedule_pb2.Schedule(id="s-1", profile="p"))
    trigger = [] if option == "--every" else ["--manual"]
    result = invoke("schedules", "create", "p", *trigger, option, value)
    assert result.exit_code == 0, result.output
    [request] = fake_registry.requests("CreateSchedule")
    field = {"--every": request.schedule.interval.every,
             "--misfire-grace": request.schedule.misfire_grace,
             "--jitter": request.schedule.jitter}[option]
    assert field.seconds == seconds


@pytest.mark.parametrize(("option", "value", "reason"), [
    ("--every", "soon", "is not a duration"),
    ("--every", "30m1h", "largest unit first"),
    ("--misfire-grace", "-5m", "not negative"),
    ("--jitter", "1w", "is not a duration"),
])
def test_bad_schedule_durations_are_usage_errors(invoke, fake_registry, option, value, reason):
    trigger = [] if option == "--every" else ["--manual"]
    result = invoke("schedules", "create", "p", *trigger, option, value)
    assert result.exit_code == 2
    assert option in result.stderr and reason in result.stderr
    assert fake_registry.calls == []


def test_runs_list_since_takes_days(invoke, fake_registry):
    fake_registry.replies["ListRuns"] = run_service_pb2.ListRunsResponse(
        runs=[run_pb2.Run(id="r-1")])
    result = invoke("-o", "json", "runs", "list", "--since", "7d")
    assert result.exit_code == 0, result.output
    [request] = fake_registry.requests("ListRuns")
    assert "queue_time >= " in request.filter


@pytest.mark.parametrize("command", [("runs", "list"), ("dashboard",)])
def test_a_bad_since_is_a_usage_error(invoke, fake_registry, command):
    result = invoke(*command, "--since", "5m5m")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "each unit once" in result.stderr
    assert fake_registry.calls == []
