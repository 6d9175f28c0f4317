"""Helpers for runner tests with real processes: registry, scheduler, runners,
RabbitMQ topology per test, products CSV files and profiles.

Every test gets its own ``FERRY_AMQP_PREFIX`` (``ferry-test-<uuid>``) and
deletes its topology at teardown, so tests share the broker safely.
"""

from __future__ import annotations

import contextlib
import csv
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pika
import sqlalchemy as sa
from ferry.amqp.topology import (
    RUN_REQUEST_CONTENT_TYPE,
    RUN_REQUEST_SCHEMA_VERSION,
    Topology,
    connection_parameters,
)
from ferry.grpc_client import RegistryClient, all_pages
from ferry.v1 import (
    profile_pb2,
    profile_service_pb2,
    run_pb2,
    run_request_pb2,
    run_service_pb2,
)
from google.protobuf import duration_pb2

from tests.support.needs import AMQP_URL
from tests.support.net import free_port, wait_until
from tests.support.processes import BIN, ServiceProcess, base_env

SHARED_AMQP_URL = AMQP_URL
TERMINAL = {run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING, run_pb2.RUN_STATUS_FAILED,
            run_pb2.RUN_STATUS_CANCELLED, run_pb2.RUN_STATUS_UNCHANGED}


@dataclass
class Queues:
    """A test's private topology on a broker."""

    url: str
    topology: Topology = field(default_factory=lambda: Topology(
        prefix=f"ferry-test-{uuid.uuid4().hex[:12]}"))

    @property
    def prefix(self) -> str:
        return self.topology.prefix

    @contextlib.contextmanager
    def channel(self) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
        connection = pika.BlockingConnection(connection_parameters(self.url))
        try:
            yield connection.channel()
        finally:
            if connection.is_open:
                connection.close()

    def declare(self) -> Queues:
        with self.channel() as ch:
            self.topology.declare(ch)
        return self

    def delete(self) -> None:
        with contextlib.suppress(Exception), self.channel() as ch:
            self.topology.delete(ch)

    def depth(self, queue: str | None = None) -> int:
        with self.channel() as ch:
            return ch.queue_declare(queue or self.topology.run_queue,
                                    passive=True).method.message_count

    def dead_letters(self) -> list[bytes]:
        bodies = []
        with self.channel() as ch:
            while True:
                method, _props, body = ch.basic_get(self.topology.dead_letter_queue,
                                                    auto_ack=True)
                if method is None:
                    return bodies
                bodies.append(body)

    def publish_raw(self, body: bytes, content_type: str = RUN_REQUEST_CONTENT_TYPE) -> None:
        with self.channel() as ch:
            ch.confirm_delivery()
            ch.basic_publish(self.topology.run_exchange, self.topology.run_routing_key, body,
                             pika.BasicProperties(delivery_mode=2, content_type=content_type),
                             mandatory=True)

    def publish_runs(self, runs: list[run_pb2.Run]) -> None:
        with self.channel() as ch:
            ch.confirm_delivery()
            for run in runs:
                body = run_request_pb2.RunRequest(
                    schema_version=RUN_REQUEST_SCHEMA_VERSION, run_id=run.id,
                    profile=run.profile, attempt=run.attempt, publish_count=1,
                ).SerializeToString()
                ch.basic_publish(self.topology.run_exchange, self.topology.run_routing_key,
                                 body, pika.BasicProperties(
                                     delivery_mode=2, content_type=RUN_REQUEST_CONTENT_TYPE,
                                     message_id=run.id), mandatory=True)


def runner_process(tmp_dir: Path, registry: str, queues: Queues, name: str = "runner",
                   **env: str) -> ServiceProcess:
    health = f"127.0.0.1:{free_port()}"
    values = {"FERRY_REGISTRY": registry, "FERRY_AMQP_URL": queues.url,
              "FERRY_AMQP_PREFIX": queues.prefix, "FERRY_RUNNER_ID": name,
              "FERRY_RUNNER_HEALTH": health, "FERRY_STATE_DIR": str(tmp_dir / name),
              "FERRY_TARGET_URL": f"sqlite:///{tmp_dir / 'target.db'}", **env}
    return ServiceProcess(name=name, argv=[str(BIN / "ferry-runner")], env=base_env(**values),
                          log_path=tmp_dir / "logs" / f"{name}.log", address=health)


