"""Stale profiles in the CLI against a fake registry: ``profiles list`` has a
STALE column, ``runs list`` names a stale profile above its runs and marks
them, the dashboard lists stale profiles; ``profiles events`` prints a
profile's history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ferry.v1 import (
    profile_pb2,
    profile_service_pb2,
    run_pb2,
    run_service_pb2,
    schedule_service_pb2,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

CHANGED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _stamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


def _profiles() -> profile_service_pb2.ListProfilesResponse:
    within = Duration(seconds=26 * 3600)
    return profile_service_pb2.ListProfilesResponse(profiles=[
        profile_pb2.Profile(name="stock", expect_change_within=within,
                            last_change_time=_stamp(CHANGED),
                            stale_since=_stamp(CHANGED + timedelta(hours=26))),
        profile_pb2.Profile(name="prices", expect_change_within=within,
                            last_change_time=_stamp(CHANGED)),
        profile_pb2.Profile(name="export")])


def test_profiles_list_has_a_stale_column(invoke, fake_registry):
    fake_registry.replies["ListProfiles"] = _profiles()
    result = invoke("profiles", "list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "STALE" in result.stdout.splitlines()[0]
    assert "since 2026-03-02" in rows["stock"]
    assert " no " in rows["prices"]


def test_runs_list_names_and_marks_a_stale_profile(invoke, fake_registry):
    fake_registry.replies["ListProfiles"] = _profiles()
    fake_registry.replies["ListRuns"] = run_service_pb2.ListRunsResponse(runs=[
        run_pb2.Run(id="r-1", profile="stock", status=run_pb2.RUN_STATUS_UNCHANGED),
        run_pb2.Run(id="r-2", profile="prices", status=run_pb2.RUN_STATUS_COMPLETED)])
    result = invoke("runs", "list")
    assert result.exit_code == 0, result.output
    first, *rest = result.stdout.splitlines()
    assert first.startswith("! profile stock is stale since 2026-03-02")
    assert "(expected within 1d2h)" in first
    assert any("stock (stale)" in line for line in rest)
    assert not any("prices (stale)" in line for line in rest)
    listed = json.loads(invoke("-o", "json", "runs", "list").stdout)
    assert [p["name"] for p in listed["staleProfiles"]] == ["stock"]


def test_the_dashboard_lists_stale_profiles(invoke, fake_registry):
    fake_registry.replies.update(
        ListProfiles=_profiles(), SummarizeRuns=run_service_pb2.SummarizeRunsResponse(),
        ListRuns=run_service_pb2.ListRunsResponse(),
        ListSchedules=schedule_service_pb2.ListSchedulesResponse())
    result = invoke("dashboard")
    assert result.exit_code == 0, result.output
    assert "Stale profiles" in result.stdout
    assert "profile stock is stale since" in result.stdout
    assert "profile prices" not in result.stdout
    snapshot = json.loads(invoke("-o", "json", "dashboard").stdout)
    assert [p["name"] for p in snapshot["staleProfiles"]] == ["stock"]


def test_profiles_events_prints_the_history(invoke, fake_registry):
    fake_registry.replies["ListProfileEvents"] = profile_service_pb2.ListProfileEventsResponse(
        events=[profile_pb2.ProfileEvent(
            profile="stock", sequence=4, event_time=_stamp(CHANGED),
            type=profile_pb2.PROFILE_EVENT_TYPE_STALE, message="stale: no changed input")])
    result = invoke("profiles", "events", "stock")
    assert result.exit_code == 0, result.output
    assert "stale" in result.stdout and "no changed input" in result.stdout
    [request] = fake_registry.requests("ListProfileEvents")
    assert request.name == "stock"
