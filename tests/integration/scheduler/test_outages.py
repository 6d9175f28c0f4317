"""The scheduler survives its dependencies going away: runs queued while the
broker is unreachable stay QUEUED in the registry and are published when it is
back; the queued-run stream re-opens after a registry restart."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2, run_service_pb2

from tests.integration.scheduler.support import Broker, apply_profile, scheduler_process
from tests.support.net import TcpProxy, wait_until
from tests.support.processes import ServiceProcess, registry_process


def start_run(client: RegistryClient, profile: str) -> str:
    return client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile, request_id=uuid.uuid4().hex)).run.id


def test_runs_queued_while_the_broker_is_down_are_published_when_it_is_back(
        tmp_path: Path, registry: ServiceProcess, client: RegistryClient, broker: Broker):
    apply_profile(client, "stock", tmp_path)
    proxy = TcpProxy()
    proxy.up()
    scheduler = scheduler_process(
        tmp_path, registry, broker.prefix,
        FERRY_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F",
        FERRY_OUTBOX_SWEEP_INTERVAL="300ms", FERRY_REPUBLISH_AFTER="1h").start()
    try:
        first = start_run(client, "stock")
        wait_until(lambda: broker.depth() == 1, timeout=5, what="the first request")
        proxy.down()
        queued = {start_run(client, "stock") for _ in range(3)}
        time.sleep(2.0)
        assert scheduler.alive(), scheduler.output()[-3000:]
        assert broker.depth() == 1, "published through a broker that is down?"
        for run_id in queued:
            run = client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id)).run
            assert run.status == run_pb2.RUN_STATUS_QUEUED
        proxy.up()
        wait_until(lambda: broker.depth() >= 4, timeout=15, what="the outbox to catch up")
        assert {m.run_id for m in broker.drain()} == queued | {first}
        assert "not published" in scheduler.output()
    finally:
        scheduler.stop()
        proxy.down()


def test_queued_run_stream_reopens_after_a_registry_restart(
        tmp_path: Path, broker: Broker):
    registry = registry_process(tmp_path).start()
    scheduler = scheduler_process(tmp_path, registry, broker.prefix,
                                  FERRY_OUTBOX_SWEEP_INTERVAL="1h").start()
    try:
        with RegistryClient(registry.address) as client:
            apply_profile(client, "stock", tmp_path)
        registry.stop()
        time.sleep(1.0)
        assert scheduler.alive()
        registry = ServiceProcess(registry.name, registry.argv, registry.env,
                                  registry.log_path, registry.address).start()
        time.sleep(6.0)  # the stream re-opens within its maximum backoff (5 s)
        with RegistryClient(registry.address) as client:
            run_id = start_run(client, "stock")
        wait_until(lambda: broker.depth() >= 1, timeout=2,
                   what="the pushed run (only the stream publishes here)")
        assert [m.run_id for m in broker.drain()] == [run_id]
        assert "queued-runs stream broke" in scheduler.output()
    finally:
        scheduler.stop()
        registry.stop()
