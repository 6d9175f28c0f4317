"""``ferry runs get|logs|errors|sample``: what an operator needs to fix a run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import grpc
from ferry.v1 import profile_pb2, profile_service_pb2, run_pb2, run_service_pb2
from ferry_domain.cells import write_rejected_csv

from ferry_cli.client import CliContext
from ferry_cli.output import (
    console,
    full_time,
    message_dict,
    print_details,
    print_json,
    print_table,
    short_enum,
)
from ferry_cli.runs import run_details
from ferry_cli.staleness import failing_text
from ferry_cli.timeline import event_line, fetch_events

pass_cli = click.make_pass_decorator(CliContext)
REJECTED_PAGE = 1000

# What to do, by error class, when the registry gave no hint of its own.
FALLBACK_HINTS = {
    run_pb2.ERROR_CLASS_TRANSIENT: "a transient failure (network, timeout, 5xx): "
                                   "retry with 'ferry runs retry {id}'",
    run_pb2.ERROR_CLASS_PERMANENT: "retrying alone will not help: fix the source data or the "
                                   "profile, then 'ferry runs retry {id}'",
    run_pb2.ERROR_CLASS_CREDENTIALS: "check the profile's credentials reference (env:NAME or "
                                     "file:/path) on the runners",
    run_pb2.ERROR_CLASS_SOURCE_SHAPE: "mapped source columns are missing: update the mapping, "
                                      "dry-run it, then retry",
    run_pb2.ERROR_CLASS_MAPPING: "fix the mapping ('ferry profiles get {profile}'), dry-run it, "
                                 "then retry",
    run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED: "every attempt failed: read 'ferry runs logs {id}' "
                                            "and the runner logs",
}


def operator_hint(run: run_pb2.Run) -> str:
    """The registry's hint, else one derived from the error class."""
    if run.hint:
        return run.hint
    template = FALLBACK_HINTS.get(run.error_class, "")
    return template.format(id=run.id, profile=run.profile)


# Reasons that are about the source itself: the method that saw it is named,
# with its previous and current token.
_SOURCE_REASONS = (run_pb2.FRESHNESS_REASON_UNSPECIFIED, run_pb2.FRESHNESS_REASON_SOURCE_CHANGED,
                   run_pb2.FRESHNESS_REASON_SOURCE_UNCHANGED)


def _method_token(token: str, method: str) -> str:
    """The part of a stored token that ``method`` compares: tokens are JSON
    objects keyed by method (plus the profile digest); older ones plain text."""
    try:
        parts = json.loads(token)
    except ValueError:
        return token
    if isinstance(parts, dict):
        return str(parts.get(method, "")) or token
    return token


def freshness_text(run: run_pb2.Run) -> str:
    """``changed by checksum (previous xxh3_128:1a2b, now xxh3_128:3c4d)``, or for
    a reason beyond the source, ``changed: mapping changed since the last import``."""
    if not run.HasField("freshness"):
        return ""
    evidence = run.freshness
    verdict = short_enum(run_pb2.FreshnessVerdict.Name(evidence.verdict),
                         "FRESHNESS_VERDICT_").lower().replace("_", " ")
    method = short_enum(profile_pb2.FreshnessMethod.Name(evidence.method),
                        "FRESHNESS_METHOD_").lower()
    about_source = evidence.reason in _SOURCE_REASONS and method != "-"
    text = f"{verdict} by {method.replace('_', ' ')}" if about_source else verdict
    if evidence.reason_detail:
        text += f": {evidence.reason_detail}"
    if not about_source:
        return text
    tokens = []
    if evidence.previous_token:
        tokens.append(f"previous {_method_token(evidence.previous_token, method)}")
    if evidence.current_token:
        tokens.append(f"now {_method_token(evidence.current_token, method)}")
    return text + (f" ({', '.join(tokens)})" if tokens else "")


def rejected_text(run: run_pb2.Run) -> str:
    rejected = run.counts.errors + run.counts.skipped
    if not rejected and not run.rejected_rows_location:
        return ""
    where = run.rejected_rows_location or "kept in the registry"
    return f"{rejected} rows, {where}; as CSV: ferry runs errors {run.id}"


def retention_lines(run: run_pb2.Run) -> list[str]:
    lines = []
    for action in run.retention_actions:
        kind = short_enum(run_pb2.RetentionActionKind.Name(action.kind),
                          "RETENTION_ACTION_KIND_").lower().replace("_", " ")
        parts = [full_time(action.action_time), kind, action.path, action.detail]
        lines.append("  ".join(p for p in parts if p and p != "-"))
    return lines


CHECKSUM_SHOWN = 16  # hex digits of a checksum shown in the text view


def _short_checksum(checksum: str) -> str:
    kind, _, digest = checksum.partition(":")
    return f"{kind}:{digest[:CHECKSUM_SHOWN]}" if digest else (checksum or "checksum -")


