"""Run lifecycle events on the real broker: an in-process registry publishes one
``RunLifecycleEvent`` per committed state change; a subscriber bound before the
run starts receives every state change of the run, in order.

Each test uses its own ``FERRY_AMQP_PREFIX`` (``ferry-test-<uuid>``) on the
shared broker and deletes that topology at teardown.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
import pytest
from ferry.amqp.topology import RUN_EVENT_CONTENT_TYPE, Topology
from ferry.clock import FakeClock
from ferry.grpc_client import RegistryClient
from ferry.grpc_server import GrpcServer
from ferry.v1 import execution_service_pb2, run_pb2, run_service_pb2
from ferry_registry.config import RegistryConfig
from ferry_registry.server import create_registry_server

from tests.contract.helpers import apply, claim, finish, profile
from tests.support.needs import AMQP_URL
from tests.support.net import TcpProxy, free_port, wait_until

pytestmark = pytest.mark.rabbitmq
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "run_events_subscriber.py"
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
S = run_pb2


@dataclass
class Received:
    routing_key: str
    properties: pika.BasicProperties
    event: run_pb2.RunLifecycleEvent

    @property
    def summary(self) -> tuple[str, str, int, int]:
        return (self.routing_key, self.event.run.id, self.event.run.status,
                self.event.run.attempt)


class Subscriber:
    """An exclusive queue bound to ``<prefix>.run-events`` before anything runs."""

    def __init__(self, prefix: str, binding_key: str = "run.#") -> None:
        self.topology = Topology(prefix)
        self.connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(self.topology.events_exchange, exchange_type="topic",
                                      durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, self.topology.events_exchange,
                                routing_key=binding_key)
        self.received: list[Received] = []

    def take(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` more events arrived; return them in arrival order."""
        wanted = len(self.received) + count
        deadline = time.monotonic() + timeout
        while len(self.received) < wanted and time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.02)
                continue
            self.received.append(Received(method.routing_key, properties,
                                          run_pb2.RunLifecycleEvent.FromString(body)))
        got = self.received[wanted - count:]
        assert len(got) == count, f"expected {count} events, got {[r.summary for r in got]}"
        return got

    def take_raw(self, count: int, message_type, timeout: float = 10.0) -> list[Received]:
        """Like ``take``, for events of another message type (``profile.*``)."""
        got: list[Received] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.02)
                continue
            got.append(Received(method.routing_key, properties, message_type.FromString(body)))
        assert len(got) == count, f"expected {count} events, got {len(got)}"
        return got

    def nothing_more(self, wait: float = 0.5) -> bool:
        time.sleep(wait)
        method, _, _ = self.channel.basic_get(self.queue, auto_ack=True)
        return method is None

    def close(self) -> None:
        try:
            self.topology.delete(self.channel)
        finally:
            self.connection.close()


@pytest.fixture
def prefix() -> str:
    return f"ferry-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def subscriber(prefix: str) -> Iterator[Subscriber]:
    found = Subscriber(prefix)
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def start_registry(tmp_path: Path, clock: FakeClock
                   ) -> Iterator[Callable[..., tuple[GrpcServer, RegistryClient]]]:
    stops: list[Callable[[], None]] = []
    clients: list[RegistryClient] = []

    def start(prefix: str, amqp_url: str = AMQP_URL) -> tuple[GrpcServer, RegistryClient]:
        config = RegistryConfig(address="127.0.0.1:0",
                                database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                                state_dir=tmp_path, grace=0.5, run_events=True,
                                amqp_url=amqp_url, amqp_prefix=prefix)
        server, stop = create_registry_server(config, clock, start_reaper=False)
        stops.append(stop)
        client = RegistryClient(f"127.0.0.1:{server.port}", timeout=15)
        clients.append(client)
        apply(client, profile("stock", max_attempts=3))
        return server, client

    try:
        yield start
    finally:
        for client in clients:
            client.close()
        for stop in stops:
            stop()


def start_live_run(client: RegistryClient, profile_name: str = "stock") -> run_pb2.Run:
    # force: past the dry-run gate of a freshly applied profile.
    return client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile_name, force=True)).run


def release(client: RegistryClient, claimed: execution_service_pb2.ClaimRunResponse,
            reason: str = "source timed out") -> run_pb2.Run:
    return client.execution.ReleaseRun(execution_service_pb2.ReleaseRunRequest(
        run_id=claimed.run.id, runner_id=claimed.run.runner_id,
        fencing_token=claimed.fencing_token, reason=reason,
        error_class=run_pb2.ERROR_CLASS_TRANSIENT, attempt_used=True)).run


