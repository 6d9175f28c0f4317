"""Runs queued outside schedules reach the broker: pushed by StreamQueuedRuns
at once, and re-published by the outbox sweep when a message was lost."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from ferry.grpc_client import RegistryClient
from ferry.v1 import run_service_pb2

from tests.integration.scheduler.support import Broker, apply_profile
from tests.support.net import wait_until


def start_run(client: RegistryClient, profile: str) -> str:
    return client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile, request_id=uuid.uuid4().hex)).run.id


def wait_for_message(broker: Broker, timeout: float) -> tuple[float, object]:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        got = broker.get_one()
        if got is not None:
            return time.monotonic() - started, got[1]
        time.sleep(0.002)
    raise TimeoutError(f"no run request on the queue after {timeout}s")


def test_manual_run_is_published_at_once_through_the_queued_run_stream(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    apply_profile(client, "stock", tmp_path)
    start_scheduler(FERRY_OUTBOX_SWEEP_INTERVAL="1h")  # only the stream publishes
    time.sleep(0.5)  # let the stream subscribe
    latencies = []
    for _ in range(5):
        run_id = start_run(client, "stock")
        latency, message = wait_for_message(broker, timeout=5)
        assert message.run_id == run_id and message.schema_version == 1
        latencies.append(latency)
    latencies.sort()
    print(f"StartRun -> message on queue: {[f'{x * 1000:.0f}ms' for x in latencies]}")
    assert latencies[len(latencies) // 2] < 0.1, latencies  # median within 100 ms
    assert latencies[-1] < 0.5, latencies


def test_outbox_sweep_republishes_a_run_whose_message_was_lost(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    apply_profile(client, "stock", tmp_path)
    start_scheduler(FERRY_OUTBOX_SWEEP_INTERVAL="300ms", FERRY_REPUBLISH_AFTER="1s")
    time.sleep(0.5)
    run_id = start_run(client, "stock")
    _, first = wait_for_message(broker, timeout=5)  # taken off the queue: "lost"
    assert first.run_id == run_id
    lost_at = time.monotonic()
    _, again = wait_for_message(broker, timeout=5)
    assert again.run_id == run_id
    assert time.monotonic() - lost_at >= 0.8  # not before FERRY_REPUBLISH_AFTER
    assert again.publish_time.ToDatetime() > first.publish_time.ToDatetime()


def test_runs_queued_while_the_scheduler_is_down_are_published_when_it_starts(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    apply_profile(client, "stock", tmp_path)
    run_ids = {start_run(client, "stock") for _ in range(3)}
    assert broker.depth() == 0
    start_scheduler(FERRY_OUTBOX_SWEEP_INTERVAL="300ms")
    wait_until(lambda: broker.depth() >= 3, timeout=10, what="3 messages")
    assert {m.run_id for m in broker.drain()} == run_ids


def test_confirmed_publishes_are_counted_on_the_metrics_endpoint(
        tmp_path: Path, client: RegistryClient, broker: Broker, start_scheduler):
    import urllib.request

    from tests.support.net import free_port

    port = free_port()
    apply_profile(client, "stock", tmp_path)
    start_scheduler(FERRY_METRICS_ADDRESS=f"127.0.0.1:{port}")
    time.sleep(0.5)
    for _ in range(3):
        start_run(client, "stock")
    wait_until(lambda: broker.depth() >= 3, timeout=10, what="3 messages")

    def published() -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        for line in text.decode().splitlines():
            if line.startswith("ferry_run_requests_published_total "):
                return float(line.split()[1])
        return 0.0
    wait_until(lambda: published() >= 3, timeout=5, what="3 publishes counted")
