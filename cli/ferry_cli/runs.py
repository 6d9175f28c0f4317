"""``ferry runs``: list and inspect runs."""

from __future__ import annotations

from datetime import timedelta

import click
from ferry.durations import parse_duration
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2

from ferry_cli.client import CliContext
from ferry_cli.filters import build_run_filter
from ferry_cli.options import CommandGroup
from ferry_cli.output import (
    console,
    elapsed,
    full_time,
    local_time,
    message_dict,
    print_json,
    print_table,
    short_enum,
)
from ferry_cli.staleness import stale_line, stale_profiles

pass_cli = click.make_pass_decorator(CliContext)
MAX_PAGE = 500


def status_text(run: run_pb2.Run) -> str:
    text = short_enum(run_pb2.RunStatus.Name(run.status), "RUN_STATUS_")
    if run.dry_run:
        text += " (dry run)"
    if run.cancel_requested and run.status == run_pb2.RUN_STATUS_RUNNING:
        text += " (cancelling)"
    return text


STATUS_STYLES = {
    run_pb2.RUN_STATUS_FAILED: "bold red",
    run_pb2.RUN_STATUS_CANCELLED: "magenta",
    run_pb2.RUN_STATUS_WARNING: "bold yellow",
    run_pb2.RUN_STATUS_RUNNING: "bold cyan",
    run_pb2.RUN_STATUS_QUEUED: "blue",
    run_pb2.RUN_STATUS_COMPLETED: "green",
    run_pb2.RUN_STATUS_UNCHANGED: "dim green",
}


def status_style(status: int) -> str:
    """The colour of a run status on a terminal."""
    return STATUS_STYLES.get(status, "")


RUN_COLUMNS = ["ID", "PROFILE", "STATUS", "TRIGGER", "QUEUED", "TOOK", "READ", "CREATED",
               "UPDATED", "SKIPPED", "FILTERED", "ERRORS"]


def run_rows(items: list[run_pb2.Run], stale: frozenset[str] = frozenset()
             ) -> list[list[str]]:
    """Table rows; runs of a profile in ``stale`` are marked ``(stale)``."""
    return [[
        r.id, r.profile + (" (stale)" if r.profile in stale else ""), status_text(r),
        short_enum(run_pb2.RunTrigger.Name(r.trigger), "RUN_TRIGGER_").lower()
        + (" rollback" if r.operation == profile_pb2.OPERATION_ROLLBACK else ""),
        local_time(r.queue_time), elapsed(r.start_time, r.end_time),
        str(r.counts.rows_read), str(r.counts.created), str(r.counts.updated),
        str(r.counts.skipped), str(r.counts.filtered), str(r.counts.errors),
    ] for r in items]


def counts_text(counts: run_pb2.RunCounts) -> str:
    parts = [("read", counts.rows_read), ("created", counts.created),
             ("updated", counts.updated), ("unchanged", counts.unchanged),
             ("skipped", counts.skipped), ("filtered", counts.filtered),
             ("errors", counts.errors), ("written", counts.written),
             ("deleted", counts.deleted)]
    return ", ".join(f"{name} {value}" for name, value in parts if value) or "none"


def run_details(run: run_pb2.Run) -> list[tuple[str, str]]:
    operation = short_enum(profile_pb2.Operation.Name(run.operation), "OPERATION_").lower()
    error = ""
    if run.HasField("first_error") and run.first_error.message:
        first = run.first_error
        error = f"row {first.row}" + (f", {first.field}" if first.field else "") \
            + f": {first.message}"
    freshness = ""
    if run.HasField("freshness"):
        evidence = run.freshness
        verdict = short_enum(run_pb2.FreshnessVerdict.Name(evidence.verdict),
                             "FRESHNESS_VERDICT_").lower()
        method = short_enum(profile_pb2.FreshnessMethod.Name(evidence.method),
                            "FRESHNESS_METHOD_").lower()
        freshness = verdict if method == "-" else f"{verdict} by {method}"
        if evidence.reason_detail:
            freshness += f": {evidence.reason_detail}"
        if evidence.current_token:
            freshness += f" (token {evidence.current_token})"
    error_class = short_enum(run_pb2.ErrorClass.Name(run.error_class), "ERROR_CLASS_").lower()
    return [
        ("id", run.id),
        ("profile", run.profile + (f" (revision {run.profile_revision})"
                                   if run.profile_revision else "")),
        ("status", status_text(run)),
        ("entity", f"{run.entity_type} {operation}".strip()),
        ("trigger", short_enum(run_pb2.RunTrigger.Name(run.trigger), "RUN_TRIGGER_").lower()),
        ("schedule", run.schedule_id),
        ("fire time", full_time(run.fire_time)),
        ("retry of", run.retry_of),
        ("rolls back", run.rollback_of + (" (forced)" if run.rollback_force else "")
         if run.rollback_of else ""),
        ("attempt", f"{run.attempt} of {run.max_attempts}" if run.max_attempts else ""),
        ("queued", full_time(run.queue_time)),
        ("started", full_time(run.start_time)),
        ("finished", full_time(run.end_time)),
        ("took", elapsed(run.start_time, run.end_time)),
        ("source", f"{run.source_override} (override)" if run.source_override else ""),
        ("rows", counts_text(run.counts)),
        ("freshness", freshness),
        ("error", run.error_message),
        ("error class", error_class),
        ("hint", run.hint),
        ("first error", error),
        ("first skip", run.first_skip_reason),
        ("warnings", "; ".join(run.warnings)),
        ("sample", run.sample_location),
        ("rejected rows", run.rejected_rows_location),
        ("runner", run.runner_id),
    ]


@click.group(cls=CommandGroup)
def runs() -> None:
    """Runs: executions of profiles."""


def _since(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


@runs.command("list")
@click.option("--status", help="QUEUED, RUNNING, COMPLETED, WARNING, FAILED, CANCELLED, UNCHANGED.")
@click.option("--entity", help="Entity type, e.g. products.")
@click.option("--operation", help="import, export or rollback.")
@click.option("--profile", help="Profile name.")
@click.option("--schedule", "schedule_id", metavar="ID", help="Schedule id.")
@click.option("--since", metavar="DURATION", help="Queued within this long, e.g. 2h, 7d.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many runs (newest first).")
@pass_cli
def list_runs(obj: CliContext, limit: int, since: str | None, **flags) -> None:  # type: ignore[no-untyped-def]
    """List runs, newest first."""
    query = build_run_filter(since=_since(since), **flags)
    items: list[run_pb2.Run] = []
    token = ""
    while len(items) < limit:
        reply = obj.client.runs.ListRuns(run_service_pb2.ListRunsRequest(
            page_size=min(limit - len(items), MAX_PAGE), page_token=token, filter=query))
        items.extend(reply.runs)
        token = reply.next_page_token
        if not token or not reply.runs:
            break
    items = items[:limit]
    stale = {name: p for name, p in stale_profiles(obj.client).items()
             if name in {r.profile for r in items} or name == flags.get("profile")}
    if obj.output == "json":
        print_json({"runs": [message_dict(r) for r in items],
                    "staleProfiles": [message_dict(p) for p in stale.values()]})
        return
    for profile in stale.values():
        console().print(f"! {stale_line(profile)}", style="bold yellow", markup=False,
                        highlight=False)
    print_table(RUN_COLUMNS, run_rows(items, frozenset(stale)), empty="no runs")
