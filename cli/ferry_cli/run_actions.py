"""``ferry runs start|cancel|retry|rollback``: queue and control runs."""

from __future__ import annotations

import uuid

import click
from ferry.v1 import run_pb2, run_service_pb2

from ferry_cli.client import CliContext
from ferry_cli.output import print_json
from ferry_cli.runs import status_text
from ferry_cli.watch import wait_for_run

pass_cli = click.make_pass_decorator(CliContext)


def _queued(obj: CliContext, run: run_pb2.Run, what: str, wait: bool) -> None:
    """Print the queued run, or follow it and exit with its status."""
    if wait:
        if obj.output != "json":
            click.echo(f"{what} run {run.id} ({run.profile}), following it")
        click.get_current_context().exit(wait_for_run(obj, run))
    if obj.output == "json":
        print_json(run)
    else:
        click.echo(f"{what} run {run.id} ({run.profile}): {status_text(run)}; "
                   f"follow it with: ferry runs watch {run.id}")


@click.command("start")
@click.argument("profile")
@click.option("--dry-run", is_flag=True, help="Read, map and validate; write nothing.")
@click.option("--force", is_flag=True,
              help="Bypass the freshness gate and the dry-run-required gate.")
@click.option("--wait", is_flag=True,
              help="Follow the run; exit 0 completed/unchanged, 2 warning, 1 failed/cancelled.")
@click.option("--request-id", metavar="KEY",
              help="Idempotency key (default: a new UUID); the same key returns the same run.")
@click.option("--source", "source", metavar="PATH_OR_URL", default="",
              help="Read this file (within FERRY_FILE_ROOTS) or URL instead of the profile's "
                   "location, for this run only (bypasses the freshness gate).")
@pass_cli
def start_run(obj: CliContext, profile: str, dry_run: bool, force: bool, wait: bool,
              request_id: str | None, source: str) -> None:
    """Queue a run of PROFILE now."""
    reply = obj.client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile, dry_run=dry_run, force=force,
        request_id=request_id or uuid.uuid4().hex, source_override=source))
    what = "queued dry" if dry_run else "queued"
    _queued(obj, reply.run, what, wait)


@click.command("retry")
@click.argument("run_id", metavar="ID")
@click.option("--wait", is_flag=True,
              help="Follow the new run; exit 0 completed/unchanged, 2 warning, 1 failed.")
@pass_cli
def retry_run(obj: CliContext, run_id: str, wait: bool) -> None:
    """Queue a new run that retries a failed, cancelled or warning run."""
    reply = obj.client.runs.RetryRun(run_service_pb2.RetryRunRequest(
        id=run_id, request_id=uuid.uuid4().hex))
    _queued(obj, reply.run, f"retry of {run_id}: queued", wait)


@click.command("rollback")
@click.argument("run_id", metavar="RUN")
@click.option("--dry-run", is_flag=True, help="Check and count what would be undone; "
              "write nothing.")
@click.option("--force", is_flag=True,
              help="Overwrite records that later runs changed (refused otherwise).")
@click.option("--wait", is_flag=True,
              help="Follow the rollback; exit 0 completed, 2 warning, 1 failed/cancelled.")
@click.option("--request-id", metavar="KEY",
              help="Idempotency key (default: a new UUID); the same key returns the same run.")
@pass_cli
def rollback_run(obj: CliContext, run_id: str, dry_run: bool, force: bool, wait: bool,
                 request_id: str | None) -> None:
    """Queue a run that undoes RUN (a live import or rollback): it restores the
    rows RUN updated, deletes the rows it created and brings back the rows it
    deleted. Refused, naming the keys, when later runs changed them, unless
    --force. The rollback is a run too: it can be rolled back."""
    reply = obj.client.runs.RollbackRun(run_service_pb2.RollbackRunRequest(
        run_id=run_id, dry_run=dry_run, force=force,
        request_id=request_id or uuid.uuid4().hex))
    what = f"rollback of {run_id}: queued" + (" dry" if dry_run else "")
    _queued(obj, reply.run, what, wait)


@click.command("cancel")
@click.argument("run_id", metavar="ID")
@click.option("--reason", default="", help="Why; kept with the run.")
@pass_cli
def cancel_run(obj: CliContext, run_id: str, reason: str) -> None:
    """Cancel a run: a queued one at once, a running one at its next batch."""
    run = obj.client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run_id,
                                                                     reason=reason)).run
    if obj.output == "json":
        print_json(run)
    elif run.status == run_pb2.RUN_STATUS_RUNNING:
        click.echo(f"run {run_id}: cancellation requested; it stops at its next batch")
    else:
        click.echo(f"run {run_id}: {status_text(run)}")
