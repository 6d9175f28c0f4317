"""The scheduler process against a real registry and the real broker: fires at
the right instant, once per fire time, misfire and catch-up policies, pause and
resume, publishes confirmed requests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2, schedule_pb2, schedule_service_pb2

from tests.integration.scheduler.support import (
    Broker,
    apply_profile,
    create_schedule,
    fire_time,
    get_schedule,
    interval_schedule,
    missed_fires_of,
    runs_of,
)
from tests.support.net import wait_until


def whole_seconds_ago(seconds: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds)


def grid(first: datetime, last: datetime, step: timedelta) -> list[datetime]:
    times = []
    moment = first
    while moment <= last:
        times.append(moment)
        moment += step
    return times


def test_interval_schedule_fires_on_time_once_per_fire_and_publishes(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    apply_profile(client, "stock", tmp_path)
    anchor = whole_seconds_ago(60)
    schedule = create_schedule(client, interval_schedule("stock", 1, start=anchor))
    scheduler = start_scheduler()
    wait_until(lambda: len(runs_of(client, schedule.id)) >= 4, timeout=15,
               what="4 scheduled runs")
    assert scheduler.stop() == 0, scheduler.output()[-3000:]
    assert "stopped" in scheduler.output()

    runs = runs_of(client, schedule.id)
    fires = sorted(fire_time(r) for r in runs)
    assert len(fires) == len(set(fires)), "two runs for one fire time"
    assert fires == grid(fires[0], fires[-1], timedelta(seconds=1)), "a fire was skipped"
    for run in runs:
        assert fire_time(run) == anchor + timedelta(seconds=round(
            (fire_time(run) - anchor).total_seconds())), "fire time off the interval grid"
        lateness = run.queue_time.ToDatetime(tzinfo=UTC) - fire_time(run)
        assert timedelta(0) <= lateness < timedelta(seconds=1), f"fired {lateness} late"
        assert run.trigger == run_pb2.RUN_TRIGGER_SCHEDULE
        assert run.request_id == f"{schedule.id}@{fire_time(run).isoformat()}"

    messages = broker.drain()
    assert {m.run_id for m in messages} == {r.id for r in runs}
    assert all(m.schema_version == 1 and m.profile == "stock" and m.attempt == 1
               for m in messages)
    stored = get_schedule(client, schedule.id)
    assert stored.last_fire_time.ToDatetime(tzinfo=UTC) == fires[-1]
    assert stored.next_fire_time.ToDatetime(tzinfo=UTC) == fires[-1] + timedelta(seconds=1)


def test_cron_schedule_fires_at_the_minute_and_paused_one_does_not(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    apply_profile(client, "prices", tmp_path)
    cron = create_schedule(client, schedule_pb2.Schedule(
        profile="prices", time_zone="Asia/Kolkata",  # a +05:30 zone: minute still aligned
        cron=schedule_pb2.CronTrigger(expression="* * * * *")))
    paused = create_schedule(client, schedule_pb2.Schedule(
        profile="prices", cron=schedule_pb2.CronTrigger(expression="* * * * *")))
    client.schedules.PauseSchedule(schedule_service_pb2.PauseScheduleRequest(
        id=paused.id, reason="test"))
    minute = cron.next_fire_time.ToDatetime(tzinfo=UTC)
    assert minute.second == 0 and minute.microsecond == 0
    start_scheduler()
    wait_until(lambda: runs_of(client, cron.id), timeout=75, interval=0.2,
               what="the cron fire")
    (run,) = runs_of(client, cron.id)
    assert fire_time(run) == minute
    assert run.queue_time.ToDatetime(tzinfo=UTC) - minute < timedelta(seconds=1)
    # The run is created before its request is published: wait for the publish.
    wait_until(lambda: broker.depth() >= 1, timeout=10, what="the run request")
    assert [m.run_id for m in broker.drain()] == [run.id]
    stored = get_schedule(client, cron.id)
    assert stored.next_fire_time.ToDatetime(tzinfo=UTC) == minute + timedelta(minutes=1)
    assert runs_of(client, paused.id) == []
    assert missed_fires_of(client, paused.id) == []


@pytest.mark.parametrize("policy", ["latest", "all", "skip"])
def test_backlog_after_downtime_follows_the_catch_up_policy(
        policy: str, tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    catch_up = {"latest": schedule_pb2.CATCH_UP_POLICY_LATEST,
                "all": schedule_pb2.CATCH_UP_POLICY_ALL,
                "skip": schedule_pb2.CATCH_UP_POLICY_SKIP}[policy]
    grace = 1.5
    apply_profile(client, "stock", tmp_path)
    schedule = create_schedule(client, interval_schedule(
        "stock", 1, start=whole_seconds_ago(10), catch_up=catch_up, grace=grace))
    first = schedule.next_fire_time.ToDatetime(tzinfo=UTC)
    time.sleep(5)  # the scheduler is "down": about five fires are due when it starts
    scheduler = start_scheduler()
    started = datetime.now(UTC)
    wait_until(lambda: any(fire_time(r) > started + timedelta(seconds=1)
                           for r in runs_of(client, schedule.id)),
               timeout=15, what="runs after the catch-up")
    scheduler.stop()

    runs = runs_of(client, schedule.id)
    missed = missed_fires_of(client, schedule.id)
    ran = sorted(fire_time(r) for r in runs)
    skipped = sorted(fire_time(m) for m in missed)
    assert not set(ran) & set(skipped), "a fire both ran and was recorded missed"
    assert len(ran) == len(set(ran)) and len(skipped) == len(set(skipped))
    last = max(ran + skipped)
    assert sorted(ran + skipped) == grid(first, last, timedelta(seconds=1)), \
        "a due fire was neither run nor recorded missed"
    late = [r for r in runs
            if r.queue_time.ToDatetime(tzinfo=UTC) - fire_time(r) > timedelta(seconds=grace)]
    reasons = {m.reason for m in missed}
    if policy == "latest":
        assert len(skipped) >= 3
        assert reasons == {schedule_pb2.MISSED_FIRE_REASON_COALESCED}
        # The backlog coalesced into its latest fire, which ran; nothing before it ran.
        assert ran[0] == skipped[-1] + timedelta(seconds=1)
    elif policy == "all":
        assert skipped == []
        assert len(late) >= 3, "the backlog was not run"
    else:
        assert len(skipped) >= 3
        assert reasons == {schedule_pb2.MISSED_FIRE_REASON_MISFIRE}
        assert late == [], "a fire later than its grace ran under catch-up skip"
    wait_until(lambda: broker.depth() >= len(runs), timeout=10, what="every run published")
    assert {m.run_id for m in broker.drain()} == {r.id for r in runs}


def test_paused_schedule_does_not_fire_and_resume_fires_no_backlog(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    apply_profile(client, "stock", tmp_path)
    schedule = create_schedule(client, interval_schedule(
        "stock", 1, start=whole_seconds_ago(30), catch_up=schedule_pb2.CATCH_UP_POLICY_ALL))
    start_scheduler()
    wait_until(lambda: len(runs_of(client, schedule.id)) >= 2, timeout=10, what="2 runs")
    client.schedules.PauseSchedule(schedule_service_pb2.PauseScheduleRequest(
        id=schedule.id, reason="maintenance"))
    paused_at = datetime.now(UTC)
    before = len(runs_of(client, schedule.id))
    time.sleep(3.5)
    during = runs_of(client, schedule.id)
    assert len(during) <= before + 1  # at most one fire in flight when pausing
    resumed = client.schedules.ResumeSchedule(
        schedule_service_pb2.ResumeScheduleRequest(id=schedule.id)).schedule
    resumed_at = datetime.now(UTC)
    assert resumed.next_fire_time.ToDatetime(tzinfo=UTC) > resumed_at - timedelta(seconds=1)
    wait_until(lambda: any(fire_time(r) > resumed_at for r in runs_of(client, schedule.id)),
               timeout=10, what="a run after resume")
    time.sleep(0.5)
    runs = runs_of(client, schedule.id)
    in_pause = [fire_time(r) for r in runs
                if paused_at + timedelta(seconds=1) < fire_time(r) < resumed_at]
    assert in_pause == [], "fires of the paused period ran after resume"
    assert [m for m in missed_fires_of(client, schedule.id)
            if m.reason != schedule_pb2.MISSED_FIRE_REASON_PAUSED] == []