def test_subscriber_receives_queued_started_completed_in_order(start_registry, subscriber,
                                                              prefix):
    _, client = start_registry(prefix)
    run = start_live_run(client)
    claimed = claim(client, run.id)
    finish(client, claimed, counts=run_pb2.RunCounts(rows_read=3, created=2, updated=1))

    got = subscriber.take(3)
    assert [g.summary for g in got] == [
        ("run.queued", run.id, S.RUN_STATUS_QUEUED, 1),
        ("run.started", run.id, S.RUN_STATUS_RUNNING, 1),
        ("run.completed", run.id, S.RUN_STATUS_COMPLETED, 1)]
    for received in got:
        event = received.event
        assert event.schema_version == 1
        assert event.routing_key == received.routing_key
        assert event.run.profile == "stock"
        assert event.HasField("event_time")
        assert received.properties.content_type == RUN_EVENT_CONTENT_TYPE
        assert received.properties.delivery_mode == 2
        assert received.properties.message_id == event.event_id
        assert received.properties.headers["schema_version"] == 1
        assert received.properties.headers["run_id"] == run.id
    assert len({r.event.event_id for r in got}) == 3
    # sequence: the STATUS entries of the run's timeline, in the same order.
    timeline = client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(run_id=run.id))
    assert [g.event.sequence for g in got] == [
        e.sequence for e in timeline.events if e.type == run_pb2.RUN_EVENT_TYPE_STATUS]
    assert [g.properties.headers["sequence"] for g in got] == [g.event.sequence for g in got]
    # The full run as committed: the runner on start, the counts on completion.
    assert got[1].event.run.runner_id == "runner-1"
    assert got[1].event.run.HasField("start_time")
    assert got[2].event.run.counts.created == 2 and got[2].event.run.counts.rows_read == 3
    assert got[2].event.run.HasField("end_time")
    assert subscriber.nothing_more()


def test_cancelled_while_queued_gives_queued_then_cancelled(start_registry, subscriber, prefix):
    _, client = start_registry(prefix)
    run = start_live_run(client)
    client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run.id, reason="not today"))

    got = subscriber.take(2)
    assert [g.summary for g in got] == [
        ("run.queued", run.id, S.RUN_STATUS_QUEUED, 1),
        ("run.cancelled", run.id, S.RUN_STATUS_CANCELLED, 1)]
    assert got[1].event.run.error_message == "not today"


def test_retried_attempts_are_announced_in_order_until_the_run_fails(
        start_registry, subscriber, prefix, clock):
    server, client = start_registry(prefix)
    run = start_live_run(client)
    first = claim(client, run.id)
    release(client, first)                             # attempt 1 failed: re-queued
    second = claim(client, run.id, "runner-2")
    clock.advance(timedelta(minutes=5))                # runner-2 stops heart-beating
    assert server.registry.reaper.reap_once() == 1     # re-queued as attempt 3
    third = claim(client, run.id, "runner-3")
    finish(client, third, run_pb2.RUN_STATUS_FAILED,
           error_class=run_pb2.ERROR_CLASS_PERMANENT, error_message="404 from the source")

    got = subscriber.take(7)
    assert [g.summary for g in got] == [
        ("run.queued", run.id, S.RUN_STATUS_QUEUED, 1),
        ("run.started", run.id, S.RUN_STATUS_RUNNING, 1),
        ("run.queued", run.id, S.RUN_STATUS_QUEUED, 2),
        ("run.started", run.id, S.RUN_STATUS_RUNNING, 2),
        ("run.queued", run.id, S.RUN_STATUS_QUEUED, 3),
        ("run.started", run.id, S.RUN_STATUS_RUNNING, 3),
        ("run.failed", run.id, S.RUN_STATUS_FAILED, 3)]
    assert second.run.attempt == 2
    sequences = [g.event.sequence for g in got]
    assert sequences == sorted(sequences) and len(set(sequences)) == 7 and sequences[0] > 0
    assert got[-1].event.run.error_message == "404 from the source"
    assert subscriber.nothing_more()


def test_concurrent_runs_each_arrive_in_order(start_registry, subscriber, prefix):
    _, client = start_registry(prefix)
    names = [f"p{i}" for i in range(6)]
    for name in names:
        apply(client, profile(name))
    outcomes = [run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING,
                run_pb2.RUN_STATUS_UNCHANGED]
    run_ids: dict[str, int] = {}
    errors: list[BaseException] = []

    def lifecycle(index: int, name: str) -> None:
        try:
            for n in range(3):
                run = start_live_run(client, name)
                run_ids[run.id] = outcomes[(index + n) % 3]
                finish(client, claim(client, run.id, f"runner-{name}"), run_ids[run.id])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=lifecycle, args=(i, name))
               for i, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors

    got = subscriber.take(3 * len(run_ids))
    by_run: dict[str, list[str]] = {}
    for received in got:
        by_run.setdefault(received.event.run.id, []).append(received.routing_key)
    final = {run_pb2.RUN_STATUS_COMPLETED: "run.completed",
             run_pb2.RUN_STATUS_WARNING: "run.warning",
             run_pb2.RUN_STATUS_UNCHANGED: "run.unchanged"}
    assert by_run == {run_id: ["run.queued", "run.started", final[status]]
                      for run_id, status in run_ids.items()}


