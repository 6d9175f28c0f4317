"""``ferry schedules``: create, list, show, pause, resume, delete and preview."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import click
from ferry.durations import format_duration, parse_duration_proto
from ferry.grpc_client import all_pages
from ferry.v1 import profile_pb2, schedule_pb2, schedule_service_pb2
from ferry_domain.schedules import DEFAULT_MISFIRE_GRACE
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from ferry_cli.client import CliContext
from ferry_cli.output import (
    full_time,
    local_time,
    message_dict,
    print_details,
    print_json,
    print_table,
    short_enum,
)

pass_cli = click.make_pass_decorator(CliContext)

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


def build_schedule(profile: str, *, hourly: bool = False, minute: int | None = None,
                   daily: str | None = None, weekly: tuple[str, str] | None = None,
                   cron: str | None = None, every: str | None = None, manual: bool = False,
                   timezone: str | None = None, misfire_grace: str | None = None,
                   catch_up: str | None = None, jitter: str | None = None,
                   description: str = "") -> schedule_pb2.Schedule:
    """The Schedule the create flags describe; click.UsageError when they clash."""
    chosen = [name for name, given in (("--hourly", hourly), ("--daily", daily),
                                       ("--weekly", weekly), ("--cron", cron),
                                       ("--every", every), ("--manual", manual)) if given]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one trigger: --hourly, --daily HH:MM, "
                               "--weekly DAY HH:MM, --cron EXPR, --every DURATION or --manual"
                               + (f" (got {', '.join(chosen)})" if chosen else ""))
    if minute is not None and not hourly:
        raise click.UsageError("--minute goes with --hourly")
    schedule = schedule_pb2.Schedule(profile=profile, description=description)
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
    else:
        schedule.manual.SetInParent()
    if timezone:
        schedule.time_zone = timezone
    if misfire_grace:
        schedule.misfire_grace.CopyFrom(_duration(misfire_grace, "--misfire-grace"))
    if jitter:
        schedule.jitter.CopyFrom(_duration(jitter, "--jitter"))
    if catch_up:
        schedule.catch_up = schedule_pb2.CatchUpPolicy.Value(f"CATCH_UP_POLICY_{catch_up.upper()}")
    return schedule


def describe_trigger(schedule: schedule_pb2.Schedule) -> str:
    """``hourly at :15``, ``daily 06:00``, ``weekly mon 06:00``, ``cron */5 * * * *``, ..."""
    kind = schedule.WhichOneof("trigger")
    if kind == "hourly":
        return f"hourly at :{schedule.hourly.minute:02d}"
    if kind == "daily":
        time = schedule.daily.time
        return f"daily {time.hours:02d}:{time.minutes:02d}"
    if kind == "weekly":
        day = short_enum(schedule_pb2.Weekday.Name(schedule.weekly.day), "WEEKDAY_").lower()
        time = schedule.weekly.time
        return f"weekly {day[:3]} {time.hours:02d}:{time.minutes:02d}"
    if kind == "cron":
        return f"cron {schedule.cron.expression}"
    if kind == "interval":
        return f"every {format_duration(schedule.interval.every)}"
    return "manual" if kind == "manual" else "-"


def _state(schedule: schedule_pb2.Schedule) -> str:
    if not schedule.paused:
        return "active"
    return f"paused ({schedule.pause_reason})" if schedule.pause_reason else "paused"


SCHEDULE_COLUMNS = ["ID", "PROFILE", "TRIGGER", "TIME ZONE", "NEXT FIRE", "LAST FIRE", "STATE"]


def schedule_rows(items: list[schedule_pb2.Schedule]) -> list[list[str]]:
    return [[s.id, s.profile, describe_trigger(s), s.time_zone or "UTC",
             local_time(s.next_fire_time), local_time(s.last_fire_time), _state(s)]
            for s in items]


def schedule_details(schedule: schedule_pb2.Schedule) -> list[tuple[str, str]]:
    overlap = short_enum(profile_pb2.OverlapPolicy.Name(schedule.overlap_policy),
                         "OVERLAP_POLICY_").lower()
    catch_up = short_enum(schedule_pb2.CatchUpPolicy.Name(schedule.catch_up),
                          "CATCH_UP_POLICY_").lower()
    return [
        ("id", schedule.id),
        ("profile", schedule.profile),
        ("description", schedule.description),
        ("trigger", describe_trigger(schedule)),
        ("time zone", schedule.time_zone or "UTC"),
        ("state", _state(schedule)),
        ("next fire", full_time(schedule.next_fire_time)),
        ("last fire", full_time(schedule.last_fire_time)),
        ("misfire grace", format_duration(schedule.misfire_grace)
         if schedule.HasField("misfire_grace") else ""),
        ("catch up", catch_up),
        ("jitter", format_duration(schedule.jitter) if schedule.HasField("jitter") else ""),
        ("overlap", overlap),
        ("pause reason", schedule.pause_reason),
        ("consecutive failures", failures_text(schedule)),
        ("created", full_time(schedule.create_time)),
    ]


def failures_text(schedule: schedule_pb2.Schedule) -> str:
    """``2 (auto-pause after 5)``: consecutive failed scheduled runs and the limit."""
    text = str(schedule.consecutive_failures)
    if schedule.auto_pause_after > 0:
        text += f" (auto-pause after {schedule.auto_pause_after})"
    return text


def _print_schedule(obj: CliContext, schedule: schedule_pb2.Schedule) -> None:
    if obj.output == "json":
        print_json(schedule)
    else:
        print_details(schedule_details(schedule))


@click.group()
def schedules() -> None:
    """Schedules: when profiles run."""


def _on_one_schedule(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """Register ``ferry schedules NAME ID``; the function gets the CLI context
    and ``schedule_id`` (then its own options)."""

    def register(function: Callable[..., None]) -> click.Command:
        command = click.argument("schedule_id", metavar="ID")(pass_cli(function))
        return schedules.command(name)(command)

    return register


@schedules.command("create")
@click.argument("profile")
@click.option("--hourly", is_flag=True, help="Every hour (at --minute, default 0).")
@click.option("--minute", type=click.IntRange(0, 59), help="Minute of the hour for --hourly.")
@click.option("--daily", metavar="HH:MM", help="Every day at a local time.")
@click.option("--weekly", nargs=2, metavar="DAY HH:MM", help="Every week, e.g. --weekly mon 06:00.")
@click.option("--cron", metavar="EXPR", help='Five-field cron expression, e.g. "*/15 * * * *".')
@click.option("--every", metavar="DURATION", help="Fixed interval, e.g. 15m, 2h, 1h30m.")
@click.option("--manual", is_flag=True, help="Never fires; runs are started by hand.")
@click.option("--timezone", metavar="TZ", help="IANA time zone (default UTC).")
@click.option("--misfire-grace", metavar="DURATION",
              help="A fire later than this is missed "
                   f"(default {format_duration(DEFAULT_MISFIRE_GRACE)}).")
@click.option("--catch-up", type=click.Choice(["latest", "all", "skip"]),
              help="What to do with missed fires.")
@click.option("--jitter", metavar="DURATION", help="Random delay up to this much per fire.")
@click.option("--description", default="", help="Free text.")
@pass_cli
def create_schedule(obj: CliContext, profile: str, **flags) -> None:  # type: ignore[no-untyped-def]
    """Create a schedule for PROFILE."""
    flags["weekly"] = flags["weekly"] or None
    schedule = build_schedule(profile, **flags)
    reply = obj.client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
        schedule=schedule, request_id=str(uuid.uuid4())))
    _print_schedule(obj, reply.schedule)


@schedules.command("list")
@click.option("--profile", help="Only the schedules of this profile.")
@pass_cli
def list_schedules(obj: CliContext, profile: str | None) -> None:
    """List schedules."""
    query = f'profile = "{_quote(profile)}"' if profile else ""
    items: list[schedule_pb2.Schedule] = list(all_pages(
        obj.client.schedules.ListSchedules,
        schedule_service_pb2.ListSchedulesRequest(page_size=500, filter=query), "schedules"))
    if obj.output == "json":
        print_json({"schedules": [message_dict(s) for s in items]})
    else:
        print_table(SCHEDULE_COLUMNS, schedule_rows(items), empty="no schedules")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _preview(obj: CliContext, schedule_id: str, count: int) -> list[Timestamp]:
    reply = obj.client.schedules.PreviewSchedule(
        schedule_service_pb2.PreviewScheduleRequest(id=schedule_id, count=count))
    return list(reply.fire_times)


@_on_one_schedule("get")
def get_schedule(obj: CliContext, schedule_id: str) -> None:
    """Show a schedule and its next 5 fire times."""
    reply = obj.client.schedules.GetSchedule(
        schedule_service_pb2.GetScheduleRequest(id=schedule_id))
    times = _preview(obj, schedule_id, 5)
    if obj.output == "json":
        print_json({"schedule": message_dict(reply.schedule),
                    "nextFireTimes": [t.ToJsonString() for t in times]})
        return
    print_details(schedule_details(reply.schedule))
    click.echo("next fire times:" if times else "next fire times: none")
    for stamp in times:
        click.echo(f"  {full_time(stamp)}")


@_on_one_schedule("preview")
@click.option("-n", "--count", type=click.IntRange(1, 100), default=5, show_default=True,
              help="How many fire times.")
def preview_schedule(obj: CliContext, schedule_id: str, count: int) -> None:
    """Show the next fire times of a schedule."""
    times = _preview(obj, schedule_id, count)
    if obj.output == "json":
        print_json({"fireTimes": [t.ToJsonString() for t in times]})
    elif not times:
        click.echo("no fire times (manual or paused schedule)")
    else:
        for stamp in times:
            click.echo(full_time(stamp))


@_on_one_schedule("pause")
@click.option("--reason", default="", help="Why; shown in 'schedules list'.")
def pause_schedule(obj: CliContext, schedule_id: str, reason: str) -> None:
    """Pause a schedule: it stops firing until resumed."""
    reply = obj.client.schedules.PauseSchedule(
        schedule_service_pb2.PauseScheduleRequest(id=schedule_id, reason=reason))
    if obj.output == "json":
        print_json(reply.schedule)
    else:
        click.echo(f"schedule {schedule_id}: paused")


@_on_one_schedule("resume")
def resume_schedule(obj: CliContext, schedule_id: str) -> None:
    """Resume a paused schedule from now (fires missed while paused are not run)."""
    reply = obj.client.schedules.ResumeSchedule(
        schedule_service_pb2.ResumeScheduleRequest(id=schedule_id))
    if obj.output == "json":
        print_json(reply.schedule)
    else:
        click.echo(f"schedule {schedule_id}: resumed, next fire "
                   f"{full_time(reply.schedule.next_fire_time)}")


@_on_one_schedule("delete")
def delete_schedule(obj: CliContext, schedule_id: str) -> None:
    """Delete a schedule."""
    obj.client.schedules.DeleteSchedule(schedule_service_pb2.DeleteScheduleRequest(id=schedule_id))
    if obj.output == "json":
        print_json({"deleted": schedule_id})
    else:
        click.echo(f"schedule {schedule_id}: deleted")
