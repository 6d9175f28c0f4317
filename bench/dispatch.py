"""Dispatch benchmark: manual runs end to end through registry, scheduler and runners.

Starts a registry (SQLite under bench/.data/; ``--registry-db postgres``: a
throw-away database on the local PostgreSQL, dropped after; or --database URL), one
scheduler and two ``ferry-runner`` processes on a private topology of the
local RabbitMQ, then triggers manual runs (StartRun) round robin over
``--profiles`` copies of a tiny one-row profile (a profile has at most one
live run at a time, so one profile would serialise the runners), in two
phases, each waiting until its runs are terminal:

- throughput: ``--runs`` runs triggered at ``--rate`` per second (default
  250, above the target, so that a queue builds if the stack cannot keep
  up); runs/s = runs finished / (last end time - first queue time);
- latency: ``--latency-runs`` runs triggered at the target rate of 200 per
  second (``--latency-rate``); trigger-to-start latency p50/p99 is
  ``start_time - queue_time`` from the registry. (Latency measured while
  triggering faster than the stack's capacity would measure the queue that
  builds, not the stack.)

Beside them: raw pika rates on the same broker, publish with confirm (one
message at a time, persistent) and consume with ack, and the CPU each
process used per run. PASS/FAIL per target: >= 200 runs/s sustained, and at
200 runs/s p50 < 50 ms, p99 < 250 ms.

    .venv/bin/python bench/dispatch.py --runs 2000
    .venv/bin/python bench/dispatch.py --runs 2000 --registry-db postgres
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pika
from ferry.amqp.topology import Topology
from ferry.grpc_client import RegistryClient, is_serving
from ferry.v1 import profile_pb2, profile_service_pb2, run_pb2, run_service_pb2

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AMQP_URL = os.environ.get("FERRY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
TERMINAL = {run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING, run_pb2.RUN_STATUS_FAILED,
            run_pb2.RUN_STATUS_CANCELLED, run_pb2.RUN_STATUS_UNCHANGED}
TARGETS = {"p50_ms": 50.0, "p99_ms": 250.0, "runs_per_s": 200.0}
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def create_postgres_database() -> str:
    """A fresh database next to BENCH_POSTGRES_URL's; returns its URL."""
    import psycopg
    import sqlalchemy as sa

    admin = sa.make_url(POSTGRES_URL)
    name = f"ferry_bench_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    import psycopg
    import sqlalchemy as sa

    name = sa.make_url(url).database
    dsn = sa.make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The processes under test; always stopped (SIGTERM, then SIGKILL)."""

    def __init__(self, workdir: Path, database_url: str, prefix: str, prefetch: int,
                 runners: int = 2) -> None:
        self.workdir = workdir
        self.registry = f"127.0.0.1:{free_port()}"
        self.prefix = prefix
        self.children: list[subprocess.Popen[bytes]] = []
        common = {k: v for k, v in os.environ.items() if not k.startswith("FERRY_")}
        common.update(FERRY_REGISTRY=self.registry, FERRY_AMQP_URL=AMQP_URL,
                      FERRY_AMQP_PREFIX=prefix, FERRY_LOG_FORMAT="json",
                      FERRY_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "warning"),
                      FERRY_STATE_DIR=str(workdir),
                      FERRY_TARGET_URL=f"sqlite:///{workdir / 'target.db'}",
                      PYTHONUNBUFFERED="1")
        self.env = common
        self.database_url = database_url
        self.prefetch = prefetch
        self.runners = runners

    def spawn(self, name: str, **env: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.children.append(subprocess.Popen(
            [str(BIN / name.split("#")[0])], env={**self.env, **env}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.workdir))
        log.close()

    def start(self) -> None:
        self.spawn("ferry-registry", FERRY_DATABASE_URL=self.database_url)
        deadline = time.monotonic() + 60
        while not is_serving(self.registry):
            if time.monotonic() > deadline or self.children[0].poll() is not None:
                raise RuntimeError(f"registry did not start; see {self.workdir}/ferry-registry.log")
            time.sleep(0.1)
        self.spawn("ferry-scheduler", FERRY_SCHEDULER_ID="bench-scheduler")
        for index in range(1, self.runners + 1):
            self.spawn(f"ferry-runner#{index}", FERRY_RUNNER_ID=f"bench-runner-{index}",
                       FERRY_RUNNER_PREFETCH=str(self.prefetch))
        time.sleep(2.0)  # let the runners connect and the scheduler subscribe
        for child in self.children:
            if child.poll() is not None:
                raise RuntimeError(f"{child.args[0]} exited with {child.returncode}; "
                                   f"see the logs in {self.workdir}")

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=10)


def tiny_profiles(client: RegistryClient, workdir: Path, count: int) -> list[str]:
    source = workdir / "tiny.csv"
    source.write_text("sku,name\nB-1,Bench\n")
    names = []
    for index in range(count):
        name = f"bench-tiny-{index}"
        client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(
            profile=profile_pb2.Profile(
                name=name, entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
                source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE,
                                          location=str(source),
                                          format=profile_pb2.Format(
                                              kind=profile_pb2.FORMAT_KIND_CSV)),
                mapping=profile_pb2.Mapping(fields=[
                    profile_pb2.FieldMapping(target="sku", source="sku"),
                    profile_pb2.FieldMapping(target="name", source="name")]))))
        names.append(name)
    return names


def trigger(client: RegistryClient, profiles: list[str], runs: int, rate: float) -> list[str]:
    """StartRun ``runs`` times, paced at ``rate`` per second by a few threads."""
    ids: list[str] = [""] * runs
    started = time.monotonic()

    def one(index: int) -> None:
        due = started + index / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        reply = client.runs.StartRun(run_service_pb2.StartRunRequest(
            profile=profiles[index % len(profiles)], request_id=f"bench-{uuid.uuid4().hex}"))
        ids[index] = reply.run.id

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(runs)))
    return ids


def terminal_count(client: RegistryClient) -> int:
    """Runs in a terminal status (SummarizeRuns: one cheap call)."""
    reply = client.runs.SummarizeRuns(run_service_pb2.SummarizeRunsRequest())
    return sum(item.count for item in reply.counts if item.status in TERMINAL)


def wait_terminal(client: RegistryClient, ids: list[str], timeout: float,
                  already: int = 0) -> None:
    """Until ``len(ids)`` more runs than ``already`` are terminal. One
    SummarizeRuns call every 0.25 s: polling each run with GetRun would load
    the registry under test with thousands of calls a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if terminal_count(client) - already >= len(ids):
            return
        time.sleep(0.25)


