"""``ferry profiles validate NAME``: check a stored profile where its data is.

The registry's static checks (ValidateProfile) come first, at once. Then the
live checks are asked of a runner: a VALIDATE_PROFILE runner task is created
(CreateRunnerTask) and polled (GetRunnerTask) until a runner answers or the
registry ends it FAILED at its deadline ("no runner took the task within
30s"). Exit status: 0 when every check passes (notes "!" included), 1 when a
check fails, 3 when no runner answered within ``--timeout``.
"""

from __future__ import annotations

import time

import click
from ferry.durations import DurationError, format_duration, parse_duration
from ferry.v1 import profile_service_pb2, run_service_pb2, runner_task_pb2
from google.protobuf import duration_pb2

from ferry_cli.client import CliContext
from ferry_cli.output import message_dict, print_json

pass_cli = click.make_pass_decorator(CliContext)

EXIT_CHECK_FAILED = 1
EXIT_NO_RUNNER = 3
POLL_SECONDS = 0.25
TERMINAL = (runner_task_pb2.RUNNER_TASK_STATE_SUCCEEDED, runner_task_pb2.RUNNER_TASK_STATE_FAILED)
MARKS = {runner_task_pb2.RUNNER_TASK_CHECK_OUTCOME_PASSED: "✓",
         runner_task_pb2.RUNNER_TASK_CHECK_OUTCOME_FAILED: "✗",
         runner_task_pb2.RUNNER_TASK_CHECK_OUTCOME_NOTE: "!"}


def check_lines(checks: list[tuple[str, str, str]]) -> list[str]:
    """One line per (mark, check, message): the mark, the check's name, its message."""
    width = max([len("shape drift"), *(len(check) for _, check, _ in checks)])
    return [f"{mark} {check.ljust(width)}  {message}" for mark, check, message in checks]


def _timeout(text: str) -> float:
    try:
        seconds = parse_duration(text).total_seconds()
    except DurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    if not 0 < seconds <= 600:
        raise click.BadParameter("must be more than 0 and at most 10m", param_hint="--timeout")
    return seconds


def _wait(obj: CliContext, task: runner_task_pb2.RunnerTask, seconds: float
          ) -> runner_task_pb2.RunnerTask:
    """Poll until the task ends. The registry ends it by its deadline (to be
    taken, then to be answered); the local cap only guards against a registry
    that does not."""
    give_up = time.monotonic() + 2 * seconds + 10
    while task.state not in TERMINAL and time.monotonic() < give_up:
        time.sleep(POLL_SECONDS)
        task = obj.client.runs.GetRunnerTask(
            run_service_pb2.GetRunnerTaskRequest(id=task.id), timeout=obj.timeout).task
    return task


@click.command("validate")
@click.argument("name")
@click.option("--timeout", "timeout_text", default="30s", show_default=True,
              help="how long a runner has to take the check, and then to answer")
@click.option("--source", "source", default="", metavar="PATH_OR_URL",
              help="check this file or URL instead of the profile's source, e.g. a failed "
                   "file in failed_dir")
@pass_cli
def validate_profile(obj: CliContext, name: str, timeout_text: str, source: str) -> None:
    """Check a stored profile without importing, where its data is: the
    definition (in the registry), then on a runner: secrets resolve, source
    reachable with its credentials, source shape against the mapping and the
    last good run, target reachable with the table's columns. Exit 1 when a
    check fails, 3 when no runner answered within --timeout."""
    seconds = _timeout(timeout_text)
    static = obj.client.profiles.ValidateProfile(
        profile_service_pb2.ValidateProfileRequest(name=name), timeout=obj.timeout)
    static_lines = [("✓" if c.ok else "✗", c.check, c.message) for c in static.checks]
    text = obj.output != "json"
    if text:  # the registry's answer at once; the runner's when it comes
        for line in check_lines(static_lines):
            click.echo(line)
    task = None
    if static.ok:
        span = duration_pb2.Duration()
        span.FromNanoseconds(int(seconds * 1e9))
        task = obj.client.runs.CreateRunnerTask(run_service_pb2.CreateRunnerTaskRequest(
            kind=runner_task_pb2.RUNNER_TASK_KIND_VALIDATE_PROFILE, profile=name,
            timeout=span, source_override=source), timeout=obj.timeout).task
        task = _wait(obj, task, seconds)
    live_lines = [(MARKS.get(c.outcome, "?"), c.check, c.message)
                  for c in (task.checks if task is not None else [])]
    failures = sum(mark == "✗" for mark, _, _ in static_lines + live_lines)
    no_runner = task is not None and task.state != runner_task_pb2.RUNNER_TASK_STATE_SUCCEEDED
    if not text:
        print_json({"checks": [message_dict(c) for c in static.checks],
                    "task": message_dict(task) if task is not None else None})
    elif no_runner:
        assert task is not None
        click.echo(f"profile {name}: {task.error_message or 'the runner task did not end'}: "
                   f"no runner is up, or none could answer within {format_duration(seconds)} "
                   "(is ferry-runner running?)", err=True)
    else:
        for line in check_lines(live_lines):
            click.echo(line)
        click.echo(f"profile {name}: " + ("all checks passed" if not failures else
                                          f"{failures} check(s) failed"))
    if no_runner:
        click.get_current_context().exit(EXIT_NO_RUNNER)
    if failures:
        click.get_current_context().exit(EXIT_CHECK_FAILED)
