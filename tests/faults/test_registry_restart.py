"""Restart the registry (SIGTERM, then start again on the same port and
database) while runs execute: runners ride it out — heartbeats and progress
try again on the next tick, FinishRun is retried with backoff on UNAVAILABLE —
and every run completes in its first attempt.

The runs read their files at a throttled pace and hold part-way
(``PacedSource``) until the registry is back, so they provably run while it
is down; then the sources open and the runs finish at full speed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2

from tests.integration.runner import stack
from tests.support.paced_source import PacedSource
from tests.support.processes import ServiceProcess, registry_process

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

RUNS = 4
ROWS = 150_000
# A run keeps its attempt while the registry is back within the lease, less
# the time since the runner's last heartbeat (a third of the lease at most).
# The outage is the 2 s the test waits plus the registry's start-up: mostly
# Python imports, 1-2 s on an idle machine, 15 s seen on a loaded one.
LEASE_SECONDS = 60


def test_runs_complete_across_a_registry_restart(tmp_path: Path) -> None:
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    registry = registry_process(tmp_path, FERRY_REAPER_INTERVAL="1s")
    procs: list[ServiceProcess] = [registry]
    target = f"sqlite:///{tmp_path / 'target.db'}"
    try:
        registry.start()
        scheduler = stack.scheduler_process(tmp_path, registry.address, queues)
        runners = [stack.runner_process(tmp_path, registry.address, queues, f"runner-{i}",
                                        FERRY_RUN_LEASE=f"{LEASE_SECONDS}s") for i in range(2)]
        procs += [scheduler, *runners]
        for proc in procs[1:]:
            proc.start()
        # Progress reports (which fail while the registry is down) keep coming
        # for 10 s; then the runs hold until the sources open.
        paced = PacedSource(tmp_path, rate=10_000, hold_at=ROWS * 2 // 3)
        with RegistryClient(registry.address) as client:
            run_ids = []
            for i in range(RUNS):
                csv_path = stack.write_products_csv(tmp_path / f"p{i}.csv", ROWS)
                profile = paced.profile(stack.products_profile(f"restart-{i}", csv_path,
                                                               batch_size=2000))
                profile.target.CopyFrom(profile_pb2.Target(kind=profile_pb2.TARGET_KIND_SQL,
                                                           table=f"products_{i}"))
                stack.apply_profile(client, profile)
                run_ids.append(stack.start_run(client, f"restart-{i}").id)

            def some_running() -> bool:
                runs = [stack.get_run(client, run_id) for run_id in run_ids]
                return any(r.status == run_pb2.RUN_STATUS_RUNNING and r.counts.rows_read > 0
                           for r in runs)
            stack.wait_for(some_running, 60, "runs to be executing")

            registry.stop()
            down_since = time.monotonic()
            time.sleep(2.0)
            registry.start()
            downtime = time.monotonic() - down_since
            assert downtime < LEASE_SECONDS * 2 / 3, \
                f"the registry took {downtime:.0f}s to come back: longer than the lease allows"
            paced.open()

            for run_id in run_ids:
                done = stack.wait_terminal(client, run_id, 120, stack.assert_alive(*runners))
                assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
                assert done.attempt == 1, done
                assert done.counts.rows_read == ROWS
        for i in range(RUNS):
            assert stack.target_rows(target, f"products_{i}") == ROWS
        logs = "".join(r.output() for r in runners)
        # The runners noticed the registry was gone and carried on.
        assert ("heartbeat failed" in logs or "progress report failed" in logs
                or "FinishRun: attempt" in logs), (downtime, logs[-3000:])
        assert all(r.alive() for r in runners)
    finally:
        for proc in reversed(procs):
            proc.stop()
        queues.delete()


def test_request_arriving_while_the_registry_is_down_is_not_lost(tmp_path: Path) -> None:
    """The claim is retried with backoff (the delivery stays unacked) until the
    registry is back; then the run completes."""
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    registry = registry_process(tmp_path)
    runner = stack.runner_process(tmp_path, registry.address, queues)
    try:
        registry.start()
        runner.start()
        csv_path = stack.write_products_csv(tmp_path / "p.csv", 100)
        with RegistryClient(registry.address) as client:
            stack.apply_profile(client, stack.products_profile("late", csv_path))
            run = stack.start_run(client, "late")
            registry.stop()
            queues.publish_runs([run])  # no scheduler: the request is ours
            stack.wait_for(lambda: "ClaimRun: attempt" in runner.output(), 30,
                           "the runner to retry its claim")
            registry.start()
            done = stack.wait_terminal(client, run.id, 90, stack.assert_alive(runner))
            assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
            assert done.attempt == 1
    finally:
        runner.stop()
        registry.stop()
        queues.delete()