def warm_up(client: RegistryClient, profiles: list[str]) -> None:
    """A few runs before the measurement, so that the runners have loaded the
    engine and the target table exists (two runners creating it at once make
    one of them retry, and a run of its profile then waits for the outbox)."""
    first = trigger(client, profiles[:1], 1, 1.0)
    wait_terminal(client, first, timeout=60)
    ids = trigger(client, profiles[1:5] or profiles, 4, 50.0)
    wait_terminal(client, first + ids, timeout=60)


def phase(client: RegistryClient, profiles: list[str], count: int,
          rate: float) -> tuple[list[run_pb2.Run], float]:
    """Trigger ``count`` runs at ``rate``/s, wait until they are terminal;
    the runs and how long triggering took."""
    already = terminal_count(client)
    t0 = time.monotonic()
    ids = trigger(client, profiles, count, rate)
    trigger_s = time.monotonic() - t0
    wait_terminal(client, ids, timeout=max(120.0, count / 10), already=already)
    return fetch_runs(client, ids), trigger_s


def latencies_ms(runs: list[run_pb2.Run]) -> list[float]:
    """start_time - queue_time of each started run, in ms."""
    return [(r.start_time.ToDatetime() - r.queue_time.ToDatetime()).total_seconds() * 1000
            for r in runs if r.HasField("start_time")]


def trigger_to_start(runs: list[run_pb2.Run]) -> tuple[float, float]:
    latencies = latencies_ms(runs)
    return percentile(latencies, 0.50), percentile(latencies, 0.99)