def scheduler_process(tmp_dir: Path, registry: str, queues: Queues, **env: str
                      ) -> ServiceProcess:
    health = f"127.0.0.1:{free_port()}"
    values = {"FERRY_REGISTRY": registry, "FERRY_AMQP_URL": queues.url,
              "FERRY_AMQP_PREFIX": queues.prefix, "FERRY_SCHEDULER_ID": "scheduler",
              "FERRY_SCHEDULER_HEALTH": health, "FERRY_OUTBOX_SWEEP_INTERVAL": "1s",
              "FERRY_REPUBLISH_AFTER": "5s", **env}
    return ServiceProcess(name="scheduler", argv=[str(BIN / "ferry-scheduler")],
                          env=base_env(**values), log_path=tmp_dir / "logs" / "scheduler.log",
                          address=health)


PRODUCT_COLUMNS = ["sku", "name", "price", "quantity"]


def write_products_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(PRODUCT_COLUMNS)
        for i in range(1, rows + 1):
            writer.writerow([f"SKU-{i:07d}", f"Product {i}", f"{i % 1000}.{i % 100:02d}",
                             i % 500])
    return path


def products_profile(name: str, csv_path: Path, *, batch_size: int = 0,
                     target_dsn_ref: str = "", max_attempts: int = 3,
                     location: str | None = None) -> profile_pb2.Profile:
    return profile_pb2.Profile(
        name=name, entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE,
                                  location=location or str(csv_path),
                                  format=profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_CSV)),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target=c, source=c) for c in PRODUCT_COLUMNS]),
        target=profile_pb2.Target(kind=profile_pb2.TARGET_KIND_SQL, dsn_ref=target_dsn_ref),
        retry=profile_pb2.RetryPolicy(
            max_attempts=max_attempts, initial_backoff=duration_pb2.Duration(nanos=200_000_000),
            max_backoff=duration_pb2.Duration(seconds=1),
            max_elapsed=duration_pb2.Duration(seconds=20)),
        overlap_policy=profile_pb2.OVERLAP_POLICY_QUEUE,
        batch_size=batch_size,
    )


def apply_profile(client: RegistryClient, profile: profile_pb2.Profile) -> None:
    client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(profile=profile))


def start_run(client: RegistryClient, profile: str, *, request_id: str = "",
              force: bool = True, dry_run: bool = False) -> run_pb2.Run:
    return client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile, force=force, dry_run=dry_run,
        request_id=request_id or uuid.uuid4().hex)).run


def get_run(client: RegistryClient, run_id: str) -> run_pb2.Run:
    return client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id)).run


def wait_terminal(client: RegistryClient, run_id: str, timeout: float,
                  alive: Callable[[], None] | None = None) -> run_pb2.Run:
    found: list[run_pb2.Run] = []

    def done() -> bool:
        if alive is not None:
            alive()
        try:
            run = get_run(client, run_id)
        except Exception:  # noqa: BLE001 - registry restarting
            return False
        found[:] = [run]
        return run.status in TERMINAL

    wait_until(done, timeout=timeout, interval=0.2, what=f"run {run_id} to end")
    return found[0]


def run_events(client: RegistryClient, run_id: str) -> list[run_pb2.RunEvent]:
    return list(all_pages(client.runs.ListRunEvents, run_service_pb2.ListRunEventsRequest(
        run_id=run_id, page_size=500), "events"))


def status_name(run: run_pb2.Run) -> str:
    return run_pb2.RunStatus.Name(run.status)


def target_rows(url: str, table: str = "products") -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    finally:
        engine.dispose()


def target_row(url: str, sku: str, table: str = "products") -> dict | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(f'SELECT * FROM "{table}" WHERE sku = :sku'),
                               {"sku": sku}).mappings().first()
            return dict(row) if row else None
    finally:
        engine.dispose()


def assert_alive(*processes: ServiceProcess) -> Callable[[], None]:
    def check() -> None:
        for proc in processes:
            if proc.process is not None and proc.process.poll() is not None:
                raise AssertionError(f"{proc.name} exited with {proc.process.returncode}:\n"
                                     f"{proc.output()[-3000:]}")
    return check


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    wait_until(predicate, timeout=timeout, interval=0.1, what=what)


def elapsed(start: float) -> float:
    return time.monotonic() - start
