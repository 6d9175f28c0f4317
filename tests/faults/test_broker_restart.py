"""Restart RabbitMQ while 200 runs are queued, and again while they execute.

Runs on a private RabbitMQ node (``support_broker``), never the shared
broker. The run queue is a durable quorum queue with persistent messages, so
the requests survive the restart; runners reconnect with backoff; requests
redelivered after the restart for runs already claimed or finished are
dropped as duplicates. Every run ends COMPLETED, each claimed exactly once in
its first attempt, and the targets hold exactly one copy of every row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient, all_pages
from ferry.v1 import run_pb2, run_service_pb2

from tests.faults.support_broker import PrivateBroker, private_broker_unavailable
from tests.integration.runner import stack
from tests.support.needs import unavailable
from tests.support.processes import ServiceProcess, registry_process

pytestmark = [pytest.mark.slow]

RUNS = 200
ROWS_PER_RUN = 5


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    reason = private_broker_unavailable()
    if reason:
        unavailable(f"cannot run a private RabbitMQ node: {reason}")
    node = PrivateBroker(tmp_path / "rabbit")
    try:
        node.start()
    except RuntimeError as exc:
        unavailable(f"cannot start a private RabbitMQ node on this machine: {exc}")
    try:
        yield node
    finally:
        node.stop()


def _all_runs(client: RegistryClient) -> list[run_pb2.Run]:
    return list(all_pages(client.runs.ListRuns, run_service_pb2.ListRunsRequest(page_size=500),
                          "runs"))


def test_no_run_lost_or_executed_twice_across_broker_restarts(
        tmp_path: Path, broker: PrivateBroker) -> None:
    queues = stack.Queues(broker.url).declare()
    registry = registry_process(tmp_path, FERRY_REAPER_INTERVAL="1s")
    procs: list[ServiceProcess] = [registry]
    targets = [f"sqlite:///{tmp_path / f'target-{i}.db'}" for i in range(2)]
    try:
        registry.start()
        scheduler = stack.scheduler_process(tmp_path, registry.address, queues,
                                            FERRY_REPUBLISH_AFTER="10s")
        procs.append(scheduler.start())
        with RegistryClient(registry.address) as client:
            for i in range(RUNS):
                csv_path = tmp_path / "csv" / f"p{i}.csv"
                csv_path.parent.mkdir(exist_ok=True)
                with csv_path.open("w") as out:
                    out.write("sku,name,price,quantity\n")
                    for j in range(ROWS_PER_RUN):
                        out.write(f"P{i:03d}-{j},Product {i}/{j},{j}.50,{j}\n")
                stack.apply_profile(client, stack.products_profile(f"b{i:03d}", csv_path))
                stack.start_run(client, f"b{i:03d}")

            stack.wait_for(lambda: queues.depth() >= RUNS, 60, "200 requests on the queue")
            broker.restart()
            assert queues.depth() >= RUNS, "requests were lost in the broker restart"

            runners = [stack.runner_process(tmp_path, registry.address, queues, f"runner-{i}",
                                            FERRY_RUN_LEASE="10s", FERRY_TARGET_URL=targets[i])
                       for i in range(2)]
            procs += runners
            for runner in runners:
                runner.start()

            def terminal_count() -> int:
                return sum(r.status in stack.TERMINAL for r in _all_runs(client))

            stack.wait_for(lambda: terminal_count() >= 30, 90, "30 runs to end")
            broker.restart()  # while the runners consume
            alive = stack.assert_alive(*runners)

            def all_done() -> bool:
                alive()
                return terminal_count() == RUNS
            stack.wait_for(all_done, 180, "every run to end")

            runs = _all_runs(client)
            assert len(runs) == RUNS
            not_completed = [(r.profile, stack.status_name(r), r.error_message)
                             for r in runs if r.status != run_pb2.RUN_STATUS_COMPLETED]
            assert not not_completed
            assert all(r.attempt == 1 for r in runs), [(r.profile, r.attempt) for r in runs
                                                       if r.attempt != 1]
            for run in runs:
                claims = [e for e in stack.run_events(client, run.id)
                          if e.type == run_pb2.RUN_EVENT_TYPE_STATUS
                          and e.message.startswith("claimed by runner")]
                assert len(claims) == 1, (run.profile, [e.message for e in claims])
        # One copy of every row across both runners' targets: no run ran twice.
        total = sum(stack.target_rows(url) for url in targets
                    if Path(url.removeprefix("sqlite:///")).exists())
        assert total == RUNS * ROWS_PER_RUN
        logs = "".join(r.output() for r in runners)
        assert "reconnecting" in logs, logs[-2000:]
    finally:
        for proc in reversed(procs):
            proc.stop()
        queues.delete()
