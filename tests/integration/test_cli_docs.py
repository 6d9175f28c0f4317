"""Every ``ferry ...`` command shown in README.md and docs/cli.md runs as
written against a live stack, with the exit status the docs imply.

The commands are the lines of fenced code blocks that start with ``ferry `` or
``$ ferry `` (the rest of a block is output). They run in document order,
README first, through ``bash -o pipefail`` (pipes, redirections and comments
work as in a terminal) in a scratch copy of the repository's ``examples/``:
what ``make run`` gives, without its schedules (nothing fires on its own).

The stack: a registry, a scheduler and a runner with the example profiles
applied (tools.devstack's ExampleSetup, example data copied as make run does),
the example stock feed served on a free port (the scratch copy of
stock-feed.yaml names it), and what the examples of docs/cli.md talk about:

- ``bad``: a products import whose CSV has bad prices in 5 of its 20 rows (its
  runs fail), and one failed run of it;
- ``all-profiles.yaml``: a file with several profiles (customers, stock-feed).

Placeholders (docs/cli.md, "Placeholders") are substituted before a command
runs: ``<RUN_ID>`` by the failed run of ``bad`` (by a run still in progress
for ``runs cancel``), ``<SCHEDULE_ID>`` by the oldest schedule.

A command exits 0 unless EXPECTED lists it with its status and the reason the
docs give; a few run against a registry the test breaks on purpose (ENV).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2, schedule_service_pb2

from tests.integration.runner import stack
from tests.integration.test_cli_operator import write_csv
from tests.support.net import free_port, wait_until
from tests.support.paced_source import PacedSource
from tests.support.processes import BIN, ServiceProcess, base_env, registry_process
from tools.devstack.examples import ExampleSetup, copy_example_data
from tools.devstack.stock_feed import PORT, port_free, stock_feed_argv

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/cli.md")
COMMAND = re.compile(r"^(?:\$ )?(ferry .*)$")

pytestmark = [pytest.mark.rabbitmq, pytest.mark.tool("jq")]

# (document, command as written) -> (exit status, why the docs expect it).
EXPECTED: dict[tuple[str, str], tuple[int, str]] = {
    ("README.md", "ferry runs start supplier-products --dry-run --wait   "
                  "# exits 2: WARNING, a row has no price"):
        (2, "the supplier example's newest file has a row priced 'not priced'"),
    ("docs/cli.md", 'ferry schedules create customers --cron "0 7 * *" --timezone Mars/Base'):
        (1, "the example of an invalid request"),
    ("docs/cli.md", "ferry runs list"): (1, "the example of an unreachable registry"),
    ("docs/cli.md", "ferry --timeout 2 runs list"): (1, "the example of a registry too slow"),
    ("docs/cli.md", "ferry runs get 42"): (1, "the example of an unknown run"),
    ("docs/cli.md", "ferry profiles apply -f missing.yaml"): (1, "the example of a missing file"),
    ("docs/cli.md", "ferry runs start bad --wait"): (1, "follows a run that fails: `echo $?` 1"),
    ("docs/cli.md", "ferry runs retry <RUN_ID> --wait"):
        (1, "replays the failed run of bad, whose profile is still broken"),
    ("docs/cli.md", "ferry runs start supplier-products --force --wait   "
                    '# exits 2: WARNING, ac-1006 is "not priced"'):
        (2, "the supplier example's newest file has a row priced 'not priced'"),
}
# (document, command) -> the registry it talks to: "closed" (nothing listens) or
# "silent" (accepts connections and never answers).
ENV: dict[tuple[str, str], str] = {
    ("docs/cli.md", "ferry runs list"): "closed",
    ("docs/cli.md", "ferry --timeout 2 runs list"): "silent",
}


@dataclass(frozen=True)
class Documented:
    doc: str
    line: int
    command: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc, self.command)


def documented_commands(doc: str) -> list[Documented]:
    found, fenced = [], False
    for number, line in enumerate((ROOT / doc).read_text().splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and (match := COMMAND.match(line)):
            found.append(Documented(doc, number, match[1]))
    return found


def test_the_extractor_finds_the_commands():
    readme = [c.command for c in documented_commands("README.md")]
    assert "ferry runs list --profile stock-feed --limit 200 -o json" in readme
    assert len(readme) >= 15 and all(c.startswith("ferry ") for c in readme)
    stale = set(EXPECTED) - {c.key for doc in DOCS for c in documented_commands(doc)}
    assert not stale, f"EXPECTED names commands the docs no longer show: {stale}"


@dataclass
class Stack:
    work: Path
    registry: ServiceProcess
    client: RegistryClient
    failed_run: str
    start_live_run: Callable[[], str]


def scratch_examples(work: Path, feed_port: int) -> None:
    """examples/ as make run sees it; stock-feed.yaml names the feed's port."""
    shutil.copytree(ROOT / "examples", work / "examples")
    feed = work / "examples" / "stock-feed.yaml"
    feed.write_text(feed.read_text().replace(f"127.0.0.1:{PORT}/", f"127.0.0.1:{feed_port}/"))
    (work / "all-profiles.yaml").write_text(
        "---\n".join((work / "examples" / name).read_text()
                     for name in ("customers.yaml", "stock-feed.yaml")))


