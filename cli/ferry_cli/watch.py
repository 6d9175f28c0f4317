"""Follow a run through WatchRun until it is final: a live progress bar on a
terminal, plain event lines otherwise; the exit status follows the run."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
import grpc
from ferry.retry import RetrySettings, is_transient_rpc_error
from ferry.v1 import run_pb2, run_service_pb2
from ferry_domain.runs.states import TERMINAL
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ferry_cli.client import CliContext
from ferry_cli.exit_codes import exit_code_for
from ferry_cli.output import console, format_count, print_json, to_datetime
from ferry_cli.runs import counts_text, status_style, status_text
from ferry_cli.timeline import event_line

pass_cli = click.make_pass_decorator(CliContext)



class StreamEndedError(Exception):
    """The registry ended or broke the watch before the run was final."""


# A stream the registry ends or breaks (restart, shutdown) is opened again a
# second later, 10 times in a row at most before the command gives up; a
# stream that delivered something first is opened again at once.
REOPEN = RetrySettings(max_attempts=11, initial_backoff=1.0, max_backoff=1.0, jitter=0.0,
                       max_elapsed=None, retry_on=(StreamEndedError,))


def rate_and_eta(run: run_pb2.Run, now: datetime | None = None
                 ) -> tuple[float | None, float | None]:
    """Rows per second since the start, and seconds left when rows_total is known."""
    started = to_datetime(run.start_time)
    if started is None or run.counts.rows_read <= 0:
        return None, None
    seconds = ((now or datetime.now(UTC)) - started).total_seconds()
    if seconds <= 0:
        return None, None
    rate = run.counts.rows_read / seconds
    if run.rows_total > run.counts.rows_read and rate > 0:
        return rate, (run.rows_total - run.counts.rows_read) / rate
    return rate, None


def progress_text(run: run_pb2.Run, now: datetime | None = None) -> str:
    """``1,234 / 10,000 rows  512 rows/s  ETA 17s`` (parts left out when unknown)."""
    rows = format_count(run.counts.rows_read)
    if run.rows_total:
        rows += f" / {format_count(run.rows_total)}"
    parts = [f"{rows} rows"]
    rate, eta = rate_and_eta(run, now)
    if rate is not None:
        parts.append(f"{rate:,.0f} rows/s")
    if eta is not None:
        parts.append(f"ETA {_seconds(eta)}")
    return "  ".join(parts)


def _seconds(value: float) -> str:
    whole = int(round(value))
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def final_line(run: run_pb2.Run) -> str:
    """``run ID COMPLETED: read 10, created 10`` plus error and hint lines when failed."""
    counts = counts_text(run.counts)
    if run.status == run_pb2.RUN_STATUS_UNCHANGED and counts == "none":
        counts = "source unchanged, nothing read"
    line = f"run {run.id} {status_text(run)}: {counts}"
    extra = []
    if run.error_message:
        extra.append(f"  error: {run.error_message}")
    if run.first_error.message:
        first = run.first_error
        extra.append(f"  first error: row {first.row}"
                     + (f", {first.field}" if first.field else "") + f": {first.message}")
    if run.hint:
        extra.append(f"  hint: {run.hint}")
    if run.counts.errors or run.counts.skipped:
        extra.append(f"  rejected rows: ferry runs errors {run.id}")
    return "\n".join([line, *extra])


class PlainView:
    """Event lines as they come; for pipes, logs and CI."""

    def __init__(self, out: Console) -> None:
        self._out = out

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, run: run_pb2.Run, events: list[run_pb2.RunEvent]) -> None:
        for event in events:
            self._out.print(event_line(event), markup=False, highlight=False)


class LiveView:
    """Events scroll above a progress line redrawn in place."""

    def __init__(self, out: Console) -> None:
        self._out = out
        self._run: run_pb2.Run | None = None
        self._live = Live(console=out, auto_refresh=True, refresh_per_second=4,
                          transient=True, get_renderable=self._render)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def update(self, run: run_pb2.Run, events: list[run_pb2.RunEvent]) -> None:
        self._run = run
        for event in events:
            self._live.console.print(event_line(event), markup=False, highlight=False)
        self._live.refresh()

    def _render(self) -> Group:
        run = self._run
        if run is None:
            return Group(Text("waiting for the registry ..."))
        head = Text.assemble((f"{status_text(run):<10}", status_style(run.status)),
                             f" run {run.id}  {run.profile}")
        if run.max_attempts:
            head.append(f"  attempt {run.attempt}/{run.max_attempts}")
        bar = ProgressBar(total=float(run.rows_total) if run.rows_total else None,
                          completed=float(run.counts.rows_read), width=40,
                          pulse=not run.rows_total and run.status == run_pb2.RUN_STATUS_RUNNING)
        progress = Table.grid(padding=(0, 2))
        progress.add_row(bar, Text(progress_text(run)))
        return Group(head, progress)


def follow(client, run_id: str, view) -> run_pb2.Run:  # type: ignore[no-untyped-def]
    """Stream the run into the view until it is final, opening the stream again
    when the registry ends or breaks it (``REOPEN``). When it cannot be opened
    again, the last state seen is the answer (or, with none, an error)."""
    seen = 0
    last: run_pb2.Run | None = None

    def stream_once() -> run_pb2.Run | None:
        """The final run, or None when the stream delivered and then stopped."""
        nonlocal seen, last
        delivered = False
        try:
            for reply in client.runs.WatchRun(run_service_pb2.WatchRunRequest(id=run_id)):
                delivered = True
                new = [e for e in reply.events if e.sequence > seen]
                if new:
                    seen = new[-1].sequence
                last = reply.run
                view.update(reply.run, new)
                if reply.run.status in TERMINAL:
                    return reply.run
        except grpc.RpcError as exc:
            if not is_transient_rpc_error(exc):
                raise
            if not delivered:
                raise StreamEndedError(str(exc.details())) from exc
            return None
        if not delivered:
            raise StreamEndedError("the registry ended the stream")
        return None

    # The view shows the run; reopening the stream is not worth a line of its own.
    retrying = REOPEN.retrying(what=f"watch of run {run_id}", log_retry=lambda _notice: None)
    while True:
        try:
            final = retrying(stream_once)
        except StreamEndedError:
            if last is not None:
                return last
            raise click.ClickException(
                f"the registry ended the watch of run {run_id}") from None
        if final is not None:
            return final


def wait_for_run(obj: CliContext, run: run_pb2.Run) -> int:
    """Follow the run to its end, print the outcome and return the exit status."""
    if obj.output == "json":
        final = follow(obj.client, run.id, _Silent())
        print_json(final)
        return exit_code_for(final.status)
    out = console()
    view = LiveView(out) if sys.stdout.isatty() else PlainView(out)
    try:
        with view:
            final = follow(obj.client, run.id, view)
    except KeyboardInterrupt:
        click.echo(f"stopped watching; run {run.id} goes on (ferry runs watch {run.id})",
                   err=True)
        click.get_current_context().exit(130)
    out.print(Text(final_line(final), style=status_style(final.status)), highlight=False)
    return exit_code_for(final.status)


class _Silent:
    def update(self, run: run_pb2.Run, events: list[run_pb2.RunEvent]) -> None:
        return None


@click.command("watch")
@click.argument("run_id", metavar="ID")
@pass_cli
def watch_run(obj: CliContext, run_id: str) -> None:
    """Follow a run until it ends; exit 0 completed/unchanged, 2 warning, 1 failed/cancelled."""
    click.get_current_context().exit(wait_for_run(obj, run_pb2.Run(id=run_id)))
