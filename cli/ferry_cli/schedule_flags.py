"""Flags of ``ferry schedules create`` and ``update``: triggers, times of day,
weekdays, durations, and the Schedule fields they set."""

from __future__ import annotations

import re

import click
from ferry.durations import format_duration, parse_duration_proto
from ferry.v1 import schedule_pb2
from ferry_domain.schedules import DEFAULT_MISFIRE_GRACE
from google.protobuf.duration_pb2 import Duration

WEEKDAYS = {name[len("WEEKDAY_"):].lower(): value
            for name, value in schedule_pb2.Weekday.items() if value}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_time_of_day(text: str) -> schedule_pb2.TimeOfDay:
    match = _TIME.match(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise click.BadParameter(f'"{text}" is not a time of day HH:MM (00:00 to 23:59)')
    return schedule_pb2.TimeOfDay(hours=int(match[1]), minutes=int(match[2]))


def parse_weekday(text: str) -> int:
    key = text.strip().lower()
    for name, value in WEEKDAYS.items():
        if key in (name, name[:3]):
            return value
    raise click.BadParameter(f'"{text}" is not a weekday (mon, tue, ..., sun)')


def _duration(text: str, option: str) -> Duration:
    try:
        return parse_duration_proto(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


TRIGGER_HINT = ("--hourly, --daily HH:MM, --weekly DAY HH:MM, --cron EXPR, --every DURATION "
                "or --manual")


def set_trigger(schedule: schedule_pb2.Schedule, *, hourly: bool = False,
                minute: int | None = None, daily: str | None = None,
                weekly: tuple[str, str] | None = None, cron: str | None = None,
                every: str | None = None, manual: bool = False) -> str | None:
    """Set the trigger the flags name; its field name, or None when none is given.
    click.UsageError when two are given or --minute comes without --hourly."""
    chosen = [name for name, given in (("--hourly", hourly), ("--daily", daily),
                                       ("--weekly", weekly), ("--cron", cron),
                                       ("--every", every), ("--manual", manual)) if given]
    if len(chosen) > 1:
        raise click.UsageError(f"give exactly one trigger: {TRIGGER_HINT} "
                               f"(got {', '.join(chosen)})")
    if minute is not None and not hourly:
        raise click.UsageError("--minute goes with --hourly")
    if hourly:
        schedule.hourly.minute = minute or 0
    elif daily:
        schedule.daily.time.CopyFrom(parse_time_of_day(daily))
    elif weekly:
        schedule.weekly.day = parse_weekday(weekly[0])
        schedule.weekly.time.CopyFrom(parse_time_of_day(weekly[1]))
    elif cron:
        schedule.cron.expression = cron
    elif every:
        schedule.interval.every.CopyFrom(_duration(every, "--every"))
    elif manual:
        schedule.manual.SetInParent()
    return schedule.WhichOneof("trigger")


def set_timing(schedule: schedule_pb2.Schedule, *, timezone: str | None = None,
               misfire_grace: str | None = None, catch_up: str | None = None,
               jitter: str | None = None) -> list[str]:
    """Set the timing fields the flags give; the Schedule field names set."""
    paths = []
    if timezone is not None:
        schedule.time_zone = timezone
        paths.append("time_zone")
    if misfire_grace is not None:
        schedule.misfire_grace.CopyFrom(_duration(misfire_grace, "--misfire-grace"))
        paths.append("misfire_grace")
    if jitter is not None:
        schedule.jitter.CopyFrom(_duration(jitter, "--jitter"))
        paths.append("jitter")
    if catch_up is not None:
        schedule.catch_up = schedule_pb2.CatchUpPolicy.Value(f"CATCH_UP_POLICY_{catch_up.upper()}")
        paths.append("catch_up")
    return paths


def build_schedule(profile: str, *, hourly: bool = False, minute: int | None = None,
                   daily: str | None = None, weekly: tuple[str, str] | None = None,
                   cron: str | None = None, every: str | None = None, manual: bool = False,
                   timezone: str | None = None, misfire_grace: str | None = None,
                   catch_up: str | None = None, jitter: str | None = None,
                   description: str | None = None) -> schedule_pb2.Schedule:
    """The Schedule the create flags describe; click.UsageError when they clash."""
    schedule = schedule_pb2.Schedule(profile=profile, description=description or "")
    if set_trigger(schedule, hourly=hourly, minute=minute, daily=daily, weekly=weekly,
                   cron=cron, every=every, manual=manual) is None:
        raise click.UsageError(f"give exactly one trigger: {TRIGGER_HINT}")
    set_timing(schedule, timezone=timezone or None, misfire_grace=misfire_grace or None,
               catch_up=catch_up, jitter=jitter or None)
    return schedule


_SCHEDULE_OPTIONS = (
    click.option("--hourly", is_flag=True, help="Every hour (at --minute, default 0)."),
    click.option("--minute", type=click.IntRange(0, 59), help="Minute of the hour for --hourly."),
    click.option("--daily", metavar="HH:MM", help="Every day at a local time."),
    click.option("--weekly", nargs=2, metavar="DAY HH:MM",
                 help="Every week, e.g. --weekly mon 06:00."),
    click.option("--cron", metavar="EXPR", help='Five-field cron expression, e.g. "*/15 * * * *".'),
    click.option("--every", metavar="DURATION", help="Fixed interval, e.g. 15m, 2h, 1h30m."),
    click.option("--manual", is_flag=True, help="Never fires; runs are started by hand."),
    click.option("--timezone", metavar="TZ", help="IANA time zone (default UTC)."),
    click.option("--misfire-grace", metavar="DURATION",
                 help="A fire later than this is missed "
                      f"(default {format_duration(DEFAULT_MISFIRE_GRACE)})."),
    click.option("--catch-up", type=click.Choice(["latest", "all", "skip"]),
                 help="What to do with missed fires."),
    click.option("--jitter", metavar="DURATION", help="Random delay up to this much per fire."),
    click.option("--description", help="Free text."),
)


def schedule_options(command):  # type: ignore[no-untyped-def]
    """The trigger and timing flags of ``schedules create`` and ``schedules update``."""
    for option in reversed(_SCHEDULE_OPTIONS):
        command = option(command)
    return command
