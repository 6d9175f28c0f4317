"""The planning core: due fires, misfire grace, catch-up policies, jitter, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from ferry.v1 import schedule_pb2 as pb
from ferry_domain.schedules import DEFAULT_MISFIRE_GRACE, fire_times_after
from ferry_scheduler.planning import (
    CatchUp,
    MissedFire,
    MissedReason,
    ScheduleState,
    jitter_delay,
    plan_fires,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def every(seconds: int) -> pb.Schedule:
    start = Timestamp()
    start.FromDatetime(ANCHOR)
    return pb.Schedule(id="s1", interval=pb.IntervalTrigger(
        every=Duration(seconds=seconds), start_time=start))


def daily(hours: int, minutes: int, zone: str) -> pb.Schedule:
    return pb.Schedule(id="s1", time_zone=zone,
                       daily=pb.DailyTrigger(time=pb.TimeOfDay(hours=hours, minutes=minutes)))


def state(next_fire: datetime | None, **kwargs) -> ScheduleState:
    return ScheduleState(schedule_id="s1", next_fire_time=next_fire, **kwargs)


def times(schedule: pb.Schedule):
    return partial(fire_times_after, schedule)


MINUTE = every(60)


def test_not_yet_due_plans_nothing_and_keeps_next_fire_time():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), last_fire_time=utc(2026, 5, 1, 10)),
                      utc(2026, 5, 1, 10, 0, 30), times(MINUTE))
    assert plan.fires == [] and plan.missed == []
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 1)
    assert plan.last_fire_time == utc(2026, 5, 1, 10)
    assert not plan.changed


def test_on_time_fire_runs_once_and_moves_to_the_next_fire_time():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1)), utc(2026, 5, 1, 10, 1, 0, 300_000),
                      times(MINUTE))
    assert [f.fire_time for f in plan.fires] == [utc(2026, 5, 1, 10, 1)]
    assert plan.fires[0].publish_at == utc(2026, 5, 1, 10, 1, 0, 300_000)  # now, no jitter
    assert plan.missed == []
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 2)
    assert plan.last_fire_time == utc(2026, 5, 1, 10, 1)


def test_fire_exactly_at_now_is_due():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1)), utc(2026, 5, 1, 10, 1), times(MINUTE))
    assert [f.fire_time for f in plan.fires] == [utc(2026, 5, 1, 10, 1)]


def test_latest_coalesces_a_backlog_into_the_latest_fire():
    # Down from 10:01 to 10:05:30: fires 10:01..10:05 are due.
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), catch_up=CatchUp.LATEST),
                      utc(2026, 5, 1, 10, 5, 30), times(MINUTE))
    assert [f.fire_time for f in plan.fires] == [utc(2026, 5, 1, 10, 5)]
    assert plan.missed == [MissedFire(utc(2026, 5, 1, 10, m), MissedReason.COALESCED)
                           for m in range(1, 5)]
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 6)
    assert plan.last_fire_time == utc(2026, 5, 1, 10, 5)


def test_latest_runs_the_latest_fire_even_when_it_is_past_the_grace():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), misfire_grace=timedelta(seconds=10)),
                      utc(2026, 5, 1, 10, 3, 30), times(MINUTE))
    assert [f.fire_time for f in plan.fires] == [utc(2026, 5, 1, 10, 3)]
    assert [m.reason for m in plan.missed] == [MissedReason.COALESCED] * 2


def test_all_runs_every_missed_fire_in_order():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), catch_up=CatchUp.ALL,
                            misfire_grace=timedelta(seconds=1)),
                      utc(2026, 5, 1, 10, 5, 30), times(MINUTE))
    assert [f.fire_time for f in plan.fires] == [utc(2026, 5, 1, 10, m) for m in range(1, 6)]
    assert plan.missed == []
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 6)


def test_all_is_bounded_per_pass_and_carries_on_next_pass():
    now = utc(2026, 5, 1, 12, 0, 30)  # 120 fires due from 10:01
    first = plan_fires(state(utc(2026, 5, 1, 10, 1), catch_up=CatchUp.ALL), now,
                       times(MINUTE), max_runs=100)
    assert len(first.fires) == 100
    assert first.fires[-1].fire_time == utc(2026, 5, 1, 11, 40)
    assert first.next_fire_time == utc(2026, 5, 1, 11, 41)  # still due: next pass
    second = plan_fires(state(first.next_fire_time, catch_up=CatchUp.ALL), now,
                        times(MINUTE), max_runs=100)
    assert [f.fire_time for f in second.fires][0] == utc(2026, 5, 1, 11, 41)
    assert second.fires[-1].fire_time == utc(2026, 5, 1, 12, 0)
    assert len(first.fires) + len(second.fires) == 120
    assert second.next_fire_time == utc(2026, 5, 1, 12, 1)


def test_skip_runs_fires_within_grace_and_records_late_ones_as_misfires():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), catch_up=CatchUp.SKIP,
                            misfire_grace=timedelta(seconds=90)),
                      utc(2026, 5, 1, 10, 5, 30), times(MINUTE))
    # 10:05 is 30 s late and 10:04 is 90 s late (within grace); earlier ones are misfires.
    assert [f.fire_time for f in plan.fires] == [utc(2026, 5, 1, 10, 4), utc(2026, 5, 1, 10, 5)]
    assert plan.missed == [MissedFire(utc(2026, 5, 1, 10, m), MissedReason.MISFIRE)
                           for m in range(1, 4)]
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 6)


def test_skip_with_every_fire_late_runs_nothing_and_keeps_last_fire_time():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), catch_up=CatchUp.SKIP,
                            misfire_grace=timedelta(seconds=5),
                            last_fire_time=utc(2026, 5, 1, 10)),
                      utc(2026, 5, 1, 10, 2, 30), times(MINUTE))
    assert plan.fires == []
    assert [m.reason for m in plan.missed] == [MissedReason.MISFIRE] * 2
    assert plan.last_fire_time == utc(2026, 5, 1, 10)
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 3)


def test_unset_grace_means_the_default_five_minutes():
    late = DEFAULT_MISFIRE_GRACE + timedelta(seconds=1)
    plan = plan_fires(state(utc(2026, 5, 1, 10), catch_up=CatchUp.SKIP,
                            misfire_grace=timedelta(0)),
                      utc(2026, 5, 1, 10) + late, times(every(3600)))
    assert plan.fires == [] and [m.reason for m in plan.missed] == [MissedReason.MISFIRE]


def test_paused_schedule_does_not_fire():
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), paused=True),
                      utc(2026, 5, 1, 10, 5), times(MINUTE))
    assert plan.fires == [] and plan.missed == []


def test_manual_schedule_has_no_next_fire():
    manual = pb.Schedule(id="s1", manual=pb.ManualTrigger())
    plan = plan_fires(state(None), utc(2026, 5, 1), times(manual))
    assert plan.fires == [] and plan.next_fire_time is None


def test_jitter_delays_the_publish_never_the_fire_time():
    jitter = timedelta(seconds=30)
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), jitter=jitter),
                      utc(2026, 5, 1, 10, 1), times(MINUTE))
    (fire,) = plan.fires
    assert fire.fire_time == utc(2026, 5, 1, 10, 1)
    assert timedelta(0) <= fire.delay < jitter
    assert fire.delay == jitter_delay("s1", utc(2026, 5, 1, 10, 1), jitter)  # stable
    delays = {jitter_delay(f"s{i}", utc(2026, 5, 1, 10, 1), jitter) for i in range(50)}
    assert len(delays) > 40 and all(timedelta(0) <= d < jitter for d in delays)
    assert jitter_delay("s1", utc(2026, 5, 1), timedelta(0)) == timedelta(0)


def test_long_backlog_is_scanned_in_bounded_steps_under_latest():
    now = utc(2026, 5, 1, 10) + timedelta(minutes=2500)
    seen_missed = 0
    next_fire = utc(2026, 5, 1, 10, 1)
    fired: list[datetime] = []
    for _ in range(5):
        plan = plan_fires(state(next_fire), now, times(MINUTE), max_scan=1000)
        assert len(plan.missed) <= 1000
        seen_missed += len(plan.missed)
        fired.extend(f.fire_time for f in plan.fires)
        next_fire = plan.next_fire_time
        if plan.fires:
            break
    assert fired == [now]  # the latest due fire runs once, at the end
    assert seen_missed == 2499
    assert next_fire == now + timedelta(minutes=1)


# -- time zones and DST ----------------------------------------------------------


def test_daily_backlog_across_spring_forward_in_paris():
    # Daily 02:30 Europe/Paris; down from Friday to Monday across 29 March 2026,
    # when 02:30 does not exist (it fires at 03:00 local, 01:00 UTC).
    plan = plan_fires(state(utc(2026, 3, 28, 1, 30), catch_up=CatchUp.ALL),
                      utc(2026, 3, 30, 12), times(daily(2, 30, "Europe/Paris")))
    fired = [f.fire_time for f in plan.fires]
    assert fired == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]
    assert [t.astimezone(PARIS).strftime("%d %H:%M") for t in fired] == [
        "28 02:30", "29 03:00", "30 02:30"]
    assert plan.next_fire_time == utc(2026, 3, 31, 0, 30)


def test_daily_latest_across_spring_forward_records_coalesced_fires_in_utc():
    plan = plan_fires(state(utc(2026, 3, 28, 1, 30)), utc(2026, 3, 30, 12),
                      times(daily(2, 30, "Europe/Paris")))
    assert [f.fire_time for f in plan.fires] == [utc(2026, 3, 30, 0, 30)]
    assert [m.fire_time for m in plan.missed] == [utc(2026, 3, 28, 1, 30),
                                                  utc(2026, 3, 29, 1, 0)]


def test_hourly_across_fall_back_fires_every_real_hour_once():
    # New York, 1 November 2026: 01:30 happens twice (EDT then EST).
    hourly = pb.Schedule(id="s1", time_zone="America/New_York",
                         hourly=pb.HourlyTrigger(minute=30))
    plan = plan_fires(state(utc(2026, 11, 1, 4, 30), catch_up=CatchUp.ALL),
                      utc(2026, 11, 1, 7, 45), times(hourly))
    fired = [f.fire_time for f in plan.fires]
    assert fired == [utc(2026, 11, 1, h, 30) for h in (4, 5, 6, 7)]
    assert [t.astimezone(NEW_YORK).strftime("%H:%M %Z") for t in fired] == [
        "00:30 EDT", "01:30 EDT", "01:30 EST", "02:30 EST"]
    assert len(set(fired)) == len(fired)


@pytest.mark.parametrize("policy", list(CatchUp))
def test_every_due_fire_is_either_run_or_recorded_missed(policy):
    now = utc(2026, 5, 1, 10, 7, 10)
    plan = plan_fires(state(utc(2026, 5, 1, 10, 1), catch_up=policy,
                            misfire_grace=timedelta(seconds=150)), now, times(MINUTE))
    accounted = sorted([f.fire_time for f in plan.fires] + [m.fire_time for m in plan.missed])
    assert accounted == [utc(2026, 5, 1, 10, m) for m in range(1, 8)]
    assert plan.next_fire_time == utc(2026, 5, 1, 10, 8)
