"""The ``ferry`` command group: global options and the error boundary."""

from __future__ import annotations

import errno

import click
import grpc
from ferry.config import ConfigError
from ferry.errors import FerryError

from ferry_cli.client import DEFAULT_REGISTRY, DEFAULT_TIMEOUT, CliContext
from ferry_cli.dashboard import dashboard
from ferry_cli.errors import CliError, describe_error
from ferry_cli.options import CommandGroup, output_option
from ferry_cli.profiles import profiles
from ferry_cli.records import diff_runs, records, run_records
from ferry_cli.run_actions import cancel_run, retry_run, rollback_run, start_run
from ferry_cli.run_details import get_run, run_errors, run_logs, run_sample
from ferry_cli.runs import runs
from ferry_cli.schedules import schedules
from ferry_cli.watch import watch_run


class FerryGroup(CommandGroup):
    """Turns gRPC and domain errors raised by any command into ``error:`` lines."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except (grpc.RpcError, FerryError, ConfigError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise
            obj = ctx.find_object(CliContext) or CliContext()
            raise CliError(describe_error(exc, obj.address, obj.timeout)) from None


@click.group(cls=FerryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--registry", "address", envvar="FERRY_REGISTRY", default=DEFAULT_REGISTRY,
              show_default=True, metavar="HOST:PORT",
              help="Registry address (env FERRY_REGISTRY).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="Deadline of each registry call.")
@click.version_option(package_name="ferry", prog_name="ferry")
@click.pass_context
def cli(ctx: click.Context, address: str, timeout: float) -> None:
    """Operate Ferry: profiles, schedules and runs in the registry.

    -o/--output also goes after the command: ferry runs list -o json."""
    obj = ctx.ensure_object(CliContext)
    obj.address, obj.timeout = address, timeout
    ctx.call_on_close(obj.close)


# The global -o/--output, second in the help after --registry.
cli.params.insert(1, output_option(default="table"))


cli.add_command(profiles)
cli.add_command(schedules)
cli.add_command(runs)
cli.add_command(records)
cli.add_command(dashboard)
for _command in (get_run, run_logs, run_errors, run_sample, watch_run, start_run, cancel_run,
                 retry_run, run_records, diff_runs, rollback_run):
    runs.add_command(_command)