def input_lines(run: run_pb2.Run) -> list[str]:
    """One line per source read: a file's path, size, mtime and checksum; a
    URL's final address, bytes read, ETag and Last-Modified."""
    lines = []
    for item in run.inputs:
        parts = [item.path, f"{item.size_bytes} bytes"]
        if item.HasField("modify_time"):
            parts += [f"modified {full_time(item.modify_time)}", _short_checksum(item.checksum)]
        if item.etag:
            parts.append(f"etag {item.etag}")
        if item.last_modified:
            parts.append(f"last-modified {item.last_modified}")
        lines.append("  ".join(parts))
    return lines


def output_lines(run: run_pb2.Run) -> list[str]:
    return [f"{item.path}  {item.row_count} rows" for item in run.outputs]


def describe_run(run: run_pb2.Run, profile: profile_pb2.Profile | None = None
                 ) -> list[tuple[str, str]]:
    """run_details with the freshness evidence, hint and rejected rows spelled
    out, and whether the run's profile is failing."""
    pairs = dict(run_details(run))
    failing = failing_text(profile) if profile is not None else ""
    if failing:
        pairs["profile"] = f"{pairs['profile']}, {failing}"
    pairs["freshness"] = freshness_text(run)
    pairs["hint"] = operator_hint(run)
    pairs["rejected rows"] = rejected_text(run)
    return list(pairs.items())


def _profile_of(client, name: str) -> profile_pb2.Profile | None:  # type: ignore[no-untyped-def]
    """The run's profile, or None once it was deleted."""
    try:
        return client.profiles.GetProfile(
            profile_service_pb2.GetProfileRequest(name=name)).profile
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


@click.command("get")
@click.argument("run_id", metavar="ID")
@click.option("--no-events", is_flag=True, help="Leave out the timeline.")
@pass_cli
def get_run(obj: CliContext, run_id: str, no_events: bool) -> None:
    """Show one run: status, attempts, counts, first error, hint, evidence, timeline."""
    run = obj.client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id)).run
    if obj.output == "json":
        print_json(run)
        return
    print_details(describe_run(run, _profile_of(obj.client, run.profile)))
    out = console()
    for title, lines in (("read:", input_lines(run)), ("wrote:", output_lines(run)),
                         ("retention:", retention_lines(run))):
        if lines:
            out.print(title, markup=False)
            for line in lines:
                out.print(f"  {line}", markup=False, highlight=False)
    if no_events:
        return
    events = fetch_events(obj.client, run_id)
    out.print("timeline:" if events else "timeline: no events", markup=False)
    for event in events:
        out.print(f"  {event_line(event)}", markup=False, highlight=False)


@click.command("logs")
@click.argument("run_id", metavar="ID")
@pass_cli
def run_logs(obj: CliContext, run_id: str) -> None:
    """Print a run's timeline (status changes, warnings, retries, progress) as log lines."""
    events = fetch_events(obj.client, run_id)
    if obj.output == "json":
        print_json({"events": [message_dict(e) for e in events]})
        return
    if not events:
        # A run without events still exists only if GetRun finds it.
        obj.client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id))
        click.echo(f"run {run_id} has no events yet", err=True)
    out = console()
    for event in events:
        out.print(event_line(event), markup=False, highlight=False)


def fetch_rejected(client, run_id: str  # type: ignore[no-untyped-def]
                   ) -> tuple[list[run_service_pb2.RejectedRow], list[str]]:
    rows: list[run_service_pb2.RejectedRow] = []
    columns: list[str] = []
    token = ""
    while True:
        reply = client.runs.ListRejectedRows(run_service_pb2.ListRejectedRowsRequest(
            run_id=run_id, page_size=REJECTED_PAGE, page_token=token))
        rows.extend(reply.rows)
        columns = columns or list(reply.columns)
        token = reply.next_page_token
        if not token or not reply.rows:
            return rows, columns


@click.command("errors")
@click.argument("run_id", metavar="ID")
@click.option("--output-file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              metavar="FILE", help="Write the CSV here instead of standard output.")
@pass_cli
def run_errors(obj: CliContext, run_id: str, output_file: Path | None) -> None:
    """Rejected rows of a run as CSV: row, outcome, field, message, then the source columns."""
    rows, columns = fetch_rejected(obj.client, run_id)
    if obj.output == "json":
        print_json({"columns": columns, "rows": [message_dict(r) for r in rows]})
        return
    if output_file is None:
        write_rejected_csv(rows, columns, sys.stdout)
    else:
        with output_file.open("w", newline="", encoding="utf-8") as out:
            write_rejected_csv(rows, columns, out)
        click.echo(f"{len(rows)} rejected rows of run {run_id} written to {output_file}",
                   err=True)
    if not rows:
        click.echo(f"run {run_id}: no rejected rows kept", err=True)


@click.command("sample")
@click.argument("run_id", metavar="ID")
@pass_cli
def run_sample(obj: CliContext, run_id: str) -> None:
    """The masked sample of a run's first source rows, as stored with the run.
    Exits 1 with a message when the run stored no sample."""
    sample = obj.client.runs.GetRunSample(
        run_service_pb2.GetRunSampleRequest(run_id=run_id)).sample
    if obj.output == "json":
        print_json(sample)
        return
    print_table(list(sample.columns), [list(row.values) for row in sample.rows])
    if sample.note:
        click.echo(sample.note, err=True)
