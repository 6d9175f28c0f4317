"""The dev stack: what ``make run`` starts, in which order, and what stops it.

Starts the registry (SQLite in ``.ferry/``), the example stock feed, one
scheduler and two runners as child processes with human-format logs prefixed
by name, then applies the example profiles and creates example schedules in a
background thread. SIGINT (Ctrl-C), SIGTERM, SIGHUP (terminal closed) and a
stdout that goes away (see ``console``) stop the children in reverse order and
exit 0; an exit of the registry stops them and exits 1. However the
supervisor ends, its children end with it (see ``children``).

``FERRY_REGISTRY`` moves the registry off ``127.0.0.1:50051``;
``FERRY_AMQP_URL`` names the broker. RabbitMQ is started when it is installed
but not running (see ``rabbitmq``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ferry.grpc_client import is_serving

from tools.devstack import stock_feed
from tools.devstack.children import ChildProcess
from tools.devstack.console import Console
from tools.devstack.errors import DevStackError
from tools.devstack.examples import ExampleSetup, copy_example_data
from tools.devstack.rabbitmq import ensure_rabbitmq

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_REGISTRY = "127.0.0.1:50051"
REGISTRY_START_TIMEOUT = 60.0
RUNNERS = 2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
BIN = Path(sys.executable).parent


class DevStack:
    def __init__(self, root: Path, console: Console, stopping: threading.Event) -> None:
        self.root = root
        self.state = root / ".ferry"
        self.console = console
        self.registry = os.environ.get("FERRY_REGISTRY") or DEFAULT_REGISTRY
        self.amqp_url = os.environ.get("FERRY_AMQP_URL") or DEFAULT_AMQP_URL
        self.children: list[ChildProcess] = []
        self.stopping = stopping

    def report(self, line: str) -> None:
        self.console.report(line)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "FERRY_LOG_FORMAT": "human",
            "FERRY_REGISTRY": self.registry,
            "FERRY_AMQP_URL": self.amqp_url,
            "FERRY_STATE_DIR": str(self.state),
            "FERRY_TARGET_URL": f"sqlite:///{self.state / 'target.db'}",
            "FERRY_EXAMPLE_TARGET_DSN": f"sqlite:///{self.state / 'target.db'}",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra)
        return env

    def spawn(self, name: str, argv: list[str], **extra: str) -> ChildProcess:
        if not Path(argv[0]).exists():
            raise DevStackError(f"{argv[0]} is missing; run `make venv`")
        child = ChildProcess(name, argv, self.env(**extra), self.console.say).start()
        self.children.append(child)
        return child

    def start(self) -> None:
        """Start everything; returns early, with what started so far, once stopping."""
        self.state.mkdir(parents=True, exist_ok=True)
        ensure_rabbitmq(self.amqp_url, report=self.report, stopping=self.stopping)
        if self.stopping.is_set():
            return
        if is_serving(self.registry):
            raise DevStackError(f"something already serves gRPC at {self.registry} (another "
                                "`make run`?); stop it or set FERRY_REGISTRY=127.0.0.1:<port>")
        self._start_registry()
        if self.stopping.is_set():
            return
        data = copy_example_data(self.root, self.state, self.report)
        feed = stock_feed.stock_feed_argv(data, self.report)
        if feed is not None:
            self.spawn(stock_feed.NAME, feed)
        self.spawn("scheduler", [str(BIN / "ferry-scheduler")],
                   FERRY_SCHEDULER_ID="devstack-scheduler")
        for index in range(1, RUNNERS + 1):
            self.spawn(f"runner-{index}", [str(BIN / "ferry-runner")],
                       FERRY_RUNNER_ID=f"devstack-runner-{index}")
        if self.stopping.is_set():
            return
        threading.Thread(target=self._setup_examples, name="examples", daemon=True).start()
        self.report("up. Try: .venv/bin/ferry runs list   (Ctrl-C stops everything)")

    def _start_registry(self) -> None:
        database = self.state / "registry.db"
        registry = self.spawn("registry", [str(BIN / "ferry-registry")],
                              FERRY_DATABASE_URL=f"sqlite:///{database}")
        deadline = time.monotonic() + REGISTRY_START_TIMEOUT
        while not is_serving(self.registry):
            if self.stopping.is_set():
                return
            if not registry.alive():
                raise DevStackError("the registry exited during start-up (see its log above)")
            if time.monotonic() > deadline:
                raise DevStackError(f"the registry is not serving on {self.registry} "
                                    f"after {REGISTRY_START_TIMEOUT:.0f}s")
            time.sleep(0.2)
        self.report(f"registry serving on {self.registry} (database {database})")

    def _setup_examples(self) -> None:
        try:
            ExampleSetup(self.root, self.registry, self.report).run()
        except Exception as exc:  # noqa: BLE001 - examples are a convenience, never fatal
            self.report(f"could not set up the examples: {exc}")

    def watch(self) -> bool:
        """Block until stopped; report children that exit on their own. False when
        the registry died."""
        reported: set[str] = set()
        healthy = True
        while not self.stopping.wait(0.5):
            for child in self.children:
                if not child.alive() and child.name not in reported:
                    reported.add(child.name)
                    self.report(f"{child.name} exited with status {child.returncode}")
                    if child.name == "registry":
                        self.report("the registry is gone; stopping the dev stack")
                        healthy = False
                        self.stopping.set()
        return healthy

    def stop(self) -> None:
        """Stop the children in reverse order of start; never raises for output."""
        for child in reversed(self.children):
            if child.alive():
                self.report(f"stopping {child.name}")
            child.stop()
        self.report("stopped")


def install_stop_handler(stopping: threading.Event) -> dict[int, Any]:
    """Make each of ``STOP_SIGNALS`` set ``stopping``; returns the handlers it
    replaced. A SIGHUP ignored from the start (``nohup make run``) stays ignored."""
    def request_stop(signum: int, _frame: object) -> None:
        stopping.set()

    previous = {}
    for sig in STOP_SIGNALS:
        if sig == signal.SIGHUP and signal.getsignal(sig) == signal.SIG_IGN:
            continue
        previous[sig] = signal.signal(sig, request_stop)
    return previous


def main() -> int:
    stopping = threading.Event()
    console = Console(sys.stdout, on_gone=stopping.set)
    stack = DevStack(Path.cwd(), console, stopping)
    previous = install_stop_handler(stopping)
    try:
        stack.start()
        return 0 if stack.watch() else 1
    except DevStackError as exc:
        console.report(f"error: {exc}")
        return 1
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
