"""``make run``: Ferry on one machine, in the foreground.

Starts the registry (SQLite in ``.ferry/``), one scheduler and two runners as
child processes, prefixes their human-format logs with the service name,
applies the example profiles and creates example schedules (idempotently),
and stops every child cleanly on Ctrl-C or SIGTERM (SIGTERM, wait, SIGKILL).

RabbitMQ must be reachable at ``FERRY_AMQP_URL``; when it is not and
``rabbitmq-server`` is installed it is started (``rabbitmq-server -detached``),
otherwise the command says what to install and exits 1.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ferry.durations import parse_duration

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_REGISTRY = "127.0.0.1:50051"
STOP_TIMEOUT = 10.0
COLORS = {"registry": "35", "scheduler": "36", "runner-1": "32", "runner-2": "33",
          "stock-http": "34", "devstack": "1"}
BIN = Path(sys.executable).parent
# examples/stock-feed.yaml reads http://127.0.0.1:8089/stock.csv
STOCK_FEED_PORT = 8089


class DevStackError(Exception):
    """The dev stack cannot start; the message says what to do."""


def say(name: str, line: str) -> None:
    color = COLORS.get(name, "0") if sys.stdout.isatty() else ""
    tag = f"\033[{color}m{name:<9}\033[0m" if color else f"{name:<9}"
    sys.stdout.write(f"{tag} | {line}\n")
    sys.stdout.flush()


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> Child:
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        self.pump = threading.Thread(target=self._pump, name=f"pump-{self.name}", daemon=True)
        self.pump.start()
        return self

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            say(self.name, raw.decode("utf-8", "replace").rstrip("\n"))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        if self.process is None:
            return
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                say("devstack", f"{self.name} did not stop in {timeout:.0f}s; killing it")
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.pump is not None:
            self.pump.join(timeout=2)


def amqp_reachable(url: str) -> bool:
    import pika

    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = 2
    try:
        pika.BlockingConnection(params).close()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


def find_rabbitmq_server() -> str | None:
    """``rabbitmq-server`` on PATH, or where Debian installs it (/usr/sbin is not
    on every user's PATH)."""
    found = shutil.which("rabbitmq-server")
    if found is None and Path("/usr/sbin/rabbitmq-server").exists():
        found = "/usr/sbin/rabbitmq-server"
    return found


def ensure_rabbitmq(url: str, *, wait: float = 90.0) -> None:
    if amqp_reachable(url):
        return
    server = find_rabbitmq_server()
    if server is None:
        raise DevStackError(
            f"RabbitMQ is not reachable at {url} and rabbitmq-server is not installed.\n"
            "Install and start it, then run `make run` again:\n"
            "  sudo apt-get install rabbitmq-server        (Debian/Ubuntu; starts the service)\n"
            "or run it in Docker:\n"
            "  docker run -d --name rabbitmq -p 5672:5672 rabbitmq:3-management")
    say("devstack", f"RabbitMQ is not reachable at {url}; starting `{server} -detached`")
    subprocess.run([server, "-detached"], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if amqp_reachable(url):
            say("devstack", "RabbitMQ is up")
            return
        time.sleep(1)
    raise DevStackError(f"started rabbitmq-server but {url} is still not reachable after "
                        f"{wait:.0f}s; see /var/log/rabbitmq/ for why")


def registry_serving(address: str) -> bool:
    from ferry.grpc_client import is_serving

    return is_serving(address)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


class ExampleSetup:
    """Copy the example data into ``.ferry/``, apply ``examples/*.yaml`` and create
    the schedules listed in ``examples/devstack/schedules.yaml`` (idempotently)."""

    def __init__(self, root: Path, state: Path, registry: str, env: dict[str, str],
                 report: Callable[[str], None]) -> None:
        self.root = root
        self.state = state
        self.registry = registry
        self.env = env
        self.report = report

    def run(self) -> None:
        self.copy_data()
        applied = self.apply_profiles()
        self.create_schedules(applied)

    def copy_data(self) -> None:
        source = self.root / "examples" / "data"
        target = self.state / "examples" / "data"
        if source.is_dir() and not target.exists():
            shutil.copytree(source, target)
            self.report(f"example data copied to {target}")

    def profile_files(self) -> list[Path]:
        return sorted(p for p in (self.root / "examples").glob("*.y*ml") if p.is_file())

    def apply_profiles(self) -> set[str]:
        files = self.profile_files()
        if not files:
            self.report("no example profiles in examples/*.yaml yet")
            return set()
        try:
            from ferry_domain.profiles.yaml_codec import load_profiles
        except ImportError:
            return self._apply_with_cli(files)
        from ferry.grpc_client import RegistryClient
        from ferry.v1 import profile_service_pb2

        applied: set[str] = set()
        with RegistryClient(self.registry) as client:
            for path in files:
                try:
                    profiles = load_profiles(path.read_text(), path.name)
                    for profile in profiles:
                        stored = client.profiles.ApplyProfile(
                            profile_service_pb2.ApplyProfileRequest(profile=profile)).profile
                        applied.add(profile.name)
                        if stored.dry_run_required:
                            self._dry_run(client, stored)
                except Exception as exc:  # noqa: BLE001 - report and go on
                    self.report(f"could not apply {path.name}: {exc}")
        self.report(f"applied example profiles: {', '.join(sorted(applied)) or 'none'}")
        return applied

    def _dry_run(self, client: Any, profile: Any) -> None:
        """The mapping changed since the last run: queue the dry run it now needs."""
        from ferry.v1 import run_service_pb2

        client.runs.StartRun(run_service_pb2.StartRunRequest(
            profile=profile.name, dry_run=True,
            request_id=f"devstack-dry-run:{profile.name}:{profile.revision}"))
        self.report(f"{profile.name}: mapping changed, dry run queued")

    def _apply_with_cli(self, files: list[Path]) -> set[str]:
        if not (BIN / "ferry").exists() or not module_available("ferry_cli.__main__"):
            self.report("neither ferry_domain.profiles.yaml_codec nor the ferry CLI is available; "
                        "example profiles not applied")
            return set()
        for path in files:
            done = subprocess.run([str(BIN / "ferry"), "profiles", "apply", "-f", str(path)],
                                  env=self.env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                self.report(f"could not apply {path.name}: {done.stderr.strip()[-300:]}")
        return self._existing_profiles()

    def _existing_profiles(self) -> set[str]:
        from ferry.grpc_client import RegistryClient
        from ferry.v1 import profile_service_pb2

        with RegistryClient(self.registry) as client:
            reply = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest())
            return {p.name for p in reply.profiles}

    def create_schedules(self, profiles: set[str]) -> None:
        import yaml

        from ferry.grpc_client import RegistryClient
        from ferry.v1 import profile_pb2, profile_service_pb2, schedule_service_pb2

        path = self.root / "examples" / "devstack" / "schedules.yaml"
        spec = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        wanted = {e["profile"]: e for e in spec.get("schedules", []) if e.get("profile")}
        default = spec.get("default") or {}
        kinds = {str(k).lower() for k in default.get("source_kinds", ["file"])}
        created: list[str] = []
        with RegistryClient(self.registry) as client:
            existing = client.schedules.ListSchedules(
                schedule_service_pb2.ListSchedulesRequest(page_size=500)).schedules
            have = {s.profile for s in existing}
            for name in sorted(profiles - have):
                entry = wanted.get(name)
                if entry is None and default:
                    profile = client.profiles.GetProfile(
                        profile_service_pb2.GetProfileRequest(name=name)).profile
                    kind = profile_pb2.SourceKind.Name(profile.source.kind)
                    if kind.removeprefix("SOURCE_KIND_").lower() in kinds:
                        entry = {"profile": name, **default}
                if entry is None:
                    continue
                every = str(entry.get("every", "30s"))
                client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
                    schedule=self._schedule(name, every, entry), request_id=f"devstack:{name}"))
                created.append(f"{name} every {every}")
        if created:
            self.report(f"created example schedules: {'; '.join(created)}")

    @staticmethod
    def _schedule(profile: str, every: str, entry: dict) -> Any:
        from google.protobuf.duration_pb2 import Duration

        from ferry.v1 import schedule_pb2

        step = Duration()
        step.FromTimedelta(parse_duration(every))
        return schedule_pb2.Schedule(
            profile=profile, time_zone=str(entry.get("time_zone", "UTC")),
            interval=schedule_pb2.IntervalTrigger(every=step),
            description=str(entry.get("description", "example schedule created by make run")))


