"""``ferry dashboard``: what needs attention, at a glance.

Counts by status over a window (SummarizeRuns); failed and warning runs first,
then running (progress, how long) and queued; schedules that are auto-paused,
paused, late or failing; failing profiles (their last live run failed: since
when, how many failed runs); stale profiles (no changed input for longer than
their ``expect_change_within``). ``--watch`` redraws it in place; ``-o json`` prints
the same data once for scripts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import click
import grpc
from ferry.durations import format_duration, parse_duration
from ferry.grpc_client import all_pages
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2, schedule_pb2, schedule_service_pb2
from google.protobuf.duration_pb2 import Duration
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ferry_cli.client import CliContext
from ferry_cli.errors import describe_rpc_error
from ferry_cli.filters import build_run_filter
from ferry_cli.output import (
    console,
    elapsed,
    local_time,
    message_dict,
    print_json,
    short_enum,
    to_datetime,
)
from ferry_cli.runs import status_style, status_text
from ferry_cli.schedules import describe_trigger
from ferry_cli.staleness import all_profiles, failing_text, stale_line

pass_cli = click.make_pass_decorator(CliContext)

# Runs shown per attention group; the counts line has the totals.
GROUP_LIMIT = 20
# A schedule whose next fire is this far in the past (plus its jitter) is late.
LATE_AFTER = timedelta(minutes=2)
ATTENTION_ORDER = [run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_WARNING,
                   run_pb2.RUN_STATUS_RUNNING, run_pb2.RUN_STATUS_QUEUED]
COUNT_ORDER = [run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_WARNING,
               run_pb2.RUN_STATUS_CANCELLED, run_pb2.RUN_STATUS_RUNNING,
               run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_COMPLETED,
               run_pb2.RUN_STATUS_UNCHANGED]
SCHEDULE_STYLES = {"auto-paused": "bold red", "late": "bold yellow", "failing": "yellow",
                   "paused": "magenta"}


@dataclass
class ScheduleAttention:
    schedule: schedule_pb2.Schedule
    state: str  # auto-paused, late, failing or paused


@dataclass
class Snapshot:
    window: timedelta
    taken: datetime
    counts: dict[int, int] = field(default_factory=dict)
    runs: list[run_pb2.Run] = field(default_factory=list)
    schedules: list[ScheduleAttention] = field(default_factory=list)
    stale: list[profile_pb2.Profile] = field(default_factory=list)
    failing: list[profile_pb2.Profile] = field(default_factory=list)


def schedule_state(schedule: schedule_pb2.Schedule, now: datetime) -> str:
    """Why a schedule needs attention, or "" when it does not."""
    if schedule.paused:
        return "auto-paused" if schedule.pause_reason.startswith("auto-paused") else "paused"
    due = to_datetime(schedule.next_fire_time)
    jitter = timedelta(seconds=schedule.jitter.seconds)
    if due is not None and due < now - LATE_AFTER - jitter:
        return "late"
    if schedule.consecutive_failures:
        return "failing"
    return ""


def _runs(client, status: int, window: timedelta | None, now: datetime  # type: ignore[no-untyped-def]
          ) -> list[run_pb2.Run]:
    name = run_pb2.RunStatus.Name(status)
    query = build_run_filter(status=name, since=window, now=now)
    return list(client.runs.ListRuns(run_service_pb2.ListRunsRequest(
        page_size=GROUP_LIMIT, filter=query)).runs)


def _all_schedules(client) -> list[schedule_pb2.Schedule]:  # type: ignore[no-untyped-def]
    return list(all_pages(client.schedules.ListSchedules,
                          schedule_service_pb2.ListSchedulesRequest(page_size=500), "schedules"))


def collect(client, window: timedelta, now: datetime | None = None) -> Snapshot:  # type: ignore[no-untyped-def]
    """One snapshot from the registry. Failed and warning runs are those of the
    window; running and queued runs are shown however old they are."""
    now = now or datetime.now(UTC)
    summary = client.runs.SummarizeRuns(run_service_pb2.SummarizeRunsRequest(
        window=Duration(seconds=int(window.total_seconds()))))
    snap = Snapshot(window=window, taken=now,
                    counts={c.status: c.count for c in summary.counts})
    for status in ATTENTION_ORDER:
        recent_only = status in (run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_WARNING)
        snap.runs.extend(_runs(client, status, window if recent_only else None, now))
    order = {"auto-paused": 0, "late": 1, "failing": 2, "paused": 3}
    flagged = [ScheduleAttention(s, state) for s in _all_schedules(client)
               if (state := schedule_state(s, now))]
    snap.schedules = sorted(flagged, key=lambda a: (order[a.state], a.schedule.profile))
    profiles = sorted(all_profiles(client), key=lambda p: p.name)
    snap.stale = [p for p in profiles if p.HasField("stale_since")]
    snap.failing = [p for p in profiles if p.HasField("failing_since")]
    return snap


def _progress(run: run_pb2.Run, now: datetime) -> str:
    if run.status == run_pb2.RUN_STATUS_RUNNING:
        done = f"{run.counts.rows_read:,}"
        if run.rows_total:
            percent = min(100, run.counts.rows_read * 100 // max(1, run.rows_total))
            done += f"/{run.rows_total:,} {percent}%"
        return f"{done} rows {elapsed(run.start_time, run.end_time, now)}"
    if run.status == run_pb2.RUN_STATUS_QUEUED:
        return f"waiting {elapsed(run.queue_time, run.end_time, now)}"
    return elapsed(run.start_time, run.end_time, now)


def _issue(run: run_pb2.Run) -> str:
    if run.first_error.message:
        first = run.first_error
        where = f"row {first.row}" + (f" {first.field}" if first.field else "")
        text = f"{where}: {first.message}"
        return f"{run.error_message}; {text}" if run.error_message else text
    if run.error_message:
        return run.error_message
    if run.first_skip_reason:
        return f"skipped: {run.first_skip_reason}"
    if run.warnings:
        return run.warnings[0]
    if run.cancel_requested:
        return "cancellation requested"
    return ""


RUN_HEADERS = [("STATUS", "left"), ("ID", "left"), ("PROFILE", "left"), ("ENTITY", "left"),
               ("OP", "left"), ("CRE", "right"), ("UPD", "right"), ("SKIP", "right"),
               ("FILT", "right"), ("ERR", "right"), ("STARTED", "left"), ("FINISHED", "left"),
               ("PROGRESS", "left"), ("ISSUE", "left")]


def _run_cells(run: run_pb2.Run, now: datetime) -> list[Text]:
    style = status_style(run.status)
    op = short_enum(profile_pb2.Operation.Name(run.operation), "OPERATION_").lower()
    counts = run.counts
    return [
        Text(status_text(run), style=style), Text(run.id), Text(run.profile),
        Text(run.entity_type or "-"), Text(op), Text(str(counts.created)),
        Text(str(counts.updated)),
        Text(str(counts.skipped), style="yellow" if counts.skipped else ""),
        Text(str(counts.filtered)),
        Text(str(counts.errors), style="red" if counts.errors else ""),
        Text(local_time(run.start_time, now)), Text(local_time(run.end_time, now)),
        Text(_progress(run, now)), Text(_issue(run), style=style)]


def runs_table(snap: Snapshot, width: int) -> Table:
    """One line per run. Every column but ISSUE keeps its whole text; ISSUE gets
    the rest of the width and ends with an ellipsis ("runs get" has it all)."""
    rows = [_run_cells(run, snap.taken) for run in snap.runs]
    natural = [max([len(name)] + [row[i].cell_len for row in rows])
               for i, (name, _) in enumerate(RUN_HEADERS)]
    issue_width = max(12, width - sum(natural[:-1]) - 2 * (len(RUN_HEADERS) - 1))
    table = Table(title="Runs needing attention", title_justify="left", title_style="bold",
                  box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    for (name, justify), size in zip(RUN_HEADERS, natural, strict=True):
        last = name == "ISSUE"
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis",
                         min_width=None if last else size,
                         max_width=issue_width if last else None)
    for row in rows:
        table.add_row(*row)
    return table


def schedules_table(snap: Snapshot) -> Table:
    table = Table(title="Schedules needing attention", title_justify="left",
                  title_style="bold", box=None, padding=(0, 1), pad_edge=False,
                  header_style="bold")
    for name in ("STATE", "ID", "PROFILE", "TRIGGER", "NEXT FIRE", "LAST FIRE", "FAILURES",
                 "REASON"):
        table.add_column(name, no_wrap=name != "REASON",
                         overflow="ellipsis" if name != "REASON" else "fold")
    for item in snap.schedules:
        s = item.schedule
        limit = f"{s.consecutive_failures}/{s.auto_pause_after}" if s.auto_pause_after \
            else str(s.consecutive_failures)
        table.add_row(Text(item.state, style=SCHEDULE_STYLES[item.state]), s.id, s.profile,
                      describe_trigger(s), local_time(s.next_fire_time, snap.taken),
                      local_time(s.last_fire_time, snap.taken), limit, s.pause_reason or "")
    return table


def counts_line(snap: Snapshot) -> Text:
    line = Text(f"last {format_duration(snap.window)}: ")
    for status in COUNT_ORDER:
        count = snap.counts.get(status, 0)
        name = short_enum(run_pb2.RunStatus.Name(status), "RUN_STATUS_").lower()
        line.append(f"{name} {count}", style=status_style(status) if count else "dim")
        line.append("   ")
    return line


def render(snap: Snapshot, address: str, problem: str = "", width: int = 160
           ) -> RenderableType:
    head = Text.assemble(("Ferry dashboard", "bold"), f"  registry {address}  ",
                         (f"updated {local_time(snap.taken)}", "dim"))
    parts: list[RenderableType] = [head, counts_line(snap)]
    if problem:
        parts.append(Text(problem, style="bold red"))
    parts.append(Text(""))
    parts.append(runs_table(snap, width) if snap.runs else Text("No failed, warning, running or "
                                                         "queued runs.", style="green"))
    parts.append(Text(""))
    parts.append(schedules_table(snap) if snap.schedules else
                 Text("All schedules active and on time.", style="green"))
    if snap.failing:
        parts.append(Text(""))
        parts.append(Text("Failing profiles", style="bold"))
        parts += [Text(f"profile {p.name} is {failing_text(p, snap.taken)}", style="bold red")
                  for p in snap.failing]
    if snap.stale:
        parts.append(Text(""))
        parts.append(Text("Stale profiles", style="bold"))
        parts += [Text(stale_line(p, snap.taken), style="bold yellow") for p in snap.stale]
    if any(r.status in (run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_WARNING)
           for r in snap.runs):
        parts.append(Text(""))
        parts.append(Text("details: ferry runs get ID   rejected rows: ferry runs errors ID",
                          style="dim"))
    return Group(*parts)


def snapshot_json(snap: Snapshot) -> dict:
    return {
        "window": format_duration(snap.window),
        "generatedAt": snap.taken.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "counts": {short_enum(run_pb2.RunStatus.Name(s), "RUN_STATUS_"): snap.counts.get(s, 0)
                   for s in COUNT_ORDER},
        "runs": [message_dict(r) for r in snap.runs],
        "schedules": [{"state": a.state, "schedule": message_dict(a.schedule)}
                      for a in snap.schedules],
        "staleProfiles": [message_dict(p) for p in snap.stale],
        "failingProfiles": [message_dict(p) for p in snap.failing],
    }


def _window(text: str) -> timedelta:
    try:
        window = parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    if window <= timedelta(0):
        raise click.BadParameter("must be more than 0", param_hint="--since")
    return window


def _watch(obj: CliContext, window: timedelta, interval: float) -> None:
    out = console()
    snap = collect(obj.client, window)
    stop = threading.Event()
    with Live(render(snap, obj.address, width=out.width), console=out, auto_refresh=False,
              screen=out.is_terminal, redirect_stdout=False) as live:
        try:
            while not stop.wait(interval):
                problem = ""
                try:
                    snap = collect(obj.client, window)
                except grpc.RpcError as exc:
                    problem = describe_rpc_error(exc, obj.address, obj.timeout) \
                        + f" (showing {local_time(snap.taken)}; retrying)"
                live.update(render(snap, obj.address, problem, out.width), refresh=True)
        except KeyboardInterrupt:
            pass


@click.command("dashboard")
@click.option("--since", "since", default="24h", show_default=True, metavar="DURATION",
              help="Window for the counts and the failed/warning runs, e.g. 1h, 7d.")
@click.option("--watch", is_flag=True, help="Redraw in place every --interval (Ctrl-C ends).")
@click.option("--interval", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              metavar="SECONDS", help="Refresh period of --watch.")
@pass_cli
def dashboard(obj: CliContext, since: str, watch: bool, interval: float) -> None:
    """What needs attention: failed and warning runs, running and queued ones,
    schedules, stale profiles."""
    window = _window(since)
    if watch and obj.output == "json":
        raise click.UsageError("--watch draws a terminal view; use -o json without --watch")
    if watch:
        _watch(obj, window, interval)
        return
    snap = collect(obj.client, window)
    if obj.output == "json":
        print_json(snapshot_json(snap))
    else:
        out = console()
        out.print(render(snap, obj.address, width=out.width))
