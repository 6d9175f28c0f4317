"""``ferry schedules``: create, update, list, show, pause, resume, delete, preview
and the missed fires."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import click
from ferry.durations import format_duration
from ferry.grpc_client import all_pages
from ferry.v1 import profile_pb2, schedule_pb2, schedule_service_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from ferry_cli.client import CliContext
from ferry_cli.options import CommandGroup
from ferry_cli.output import (
    full_time,
    local_time,
    message_dict,
    print_details,
    print_json,
    print_table,
    short_enum,
)
from ferry_cli.schedule_flags import build_schedule, schedule_options, set_timing, set_trigger

pass_cli = click.make_pass_decorator(CliContext)


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


@click.group(cls=CommandGroup)
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
@schedule_options
@pass_cli
def create_schedule(obj: CliContext, profile: str, **flags) -> None:  # type: ignore[no-untyped-def]
    """Create a schedule for PROFILE."""
    flags["weekly"] = flags["weekly"] or None
    schedule = build_schedule(profile, **flags)
    reply = obj.client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
        schedule=schedule, request_id=str(uuid.uuid4())))
    _print_schedule(obj, reply.schedule)


OVERLAP_CHOICES = {"queue": profile_pb2.OVERLAP_POLICY_QUEUE,
                   "skip": profile_pb2.OVERLAP_POLICY_SKIP}


def schedule_update(schedule_id: str, *, profile: str | None = None,
                    auto_pause_after: int | None = None, overlap: str | None = None,
                    description: str | None = None, **flags
                    ) -> schedule_service_pb2.UpdateScheduleRequest:  # type: ignore[no-untyped-def]
    """The UpdateScheduleRequest the update flags describe: only the fields given
    are in the update mask, so every other field keeps its value."""
    schedule = schedule_pb2.Schedule(id=schedule_id)
    paths = [kind] if (kind := set_trigger(schedule, **{
        name: flags.get(name) for name in ("hourly", "minute", "daily", "weekly", "cron",
                                           "every", "manual")})) else []
    paths += set_timing(schedule, **{name: flags.get(name) for name in (
        "timezone", "misfire_grace", "catch_up", "jitter")})
    if profile is not None:
        schedule.profile = profile
        paths.append("profile")
    if description is not None:
        schedule.description = description
        paths.append("description")
    if auto_pause_after is not None:
        schedule.auto_pause_after = auto_pause_after
        paths.append("auto_pause_after")
    if overlap is not None:
        schedule.overlap_policy = OVERLAP_CHOICES[overlap]
        paths.append("overlap_policy")
    if not paths:
        raise click.UsageError("nothing to update: give a trigger or at least one option "
                               "(see ferry schedules update --help)")
    return schedule_service_pb2.UpdateScheduleRequest(schedule=schedule,
                                                      update_mask=FieldMask(paths=paths))


@schedules.command("update")
@click.argument("schedule_id", metavar="ID")
@schedule_options
@click.option("--profile", help="Run this profile instead.")
@click.option("--auto-pause-after", type=click.IntRange(min=1), metavar="N",
              help="Auto-pause after N consecutive failed scheduled runs.")
@click.option("--overlap", type=click.Choice(sorted(OVERLAP_CHOICES)),
              help="When a live run of the profile exists at a fire: queue the new run or "
                   "skip it (a missed fire); overrides the profile's overlap policy.")
@pass_cli
def update_schedule(obj: CliContext, schedule_id: str, **flags) -> None:  # type: ignore[no-untyped-def]
    """Change a schedule: only the options given change, the others keep their values.

    A new trigger replaces the old one; the next fire time is computed again."""
    flags["weekly"] = flags["weekly"] or None
    reply = obj.client.schedules.UpdateSchedule(schedule_update(schedule_id, **flags))
    _print_schedule(obj, reply.schedule)


MISSED_COLUMNS = ["SCHEDULE", "PROFILE", "FIRE TIME", "REASON", "RECORDED"]


@schedules.command("missed")
@click.argument("schedule_id", metavar="[ID]", required=False, default="")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many missed fires (newest first).")
@pass_cli
def missed_fires(obj: CliContext, schedule_id: str, limit: int) -> None:
    """List fire times that did not become a run (all schedules without ID), newest first.

    Reasons: misfire (later than the misfire grace), coalesced (catch-up latest),
    overlap (a live run of the profile; overlap skip), paused."""
    fires: list[schedule_pb2.MissedFire] = []
    for fire in all_pages(obj.client.schedules.ListMissedFires,
                          schedule_service_pb2.ListMissedFiresRequest(
                              schedule_id=schedule_id, page_size=min(limit, 500)),
                          "missed_fires"):
        fires.append(fire)
        if len(fires) >= limit:
            break
    if obj.output == "json":
        print_json({"missedFires": [message_dict(f) for f in fires]})
        return
    profiles = _profiles_of(obj, {f.schedule_id for f in fires})
    print_table(MISSED_COLUMNS, [[
        f.schedule_id, profiles.get(f.schedule_id, "-"), full_time(f.fire_time),
        short_enum(schedule_pb2.MissedFireReason.Name(f.reason), "MISSED_FIRE_REASON_").lower(),
        local_time(f.record_time)] for f in fires], empty="no missed fires")


def _profiles_of(obj: CliContext, schedule_ids: set[str]) -> dict[str, str]:
    if not schedule_ids:
        return {}
    found = all_pages(obj.client.schedules.ListSchedules,
                      schedule_service_pb2.ListSchedulesRequest(page_size=500), "schedules")
    return {s.id: s.profile for s in found if s.id in schedule_ids}


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