def latency_line(runs: list[run_pb2.Run]) -> str:
    latencies = latencies_ms(runs)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    return (f"trigger-to-start:    p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
            f"mean {statistics.fmean(latencies):7.1f} ms   max {max(latencies):7.1f} ms")


def fetch_runs(client: RegistryClient, ids: list[str]) -> list[run_pb2.Run]:

    """The runs that are terminal (read once the measurement is over)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(
            lambda run_id: client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id)).run,
            ids))
    found = [run for run in runs if run.status in TERMINAL]
    if len(found) < len(ids):
        print(f"warning: {len(ids) - len(found)} runs not terminal")
    return found


class QueueWatcher:
    """Consumes (and acks) the run queue in place of runners, noting when each
    run's request arrived: the dispatch stage alone (registry + scheduler + broker)."""

    def __init__(self, prefix: str) -> None:
        self.arrived: dict[str, float] = {}
        self._topology = Topology(prefix)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._consume, name="watcher", daemon=True)

    def start(self) -> QueueWatcher:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _consume(self) -> None:
        from ferry.v1 import run_request_pb2

        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        channel = connection.channel()
        self._topology.declare(channel)
        channel.basic_qos(prefetch_count=500)
        self._ready.set()
        for method, _props, body in channel.consume(self._topology.run_queue,
                                                     inactivity_timeout=0.2):
            if self._stop.is_set():
                break
            if method is None:
                continue
            message = run_request_pb2.RunRequest.FromString(body)
            self.arrived.setdefault(message.run_id, time.time())
            channel.basic_ack(method.delivery_tag)
        channel.cancel()
        connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def dispatch_only(client: RegistryClient, watcher: QueueWatcher, ids: list[str],
                  timeout: float) -> list[float]:
    """Milliseconds from each run's queue_time to its request reaching the queue."""
    deadline = time.monotonic() + timeout
    while len(set(ids) & watcher.arrived.keys()) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    latencies = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(
            lambda run_id: client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id)).run, ids))
    for run in runs:
        if run.id in watcher.arrived:
            queued = run.queue_time.ToDatetime(tzinfo=UTC).timestamp()
            latencies.append((watcher.arrived[run.id] - queued) * 1000)
    return latencies


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its reaped children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    """Local processes called ``name`` (for the CPU table)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


class CpuMeter:
    """CPU time each process of the stack (and the broker, and this bench) used
    between ``start`` and ``stop``: where a run's cost goes."""

    def __init__(self, stack: Stack, postgres: bool = False) -> None:
        names = ["registry", "scheduler"] + [f"runner-{i}" for i in
                                             range(1, len(stack.children) - 1)]
        self._pids = dict(zip(names, [c.pid for c in stack.children], strict=False))
        for pid in pids_named("beam.smp"):
            self._pids["rabbitmq"] = pid
        self._pids["bench"] = os.getpid()
        # The whole local PostgreSQL server (other clients included).
        self._postgres = postgres
        self._postgres_start: dict[int, float] = {}
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}
        self.wall = 0.0

    def start(self) -> None:
        self._wall = time.monotonic()
        self._machine = machine_busy_seconds()
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        if self._postgres:
            self._postgres_start = {pid: cpu_seconds(pid) for pid in pids_named("postgres")}

    def stop(self) -> None:
        self.wall = time.monotonic() - self._wall
        self.machine = machine_busy_seconds() - self._machine
        self.used = {name: cpu_seconds(pid) - self._start[name]
                     for name, pid in self._pids.items()}
        if self._postgres:
            self.used["postgres"] = sum(cpu_seconds(pid) - self._postgres_start.get(pid, 0.0)
                                        for pid in pids_named("postgres"))

    def line(self, runs: int) -> str:
        parts = [f"{name} {used * 1000 / max(runs, 1):.1f}" for name, used in self.used.items()]
        total = sum(self.used.values()) * 1000 / max(runs, 1)
        ours = sum(self.used.values())
        return (f"  CPU ms per run:        {', '.join(parts)}; total {total:.1f} "
                f"(over {self.wall:.1f}s wall: these {ours / max(self.wall, 1e-9):.2f} cores, "
                f"the machine {self.machine / max(self.wall, 1e-9):.2f} of {os.cpu_count()})")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def raw_pika_rates(messages: int) -> tuple[float, float]:
    """Publish-with-confirm and consume-with-ack rates on a throw-away queue."""
    queue = f"ferry-bench-raw-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.confirm_delivery()
        body = b"x" * 64
        props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        started = time.perf_counter()
        for _ in range(messages):
            channel.basic_publish("", queue, body, props, mandatory=True)
        publish_rate = messages / (time.perf_counter() - started)
        consumer = connection.channel()
        consumer.basic_qos(prefetch_count=100)
        got = 0
        started = time.perf_counter()
        for method, _props, _body in consumer.consume(queue, inactivity_timeout=5):
            if method is None:
                break
            consumer.basic_ack(method.delivery_tag)
            got += 1
            if got == messages:
                break
        consume_rate = got / (time.perf_counter() - started)
        consumer.cancel()
        channel.queue_delete(queue)
        return publish_rate, consume_rate
    finally:
        connection.close()