class DevStack:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / ".ferry"
        self.registry = os.environ.get("FERRY_REGISTRY") or DEFAULT_REGISTRY
        self.amqp_url = os.environ.get("FERRY_AMQP_URL") or DEFAULT_AMQP_URL
        self.children: list[Child] = []
        self.stopping = threading.Event()

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

    def spawn(self, name: str, argv: list[str], **extra: str) -> Child:
        child = Child(name, argv, self.env(**extra)).start()
        self.children.append(child)
        return child

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        ensure_rabbitmq(self.amqp_url)
        if registry_serving(self.registry):
            raise DevStackError(f"something already serves gRPC at {self.registry} (another "
                                "`make run`?); stop it or set FERRY_REGISTRY=127.0.0.1:<port>")
        if not module_available("ferry_registry.__main__"):
            raise DevStackError("the registry service (ferry_registry) is not installed; "
                                "run `make venv`")
        registry = self.spawn("registry", [str(BIN / "ferry-registry")],
                              FERRY_DATABASE_URL=f"sqlite:///{self.state / 'registry.db'}")
        deadline = time.monotonic() + 60
        while not registry_serving(self.registry):
            if not registry.alive():
                raise DevStackError("the registry exited during start-up (see its log above)")
            if time.monotonic() > deadline or self.stopping.is_set():
                raise DevStackError(f"the registry is not serving on {self.registry} after 60s")
            time.sleep(0.2)
        say("devstack", f"registry serving on {self.registry} "
                        f"(database {self.state / 'registry.db'})")
        stock = self.state / "examples" / "data" / "stock"
        if not stock.is_dir() and (self.root / "examples" / "data").is_dir():
            shutil.copytree(self.root / "examples" / "data", self.state / "examples" / "data",
                            dirs_exist_ok=True)
        if stock.is_dir() and port_free(STOCK_FEED_PORT):
            self.spawn("stock-http", [sys.executable, "-m", "http.server", str(STOCK_FEED_PORT),
                                      "--bind", "127.0.0.1", "--directory", str(stock)])
        elif stock.is_dir():
            say("devstack", f"port {STOCK_FEED_PORT} is taken by another program, so the "
                            "stock-feed example's HTTP source is not served; its runs will "
                            "retry and fail until the port is free")
        if module_available("ferry_scheduler.__main__"):
            self.spawn("scheduler", [str(BIN / "ferry-scheduler")],
                       FERRY_SCHEDULER_ID="devstack-scheduler")
        else:
            say("devstack", "ferry-scheduler is not available yet; runs will not be published")
        if module_available("ferry_runner.__main__"):
            for index in (1, 2):
                self.spawn(f"runner-{index}", [str(BIN / "ferry-runner")],
                           FERRY_RUNNER_ID=f"devstack-runner-{index}")
        else:
            say("devstack", "ferry-runner is not available yet; runs will stay QUEUED")
        threading.Thread(target=self._setup_examples, name="examples", daemon=True).start()
        say("devstack", "up. Try: .venv/bin/ferry runs list   (Ctrl-C stops everything)")

    def _setup_examples(self) -> None:
        try:
            ExampleSetup(self.root, self.state, self.registry, self.env(),
                         report=lambda line: say("devstack", line)).run()
        except Exception as exc:  # noqa: BLE001 - examples are a convenience, never fatal
            say("devstack", f"could not set up the examples: {exc}")

    def watch(self) -> bool:
        """Block until stopped; report children that exit on their own. False when
        the registry died."""
        reported: set[str] = set()
        healthy = True
        while not self.stopping.wait(0.5):
            for child in self.children:
                if not child.alive() and child.name not in reported:
                    reported.add(child.name)
                    code = child.process.returncode if child.process else None
                    say("devstack", f"{child.name} exited with status {code}")
                    if child.name == "registry":
                        say("devstack", "the registry is gone; stopping the dev stack")
                        healthy = False
                        self.stopping.set()
        return healthy

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.alive():
                say("devstack", f"stopping {child.name}")
            child.stop()
        say("devstack", "stopped")


def main() -> int:
    stack = DevStack(Path.cwd())

    def handle(signum: int, _frame: object) -> None:
        stack.stopping.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            stack.start()
            healthy = stack.watch()
        except DevStackError as exc:
            say("devstack", f"error: {exc}")
            stack.stop()
            return 1
        stack.stop()
        return 0 if healthy else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
