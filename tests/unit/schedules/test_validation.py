"""validate_schedule names each bad field."""

from __future__ import annotations

import pytest
from ferry.v1 import schedule_pb2 as pb
from ferry_domain.schedules import validate_schedule
from google.protobuf.duration_pb2 import Duration


def fields(schedule: pb.Schedule) -> list[str]:
    return [v.field for v in validate_schedule(schedule)]


@pytest.mark.parametrize(
    "schedule",
    [
        pb.Schedule(hourly=pb.HourlyTrigger(minute=0)),
        pb.Schedule(hourly=pb.HourlyTrigger(minute=59), time_zone="Asia/Kolkata"),
        pb.Schedule(daily=pb.DailyTrigger(time=pb.TimeOfDay(hours=23, minutes=59))),
        pb.Schedule(
            weekly=pb.WeeklyTrigger(day=pb.WEEKDAY_SUNDAY, time=pb.TimeOfDay(hours=2)),
            time_zone="Europe/Paris",
        ),
        pb.Schedule(cron=pb.CronTrigger(expression="*/15 8-18 * * mon-fri")),
        pb.Schedule(interval=pb.IntervalTrigger(every=Duration(seconds=1))),
        pb.Schedule(manual=pb.ManualTrigger(), misfire_grace=Duration(seconds=0)),
        pb.Schedule(manual=pb.ManualTrigger(), jitter=Duration(seconds=30)),
    ],
)
def test_valid_schedules(schedule):
    assert validate_schedule(schedule) == []


@pytest.mark.parametrize(
    ("schedule", "field", "words"),
    [
        (pb.Schedule(), "schedule.trigger", "exactly one trigger"),
        (pb.Schedule(manual=pb.ManualTrigger(), time_zone="Mars/Olympus"), "schedule.time_zone",
         "Mars/Olympus"),
        (pb.Schedule(manual=pb.ManualTrigger(), time_zone="../etc/passwd"), "schedule.time_zone",
         "unknown time zone"),
        (pb.Schedule(hourly=pb.HourlyTrigger(minute=60)), "schedule.hourly.minute", "0 and 59"),
        (pb.Schedule(hourly=pb.HourlyTrigger(minute=-1)), "schedule.hourly.minute", "0 and 59"),
        (pb.Schedule(daily=pb.DailyTrigger(time=pb.TimeOfDay(hours=24))),
         "schedule.daily.time.hours", "0 and 23"),
        (pb.Schedule(daily=pb.DailyTrigger(time=pb.TimeOfDay(hours=1, minutes=75))),
         "schedule.daily.time.minutes", "0 and 59"),
        (pb.Schedule(weekly=pb.WeeklyTrigger(time=pb.TimeOfDay(hours=1))),
         "schedule.weekly.day", "must be set"),
        (pb.Schedule(weekly=pb.WeeklyTrigger(day=pb.WEEKDAY_MONDAY,
                                             time=pb.TimeOfDay(hours=-1))),
         "schedule.weekly.time.hours", "0 and 23"),
        (pb.Schedule(cron=pb.CronTrigger(expression="0 * * *")), "schedule.cron.expression",
         "5 fields"),
        (pb.Schedule(cron=pb.CronTrigger(expression="0 0 * * * *")), "schedule.cron.expression",
         "5 fields"),
        (pb.Schedule(cron=pb.CronTrigger(expression="@daily")), "schedule.cron.expression",
         "5 fields"),
        (pb.Schedule(cron=pb.CronTrigger(expression="61 * * * *")), "schedule.cron.expression",
         "not a valid cron"),
        (pb.Schedule(cron=pb.CronTrigger(expression="0 0 31 2 *")), "schedule.cron.expression",
         "never fires"),
        (pb.Schedule(cron=pb.CronTrigger(expression="")), "schedule.cron.expression", "5 fields"),
        (pb.Schedule(interval=pb.IntervalTrigger()), "schedule.interval.every",
         "greater than zero"),
        (pb.Schedule(interval=pb.IntervalTrigger(every=Duration(seconds=-5))),
         "schedule.interval.every", "greater than zero"),
        (pb.Schedule(interval=pb.IntervalTrigger(every=Duration(nanos=500_000_000))),
         "schedule.interval.every", "at least 1s"),
        (pb.Schedule(manual=pb.ManualTrigger(), misfire_grace=Duration(seconds=-1)),
         "schedule.misfire_grace", "negative"),
        (pb.Schedule(manual=pb.ManualTrigger(), jitter=Duration(seconds=-1)),
         "schedule.jitter", "negative"),
    ],
)
def test_invalid_schedules_name_the_field(schedule, field, words):
    violations = validate_schedule(schedule)
    assert [v.field for v in violations] == [field]
    assert words in violations[0].description


def test_several_violations_are_all_reported():
    schedule = pb.Schedule(
        daily=pb.DailyTrigger(time=pb.TimeOfDay(hours=25, minutes=60)),
        time_zone="Nowhere/City",
        jitter=Duration(seconds=-3),
    )
    assert fields(schedule) == [
        "schedule.time_zone",
        "schedule.daily.time.hours",
        "schedule.daily.time.minutes",
        "schedule.jitter",
    ]
