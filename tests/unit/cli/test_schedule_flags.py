"""``ferry schedules create`` flags become a Schedule, or a usage error."""

from __future__ import annotations

import click
import pytest
from ferry.v1 import schedule_pb2 as pb
from ferry_cli.schedule_flags import build_schedule


def test_each_trigger():
    assert build_schedule("p", hourly=True, minute=15).hourly.minute == 15
    assert build_schedule("p", hourly=True).WhichOneof("trigger") == "hourly"
    daily = build_schedule("p", daily="6:05", timezone="Europe/Paris")
    assert (daily.daily.time.hours, daily.daily.time.minutes, daily.time_zone) == (
        6, 5, "Europe/Paris")
    weekly = build_schedule("p", weekly=("Monday", "23:59"))
    assert weekly.weekly.day == pb.WEEKDAY_MONDAY
    assert build_schedule("p", weekly=("sun", "00:00")).weekly.day == pb.WEEKDAY_SUNDAY
    assert build_schedule("p", cron="*/5 * * * *").cron.expression == "*/5 * * * *"
    assert build_schedule("p", every="1h30m").interval.every.seconds == 5400
    assert build_schedule("p", manual=True).WhichOneof("trigger") == "manual"


def test_misfire_catch_up_and_jitter():
    schedule = build_schedule("p", manual=True, misfire_grace="10m", catch_up="all", jitter="30s")
    assert schedule.misfire_grace.seconds == 600
    assert schedule.catch_up == pb.CATCH_UP_POLICY_ALL
    assert schedule.jitter.seconds == 30
    assert schedule.profile == "p"


@pytest.mark.parametrize("flags", [{}, {"hourly": True, "manual": True},
                                   {"daily": "06:00", "cron": "* * * * *"}])
def test_exactly_one_trigger(flags):
    with pytest.raises(click.UsageError, match="exactly one trigger"):
        build_schedule("p", **flags)


def test_minute_needs_hourly():
    with pytest.raises(click.UsageError, match="--minute goes with --hourly"):
        build_schedule("p", daily="06:00", minute=5)


@pytest.mark.parametrize("flags", [{"daily": "24:00"}, {"daily": "6"}, {"daily": "06:60"},
                                   {"weekly": ("someday", "06:00")}, {"every": "soon"},
                                   {"manual": True, "jitter": "x"}])
def test_bad_values(flags):
    with pytest.raises(click.BadParameter):
        build_schedule("p", **flags)
