"""What runs wrote, read back from the target by a runner through the
registry: ``ferry runs records RUN``, ``ferry records get PROFILE KEY...``
and ``ferry runs diff RUN_A RUN_B``.

Exit status: 0 with an answer; 1 for an error (``error: ...``: an unknown
run, a dry run or an export, a run without a changeset, a key of the wrong
length) and for ``records get`` of a key the target has no row for; 3 when
no runner answered in time (``--timeout``, the deadline of the call, bounds
the wait).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import grpc
from ferry.v1 import record_pb2, run_service_pb2

from ferry_cli.client import CliContext
from ferry_cli.errors import CliError
from ferry_cli.options import CommandGroup
from ferry_cli.output import message_dict, print_json
from ferry_cli.record_views import (
    diff_lines,
    record_lines,
    records_summary,
    stored_record_lines,
)

pass_cli = click.make_pass_decorator(CliContext)

EXIT_NOT_FOUND = 1
EXIT_NO_RUNNER = 3
MAX_PAGE = 500
ACTIONS = ("created", "updated", "deactivated", "deleted")


class NoRunnerError(CliError):
    """No runner took or answered the read in time."""

    exit_code = EXIT_NO_RUNNER


def ask(call: Callable[..., Any], request: Any, obj: CliContext) -> Any:
    """One read through the registry; the registry's UNAVAILABLE about the
    runners (not about itself) becomes exit status 3."""
    try:
        return call(request, timeout=obj.timeout)
    except grpc.RpcError as exc:
        details = exc.details() if hasattr(exc, "details") else ""
        if exc.code() == grpc.StatusCode.UNAVAILABLE and "ferry-runner" in (details or ""):
            raise NoRunnerError(f"error: no runner answered: {details}") from None
        raise


def _actions(values: tuple[str, ...]) -> list[str]:
    """``--action created --action updated`` or ``--action created,updated``."""
    chosen: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if name not in ACTIONS:
                raise click.BadParameter(f"{part!r} is not one of {', '.join(ACTIONS)}",
                                         param_hint="--action")
            if name not in chosen:
                chosen.append(name)
    return chosen


@click.command("records")
@click.argument("run_id", metavar="RUN")
@click.option("--action", "action_values", multiple=True, metavar="ACTION",
              help="Only records the run " + "/".join(ACTIONS) + " (repeat, or "
                   "comma-separated).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="At most this many records (0: all).")
@pass_cli
def run_records(obj: CliContext, run_id: str, action_values: tuple[str, ...], limit: int
                ) -> None:
    """The records a live import wrote, in the order it wrote them: action,
    key, and for updates each changed field, before -> after. Read from the
    run's changeset in the target by a runner."""
    actions = _actions(action_values)
    wanted = [record_pb2.RecordAction.Value(f"RECORD_ACTION_{a.upper()}") for a in actions]
    records: list[record_pb2.RecordChange] = []
    token = ""
    while True:
        size = MAX_PAGE if not limit else min(limit - len(records), MAX_PAGE)
        reply = ask(obj.client.runs.ListRunRecords, run_service_pb2.ListRunRecordsRequest(
            run_id=run_id, actions=wanted, page_size=size, page_token=token), obj)
        records.extend(reply.records)
        token = reply.next_page_token
        if not token or not reply.records or (limit and len(records) >= limit):
            break
    more = bool(token) or (bool(limit) and len(records) > limit)
    records = records[:limit] if limit else records
    if obj.output == "json":
        print_json({"records": [message_dict(r) for r in records],
                    "nextPageToken": token if more else ""})
        return
    for line in record_lines(records):
        click.echo(line)
    click.echo(records_summary(run_id, len(records), more, actions))


@click.command("diff")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--keys", "key_limit", type=click.IntRange(min=1, max=500), default=50,
              show_default=True, help="At most this many keys listed per group.")
@pass_cli
def diff_runs(obj: CliContext, run_a: str, run_b: str, key_limit: int) -> None:
    """How two imports of one profile differ: the keys created and deleted
    between them, and per field the keys whose value changed, value after the
    earlier run -> after the later one (the runs in either order)."""
    reply = ask(obj.client.runs.DiffRuns, run_service_pb2.DiffRunsRequest(
        run_a=run_a, run_b=run_b, key_limit=key_limit), obj)
    if obj.output == "json":
        print_json(message_dict(reply.diff))
        return
    for line in diff_lines(reply.diff):
        click.echo(line)


@click.group(cls=CommandGroup)
def records() -> None:
    """Records in a profile's target and the runs that wrote them."""


@records.command("get")
@click.argument("profile")
@click.argument("key", nargs=-1, required=True)
@click.option("--history", "history_limit", type=click.IntRange(min=1, max=100), default=20,
              show_default=True, help="At most this many runs that touched it.")
@pass_cli
def get_record(obj: CliContext, profile: str, key: tuple[str, ...], history_limit: int
               ) -> None:
    """The record with KEY (one value per key field, e.g. a SKU) as it is in
    the profile's target now, and the runs that touched it, newest first.
    Exit 1 when the target has no row with the key."""
    reply = ask(obj.client.runs.GetRecord, run_service_pb2.GetRecordRequest(
        profile=profile, key=list(key), history_limit=history_limit), obj)
    if obj.output == "json":
        print_json(message_dict(reply.record))
    else:
        for line in stored_record_lines(profile, reply.record):
            click.echo(line)
    if not reply.record.found:
        click.get_current_context().exit(EXIT_NOT_FOUND)
