"""Structural validation of a ``ferry.v1.Schedule``.

Each rule yields a :class:`ferry.errors.Violation` that names the field with a
dotted path rooted at ``schedule`` (``schedule.cron.expression``,
``schedule.time_zone``), so the registry can return them as field violations.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter
from ferry.durations import check_duration
from ferry.errors import Violation
from ferry.v1 import schedule_pb2

TRIGGER_KINDS = ("hourly", "daily", "weekly", "cron", "interval", "manual")
MIN_INTERVAL_SECONDS = 1


def validate_schedule(schedule: schedule_pb2.Schedule) -> list[Violation]:
    """Every structural problem of ``schedule``; empty when it is valid."""
    violations: list[Violation] = []
    violations += _check_time_zone(schedule.time_zone)
    kind = schedule.WhichOneof("trigger")
    if kind is None:
        violations.append(
            Violation(
                "schedule.trigger",
                "exactly one trigger must be set: " + ", ".join(TRIGGER_KINDS),
            )
        )
    elif kind == "hourly":
        violations += _check_range(schedule.hourly.minute, 0, 59, "schedule.hourly.minute")
    elif kind == "daily":
        violations += _check_time_of_day(schedule.daily.time, "schedule.daily.time")
    elif kind == "weekly":
        violations += _check_weekday(schedule.weekly.day, "schedule.weekly.day")
        violations += _check_time_of_day(schedule.weekly.time, "schedule.weekly.time")
    elif kind == "cron":
        violations += check_cron_expression(schedule.cron.expression, "schedule.cron.expression")
    elif kind == "interval":
        violations += _check_interval(schedule.interval, "schedule.interval")
    violations += check_duration(schedule.misfire_grace, "schedule.misfire_grace")
    violations += check_duration(schedule.jitter, "schedule.jitter")
    if schedule.auto_pause_after < 0:
        violations.append(Violation("schedule.auto_pause_after", "must be 0 or more"))
    return violations


def _check_time_zone(name: str) -> list[Violation]:
    if not name:
        return []  # defaults to UTC
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [
            Violation(
                "schedule.time_zone",
                f'unknown time zone "{name}" (expected an IANA name such as Europe/Paris or UTC)',
            )
        ]
    return []


def _check_range(value: int, low: int, high: int, field: str) -> list[Violation]:
    if low <= value <= high:
        return []
    return [Violation(field, f"must be between {low} and {high}, got {value}")]


def _check_time_of_day(time: schedule_pb2.TimeOfDay, field: str) -> list[Violation]:
    return _check_range(time.hours, 0, 23, f"{field}.hours") + _check_range(
        time.minutes, 0, 59, f"{field}.minutes"
    )


def _check_weekday(day: int, field: str) -> list[Violation]:
    if day == schedule_pb2.WEEKDAY_UNSPECIFIED:
        return [Violation(field, "must be set (monday to sunday)")]
    if day not in schedule_pb2.Weekday.values():
        return [Violation(field, f"unknown weekday {day}")]
    return []


def check_cron_expression(expression: str, field: str) -> list[Violation]:
    """Violations for a cron expression that is not five valid fields or never fires."""
    fields = expression.split()
    if len(fields) != 5:
        return [
            Violation(
                field,
                f'"{expression}" must have 5 fields (minute hour day-of-month month '
                f"day-of-week), got {len(fields)}",
            )
        ]
    if not croniter.is_valid(expression):
        return [Violation(field, f'"{expression}" is not a valid cron expression')]
    try:
        croniter(expression, datetime(2000, 1, 1), max_years_between_matches=30).get_next(datetime)
    except CroniterBadDateError:
        return [Violation(field, f'"{expression}" never fires')]
    except (CroniterError, ValueError, KeyError):
        return [Violation(field, f'"{expression}" is not a valid cron expression')]
    return []


def _check_interval(interval: schedule_pb2.IntervalTrigger, field: str) -> list[Violation]:
    seconds = interval.every.seconds + interval.every.nanos / 1e9
    if seconds <= 0:
        return [Violation(f"{field}.every", "must be greater than zero")]
    if seconds < MIN_INTERVAL_SECONDS:
        return [Violation(f"{field}.every", f"must be at least {MIN_INTERVAL_SECONDS}s")]
    return []