@pytest.fixture
def live_stack(tmp_path: Path, queues: stack.Queues) -> Iterator[Stack]:
    work = tmp_path / "work"
    work.mkdir()
    feed_port = free_port()
    scratch_examples(work, feed_port)
    data = copy_example_data(work, work / ".ferry", report=lambda _line: None)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    env = {"FERRY_TARGET_URL": target, "FERRY_EXAMPLE_TARGET_DSN": target}
    feed_argv = stock_feed_argv(data, report=print, port=feed_port)
    assert feed_argv is not None
    registry = registry_process(tmp_path, **env)
    procs = [ServiceProcess("stock-feed", feed_argv, base_env(), tmp_path / "logs" / "feed.log"),
             registry, stack.scheduler_process(tmp_path, registry.address, queues),
             stack.runner_process(tmp_path, registry.address, queues, **env)]
    try:
        for proc in procs:
            proc.cwd = work
            proc.start()
        wait_until(lambda: not port_free(feed_port), timeout=15, what="the stock feed")
        with RegistryClient(registry.address) as client:
            ExampleSetup(work, registry.address, report=lambda _line: None).apply_profiles(client)
            bad = stack.products_profile(
                "bad", write_csv(tmp_path / "bad.csv", 20, {3, 5, 8, 13, 17}), max_attempts=1)
            bad.retention.sample_rows = 5  # runs sample <RUN_ID> shows the failed run's
            stack.apply_profile(client, bad)
            failed = stack.wait_terminal(client, stack.start_run(client, "bad").id, 30)
            assert failed.status == run_pb2.RUN_STATUS_FAILED, failed

            def start_live_run() -> str:
                """A run that is still going when ``runs cancel`` comes: it reads
                200 rows a second of 20,000."""
                slow = PacedSource(tmp_path / "pace", rate=200).profile(stack.products_profile(
                    "slow", stack.write_products_csv(tmp_path / "slow.csv", 20_000),
                    batch_size=50, max_attempts=1))
                stack.apply_profile(client, slow)
                return stack.start_run(client, "slow").id

            yield Stack(work, registry, client, failed.id, start_live_run)
    finally:
        for proc in reversed(procs):
            proc.stop()


@pytest.fixture
def broken_registries() -> Iterator[dict[str, str]]:
    """A port where nothing listens, and one that accepts and never answers."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        yield {"closed": f"127.0.0.1:{free_port()}",
               "silent": f"127.0.0.1:{silent.getsockname()[1]}"}
    finally:
        silent.close()


def substitute(command: str, live: Stack) -> str:
    if "<RUN_ID>" in command:
        run_id = live.start_live_run() if command.startswith("ferry runs cancel ") \
            else live.failed_run
        command = command.replace("<RUN_ID>", run_id)
    if "<SCHEDULE_ID>" in command:
        schedules = live.client.schedules.ListSchedules(
            schedule_service_pb2.ListSchedulesRequest(page_size=1)).schedules
        assert schedules, f"{command}: no schedule yet"
        command = command.replace("<SCHEDULE_ID>", schedules[0].id)
    return command


def test_every_documented_command_runs_as_written(live_stack: Stack, broken_registries):
    wrong = []
    for doc in DOCS:
        for shown in documented_commands(doc):
            command = substitute(shown.command, live_stack)
            registry = broken_registries.get(ENV.get(shown.key, ""), live_stack.registry.address)
            result = subprocess.run(
                ["bash", "-o", "pipefail", "-c", command], cwd=live_stack.work,
                capture_output=True, text=True, timeout=90,
                env=base_env(FERRY_REGISTRY=registry, PATH=f"{BIN}:/usr/bin:/bin"))
            code, _reason = EXPECTED.get(shown.key, (0, ""))
            if result.returncode != code or "Traceback" in result.stderr:
                wrong.append(f"{doc}:{shown.line}: {command}\n  exit {result.returncode}, "
                             f"expected {code}\n  {result.stderr.strip()[-600:]}")
    assert not wrong, "\n".join(wrong)