def test_registry_serves_and_runs_finish_when_the_broker_is_unreachable(start_registry, prefix):
    began = time.monotonic()
    server, client = start_registry(prefix, f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F")
    run = start_live_run(client)
    done = finish(client, claim(client, run.id))
    assert done.status == run_pb2.RUN_STATUS_COMPLETED
    assert time.monotonic() - began < 5
    relay = server.registry.run_events
    assert relay.published == 0
    assert relay.pending == 3                          # kept, in order, for when it is back
    assert [e.routing_key for e in list(relay._buffer)] == [
        "run.queued", "run.started", "run.completed"]


def test_events_buffered_while_the_broker_is_down_are_published_in_order_when_it_is_back(
        start_registry, subscriber, prefix):
    forwarder = TcpProxy()  # refuses connections until up(): the broker is down
    try:
        server, client = start_registry(
            prefix, f"amqp://guest:guest@127.0.0.1:{forwarder.port}/%2F")
        run = start_live_run(client)
        finish(client, claim(client, run.id))
        relay = server.registry.run_events
        wait_until(lambda: relay.pending == 3, timeout=5, what="three buffered events")
        assert subscriber.nothing_more(0.2)
        forwarder.up()                                    # the broker is back
        got = subscriber.take(3, timeout=15)
        assert [g.routing_key for g in got] == ["run.queued", "run.started", "run.completed"]
        assert {g.event.run.id for g in got} == {run.id}
        # An event leaves the buffer once its confirm is processed, which may
        # come a moment after the subscriber got the message.
        wait_until(lambda: relay.pending == 0, timeout=5, what="confirms processed")
    finally:
        forwarder.down()


def test_example_subscriber_prints_one_line_per_event(start_registry, prefix):
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--amqp-url", AMQP_URL, "--prefix", prefix,
         "--count", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    channel = None
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"listening on {prefix}.run-events for run.#"), (
            first + process.stderr.read() if process.stderr else first)
        _, client = start_registry(prefix)
        run = start_live_run(client)
        finish(client, claim(client, run.id), counts=run_pb2.RunCounts(rows_read=5, created=5))
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        channel = connection.channel()
        Topology(prefix).delete(channel)
        connection.close()
    assert process.returncode == 0, err
    lines = out.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["run.queued", "run.started", "run.completed"]
    assert all(f"run={run.id} profile=stock" in line for line in lines)
    assert "status=COMPLETED attempt=1/3 read=5 created=5" in lines[2]


def test_registry_process_publishes_events_and_keeps_broker_outages_quiet(tmp_path, subscriber,
                                                                          prefix):
    from tests.support.processes import registry_process

    proc = registry_process(tmp_path, FERRY_AMQP_URL=AMQP_URL, FERRY_AMQP_PREFIX=prefix,
                            FERRY_RUN_EVENTS="on").start()
    try:
        with RegistryClient(proc.address, timeout=15) as client:
            apply(client, profile("stock"))
            run = start_live_run(client)
            client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run.id))
        assert [g.routing_key for g in subscriber.take(2)] == ["run.queued", "run.cancelled"]
    finally:
        assert proc.stop() == 0, proc.output()[-3000:]

    down = registry_process(tmp_path / "down", FERRY_AMQP_PREFIX=prefix, FERRY_RUN_EVENTS="on",
                            FERRY_AMQP_URL=f"amqp://ferry:s3cret-pw@127.0.0.1:{free_port()}/%2F")
    down.start()
    try:
        with RegistryClient(down.address, timeout=15) as client:
            apply(client, profile("stock"))
            run = start_live_run(client)
            finish(client, claim(client, run.id))
        time.sleep(1.0)                                   # a few reconnect attempts
    finally:
        assert down.stop() == 0, down.output()[-3000:]
    out = down.output()
    assert out.count("cannot publish run events") == 1, out[-3000:]
    assert '"level": "error"' not in out, out[-3000:]
    assert "s3cret-pw" not in out
    assert "run events not published at shutdown" in out


def test_publish_many_pipelines_confirms_and_keeps_the_order(subscriber, prefix):
    from ferry.amqp.messages import run_lifecycle_event
    from ferry.amqp.publisher import RunEventPublisher

    publisher = RunEventPublisher(AMQP_URL, Topology(prefix), client_name="ferry-test-events")
    try:
        events = [run_lifecycle_event(run_pb2.Run(id=f"r{i}", profile="stock",
                                                  status=S.RUN_STATUS_QUEUED, attempt=1),
                                      START, sequence=i) for i in range(60)]
        assert publisher.publish_many(events[:50]) == [True] * 50
        assert publisher.publish_many([events[50]]) == [True]  # a batch of one
        assert publisher.publish_many(events[51:]) == [True] * 9
        assert publisher.published == 60
        got = subscriber.take(60)
        assert [r.event.sequence for r in got] == list(range(60))
        assert got[0].properties.headers["sequence"] == 0
    finally:
        publisher.close()
