"""Fire times of every trigger kind, across DST changes both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ferry.errors import InvalidArgumentError
from ferry.v1 import schedule_pb2 as pb
from ferry_domain.schedules import fire_times_after, next_fire_time
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, times: list[datetime]) -> list[str]:
    return [t.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") for t in times]


def daily(hours: int, minutes: int, zone: str) -> pb.Schedule:
    return pb.Schedule(
        daily=pb.DailyTrigger(time=pb.TimeOfDay(hours=hours, minutes=minutes)), time_zone=zone
    )


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


# -- hourly -------------------------------------------------------------------


def test_hourly_fires_at_the_minute_every_hour_in_utc():
    schedule = pb.Schedule(hourly=pb.HourlyTrigger(minute=15))
    times = fire_times_after(schedule, utc(2026, 5, 1, 10, 15), 3)
    assert times == [utc(2026, 5, 1, 11, 15), utc(2026, 5, 1, 12, 15), utc(2026, 5, 1, 13, 15)]
    assert all(t.tzinfo is UTC for t in times)


def test_hourly_in_half_hour_zone_fires_at_local_minute():
    schedule = pb.Schedule(hourly=pb.HourlyTrigger(minute=0), time_zone="Asia/Kolkata")
    times = fire_times_after(schedule, utc(2026, 5, 1, 0, 0), 2)
    # Local 06:00 and 07:00 IST are 00:30 and 01:30 UTC.
    assert times == [utc(2026, 5, 1, 0, 30), utc(2026, 5, 1, 1, 30)]
    assert local(KOLKATA, times) == ["2026-05-01 06:00 +0530", "2026-05-01 07:00 +0530"]


def test_hourly_fires_once_per_real_hour_across_spring_forward():
    schedule = pb.Schedule(hourly=pb.HourlyTrigger(minute=30), time_zone="Europe/Paris")
    times = fire_times_after(schedule, utc(2026, 3, 28, 23, 0), 4)
    assert local(PARIS, times) == [
        "2026-03-29 00:30 +0100",
        "2026-03-29 01:30 +0100",
        "2026-03-29 03:30 +0200",  # 02:30 does not exist
        "2026-03-29 04:30 +0200",
    ]
    gaps = {b - a for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {timedelta(hours=1)}


def test_hourly_fires_in_both_occurrences_of_the_repeated_hour():
    schedule = pb.Schedule(hourly=pb.HourlyTrigger(minute=30), time_zone="America/New_York")
    times = fire_times_after(schedule, utc(2026, 11, 1, 4, 0), 4)
    assert local(NEW_YORK, times) == [
        "2026-11-01 00:30 -0400",
        "2026-11-01 01:30 -0400",
        "2026-11-01 01:30 -0500",
        "2026-11-01 02:30 -0500",
    ]


# -- daily --------------------------------------------------------------------


def test_daily_fires_at_local_time():
    times = fire_times_after(daily(6, 0, "Europe/Paris"), utc(2026, 7, 1, 12, 0), 2)
    assert times == [utc(2026, 7, 2, 4, 0), utc(2026, 7, 3, 4, 0)]


def test_daily_in_a_nonexistent_time_fires_at_the_end_of_the_gap():
    times = fire_times_after(daily(2, 30, "Europe/Paris"), utc(2026, 3, 28, 12, 0), 2)
    assert local(PARIS, times) == ["2026-03-29 03:00 +0200", "2026-03-30 02:30 +0200"]
    assert times[0] == utc(2026, 3, 29, 1, 0)


def test_daily_in_a_nonexistent_time_new_york():
    times = fire_times_after(daily(2, 15, "America/New_York"), utc(2026, 3, 7, 12, 0), 2)
    assert local(NEW_YORK, times) == ["2026-03-08 03:00 -0400", "2026-03-09 02:15 -0400"]


def test_daily_in_a_repeated_time_fires_once_at_the_first_occurrence():
    times = fire_times_after(daily(1, 30, "America/New_York"), utc(2026, 10, 31, 12, 0), 2)
    assert local(NEW_YORK, times) == ["2026-11-01 01:30 -0400", "2026-11-02 01:30 -0500"]


def test_daily_repeated_time_paris_fall_back():
    times = fire_times_after(daily(2, 30, "Europe/Paris"), utc(2026, 10, 24, 12, 0), 2)
    assert local(PARIS, times) == ["2026-10-25 02:30 +0200", "2026-10-26 02:30 +0100"]


def test_after_between_the_two_occurrences_does_not_fire_again():
    # First 01:30 EDT is 05:30 UTC; asking after it must not return the 01:30 EST.
    times = fire_times_after(daily(1, 30, "America/New_York"), utc(2026, 11, 1, 5, 30), 1)
    assert local(NEW_YORK, times) == ["2026-11-02 01:30 -0500"]


def test_fire_times_are_strictly_after():
    times = fire_times_after(daily(6, 0, "UTC"), utc(2026, 7, 2, 6, 0), 1)
    assert times == [utc(2026, 7, 3, 6, 0)]


def test_naive_after_is_taken_as_utc():
    times = fire_times_after(daily(6, 0, "UTC"), datetime(2026, 7, 2, 5, 0), 1)
    assert times == [utc(2026, 7, 2, 6, 0)]


def test_daily_in_half_hour_zone():
    times = fire_times_after(daily(9, 0, "Asia/Kolkata"), utc(2026, 1, 1, 0, 0), 1)
    assert times == [utc(2026, 1, 1, 3, 30)]


def test_empty_time_zone_means_utc():
    times = fire_times_after(daily(23, 59, ""), utc(2026, 1, 1, 0, 0), 1)
    assert times == [utc(2026, 1, 1, 23, 59)]


# -- weekly -------------------------------------------------------------------


def test_weekly_fires_on_the_day_and_time():
    schedule = pb.Schedule(
        weekly=pb.WeeklyTrigger(day=pb.WEEKDAY_SUNDAY, time=pb.TimeOfDay(hours=2, minutes=30)),
        time_zone="Europe/Paris",
    )
    times = fire_times_after(schedule, utc(2026, 3, 20, 0, 0), 3)
    assert local(PARIS, times) == [
        "2026-03-22 02:30 +0100",
        "2026-03-29 03:00 +0200",  # spring-forward Sunday
        "2026-04-05 02:30 +0200",
    ]
    assert {t.astimezone(PARIS).isoweekday() for t in times} == {7}


def test_weekly_monday():
    schedule = pb.Schedule(
        weekly=pb.WeeklyTrigger(day=pb.WEEKDAY_MONDAY, time=pb.TimeOfDay(hours=8)),
        time_zone="America/New_York",
    )
    times = fire_times_after(schedule, utc(2026, 6, 3, 0, 0), 2)  # a Wednesday
    assert local(NEW_YORK, times) == ["2026-06-08 08:00 -0400", "2026-06-15 08:00 -0400"]


# -- cron ---------------------------------------------------------------------


def test_cron_fixed_time_follows_wall_clock_through_the_gap():
    schedule = pb.Schedule(cron=pb.CronTrigger(expression="30 2 * * *"), time_zone="Europe/Paris")
    times = fire_times_after(schedule, utc(2026, 3, 28, 12, 0), 2)
    assert local(PARIS, times) == ["2026-03-29 03:00 +0200", "2026-03-30 02:30 +0200"]


def test_cron_wildcard_follows_real_time():
    schedule = pb.Schedule(
        cron=pb.CronTrigger(expression="*/30 * * * *"), time_zone="America/New_York"
    )
    times = fire_times_after(schedule, utc(2026, 11, 1, 5, 0), 4)
    assert local(NEW_YORK, times) == [
        "2026-11-01 01:30 -0400",
        "2026-11-01 01:00 -0500",
        "2026-11-01 01:30 -0500",
        "2026-11-01 02:00 -0500",
    ]


def test_cron_weekdays_and_day_of_month():
    schedule = pb.Schedule(cron=pb.CronTrigger(expression="0 9 1 * *"), time_zone="UTC")
    times = fire_times_after(schedule, utc(2026, 1, 15, 0, 0), 3)
    assert times == [utc(2026, 2, 1, 9), utc(2026, 3, 1, 9), utc(2026, 4, 1, 9)]
    weekdays = pb.Schedule(cron=pb.CronTrigger(expression="0 9 * * 1-5"))
    times = fire_times_after(weekdays, utc(2026, 6, 5, 12, 0), 2)  # Friday noon
    assert times == [utc(2026, 6, 8, 9), utc(2026, 6, 9, 9)]


def test_cron_in_half_hour_zone():
    schedule = pb.Schedule(cron=pb.CronTrigger(expression="0 0 * * *"), time_zone="Asia/Kolkata")
    assert next_fire_time(schedule, utc(2026, 1, 1, 0, 0)) == utc(2026, 1, 1, 18, 30)


def test_cron_that_never_fires_is_rejected():
    schedule = pb.Schedule(cron=pb.CronTrigger(expression="0 0 30 2 *"))
    with pytest.raises(InvalidArgumentError, match="never fires"):
        fire_times_after(schedule, utc(2026, 1, 1), 1)


# -- interval and manual ----------------------------------------------------------


def test_interval_counts_from_start_time():
    schedule = pb.Schedule(
        interval=pb.IntervalTrigger(
            every=Duration(seconds=90 * 60), start_time=timestamp(utc(2026, 1, 1, 0, 0))
        )
    )
    assert fire_times_after(schedule, utc(2026, 1, 1, 2, 0), 2) == [
        utc(2026, 1, 1, 3, 0),
        utc(2026, 1, 1, 4, 30),
    ]
    # Before the anchor, the anchor itself is the first fire.
    assert next_fire_time(schedule, utc(2025, 12, 31)) == utc(2026, 1, 1, 0, 0)
    # Exactly on a fire time: strictly after.
    assert next_fire_time(schedule, utc(2026, 1, 1, 3, 0)) == utc(2026, 1, 1, 4, 30)


def test_interval_counts_real_time_across_dst():
    schedule = pb.Schedule(
        interval=pb.IntervalTrigger(every=Duration(seconds=3600)),
        time_zone="Europe/Paris",
        create_time=timestamp(utc(2026, 3, 28, 22, 0)),
    )
    times = fire_times_after(schedule, utc(2026, 3, 29, 0, 0), 3)
    assert times == [utc(2026, 3, 29, 1), utc(2026, 3, 29, 2), utc(2026, 3, 29, 3)]


def test_interval_without_anchor_is_an_error():
    schedule = pb.Schedule(interval=pb.IntervalTrigger(every=Duration(seconds=60)))
    with pytest.raises(InvalidArgumentError, match="schedule.interval.start_time"):
        fire_times_after(schedule, utc(2026, 1, 1), 1)


def test_manual_never_fires():
    schedule = pb.Schedule(manual=pb.ManualTrigger())
    assert fire_times_after(schedule, utc(2026, 1, 1), 5) == []
    assert next_fire_time(schedule, utc(2026, 1, 1)) is None


def test_count_zero_and_invalid_schedule():
    assert fire_times_after(daily(6, 0, "UTC"), utc(2026, 1, 1), 0) == []
    with pytest.raises(InvalidArgumentError, match="schedule.time_zone"):
        fire_times_after(daily(6, 0, "Mars/Olympus"), utc(2026, 1, 1), 1)


def test_many_fire_times_are_ascending_and_unique():
    schedule = pb.Schedule(cron=pb.CronTrigger(expression="*/5 * * * *"), time_zone="Europe/Paris")
    times = fire_times_after(schedule, utc(2026, 10, 24, 23, 0), 100)
    assert len(times) == 100
    assert times == sorted(set(times))
    assert all(b - a == timedelta(minutes=5) for a, b in zip(times, times[1:], strict=False))