def report(checks: list[tuple[str, bool]]) -> bool:
    for label, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label}")
    return all(passed for _, passed in checks)


def dispatch_stage(stack: Stack, workdir: Path, args: argparse.Namespace,
                   publish_rate: float, consume_rate: float) -> int:
    watcher = QueueWatcher(stack.prefix).start()
    try:
        with RegistryClient(stack.registry, timeout=30) as client:
            profiles = tiny_profiles(client, workdir, min(args.profiles, args.runs))
            wall0, t0 = time.time(), time.monotonic()
            ids = trigger(client, profiles, args.runs, args.rate)
            trigger_s = time.monotonic() - t0
            latencies = dispatch_only(client, watcher, ids, timeout=60)
            last = max(watcher.arrived.values(), default=time.time())
    finally:
        watcher.stop()
    if not latencies:
        print("FAIL: no run request reached the queue")
        return 1
    rate = len(latencies) / max(last - wall0, 1e-9)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"dispatch stage (no runners): {len(latencies)}/{args.runs} requests on the queue; "
          f"triggered at {args.runs / trigger_s:.0f}/s")
    print(f"  dispatched:            {rate:8.1f} runs/s")
    print(f"  queue-to-broker:       p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
          f"max {max(latencies):7.1f} ms")
    print(f"  raw pika (same broker): publish+confirm {publish_rate:8.0f} msg/s   "
          f"consume+ack {consume_rate:8.0f} msg/s")
    ok = report([("queue-to-broker p50 < 50 ms", p50 < TARGETS["p50_ms"]),
                 ("queue-to-broker p99 < 250 ms", p99 < TARGETS["p99_ms"]),
                 (">= 200 runs/s dispatched", rate >= TARGETS["runs_per_s"]),
                 ("every request published", len(latencies) == args.runs)])
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=250.0,
                        help="StartRun calls per second of the throughput phase (default "
                             "250: above the target, so that runs/s is the stack's capacity)")
    parser.add_argument("--latency-runs", type=int, default=2000,
                        help="runs of the latency phase (default 2000)")
    parser.add_argument("--latency-rate", type=float, default=TARGETS["runs_per_s"],
                        help="StartRun calls per second of the latency phase (default 200: "
                             "the target rate)")
    parser.add_argument("--profiles", type=int, default=200,
                        help="copies of the tiny profile, used round robin (default 200)")
    parser.add_argument("--prefetch", type=int, default=4, help="FERRY_RUNNER_PREFETCH")
    parser.add_argument("--database", default="",
                        help="registry database URL (default: SQLite under bench/.data)")
    parser.add_argument("--registry-db", choices=("sqlite", "postgres"), default="sqlite",
                        help="sqlite (default) or postgres: a throw-away database on "
                             "BENCH_POSTGRES_URL (default " + POSTGRES_URL + "), dropped after")
    parser.add_argument("--raw-messages", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep bench/.data/<run> logs")
    parser.add_argument("--without-runners", action="store_true",
                        help="measure the dispatch stage only: the bench consumes the queue "
                             "in place of runners (queue_time -> request on the queue)")
    args = parser.parse_args(argv)

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    workdir = ROOT / "bench" / ".data" / f"dispatch-{stamp}-{os.getpid()}"
    workdir.mkdir(parents=True)
    throwaway = ""
    if args.database:
        database = args.database
    elif args.registry_db == "postgres":
        database = throwaway = create_postgres_database()
    else:
        database = f"sqlite:///{workdir / 'registry.db'}"
    prefix = f"ferry-bench-{uuid.uuid4().hex[:8]}"
    stack = Stack(workdir, database, prefix, args.prefetch,
                  runners=0 if args.without_runners else 2)
    ok = False
    try:
        publish_rate, consume_rate = raw_pika_rates(args.raw_messages)
        stack.start()
        if args.without_runners:
            code = dispatch_stage(stack, workdir, args, publish_rate, consume_rate)
            ok = code == 0
            return code
        with RegistryClient(stack.registry, timeout=30) as client:
            profiles = tiny_profiles(client, workdir, min(args.profiles, args.runs))
            warm_up(client, profiles)
            meter = CpuMeter(stack, postgres=database.startswith("postgresql"))
            meter.start()
            runs, trigger_s = phase(client, profiles, args.runs, args.rate)
            meter.stop()
            paced, paced_s = phase(client, profiles, args.latency_runs, args.latency_rate)
        if not runs or not paced:
            print("FAIL: no run finished; see the logs in", workdir)
            return 1
        first = min(r.queue_time.ToDatetime() for r in runs)
        last = max(r.end_time.ToDatetime() for r in runs)
        rate = len(runs) / max((last - first).total_seconds(), 1e-9)
        statuses: dict[str, int] = {}
        for run in runs + paced:
            name = run_pb2.RunStatus.Name(run.status).removeprefix("RUN_STATUS_")
            statuses[name] = statuses.get(name, 0) + 1
        print(f"dispatch benchmark: {len(runs) + len(paced)}/{args.runs + args.latency_runs} "
              f"runs terminal {statuses}; 2 runners x prefetch {args.prefetch}; "
              f"registry {database.split(':')[0]}")
        print(f"  throughput: {len(runs)} runs triggered at {args.runs / trigger_s:.0f}/s "
              f"for {trigger_s:.1f}s")
        print(f"    end to end:          {rate:8.1f} runs/s")
        print("    " + latency_line(runs))
        print(f"  latency: {len(paced)} runs triggered at the target rate, "
              f"{args.latency_runs / paced_s:.0f}/s for {paced_s:.1f}s")
        print("    " + latency_line(paced))
        print(f"  raw pika (same broker): publish+confirm {publish_rate:8.0f} msg/s   "
              f"consume+ack {consume_rate:8.0f} msg/s")
        print(meter.line(len(runs)))
        p50, p99 = trigger_to_start(paced)
        checks = [
            (">= 200 runs/s sustained", rate >= TARGETS["runs_per_s"]),
            ("trigger-to-start p50 < 50 ms at 200 runs/s", p50 < TARGETS["p50_ms"]),
            ("trigger-to-start p99 < 250 ms at 200 runs/s", p99 < TARGETS["p99_ms"]),
            ("every run terminal", len(runs) + len(paced) == args.runs + args.latency_runs),
        ]
        ok = report(checks)
    finally:
        stack.stop()
        try:
            connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
            Topology(prefix).delete(connection.channel())
            connection.close()
        except Exception as exc:  # noqa: BLE001 - best effort clean-up
            print(f"could not delete the bench topology {prefix}: {exc}")
        if throwaway:
            try:
                drop_postgres_database(throwaway)
            except Exception as exc:  # noqa: BLE001 - best effort clean-up
                print(f"could not drop the bench database {throwaway}: {exc}")
        if not args.keep and ok:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not ok:
            print(f"logs kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
