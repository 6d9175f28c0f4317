"""SIGTERM during a run: finish within FERRY_SHUTDOWN_GRACE, or hand back.

- Grace long enough: the runner stops consuming, the run completes, exit 0.
- Grace too short: the engine stops at a batch boundary, the run is released
  with attempt_used=False (queued again as the same attempt), the runner
  exits 0, and another runner completes the run in attempt 1.

The run reads its file at a throttled pace (``PacedSource``) until the runner
has taken the SIGTERM, so the signal provably lands mid-run; then the source
opens: the run finishes within the long grace, and the short grace's re-run
goes at full speed.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2

from tests.integration.runner import stack
from tests.support.paced_source import PacedSource
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def _running(client: RegistryClient, run_id: str, min_rows: int) -> bool:
    run = stack.get_run(client, run_id)
    assert run.status in (run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_RUNNING), run
    return run.status == run_pb2.RUN_STATUS_RUNNING and run.counts.rows_read >= min_rows


@pytest.mark.parametrize(("grace", "rows"), [("30s", 200_000), ("500ms", 500_000)],
                         ids=["finishes-in-grace", "handed-back"])
def test_sigterm_during_a_run(tmp_path: Path, registry: ServiceProcess, grace: str,
                              rows: int) -> None:
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    scheduler = stack.scheduler_process(tmp_path, registry.address, queues)
    first = stack.runner_process(tmp_path, registry.address, queues, "first",
                                 FERRY_SHUTDOWN_GRACE=grace, FERRY_RUN_LEASE="5s")
    second = stack.runner_process(tmp_path, registry.address, queues, "second")
    procs = [scheduler, first, second]
    try:
        scheduler.start()
        first.start()
        csv_path = stack.write_products_csv(tmp_path / "products.csv", rows)
        # Throttled, the file takes 100 s or more; batch boundaries (where the
        # engine stops when the grace is over) come every 0.2 s.
        paced = PacedSource(tmp_path, rate=5_000)
        with RegistryClient(registry.address) as client:
            stack.apply_profile(client, paced.profile(
                stack.products_profile("term", csv_path, batch_size=1000)))
            run = stack.start_run(client, "term")
            stack.wait_for(lambda: _running(client, run.id, 10_000), 60, "the run to start")
            started = time.monotonic()
            first.signal(signal.SIGTERM)
            stack.wait_for(lambda: "shutting down (SIGTERM)" in first.output(), 30,
                           "the runner to take the SIGTERM")
            if grace == "30s":
                paced.open()
            assert first.process is not None
            assert first.process.wait(timeout=60) == 0, first.output()[-3000:]
            stopped_after = time.monotonic() - started
            after_stop = stack.get_run(client, run.id)
            if grace == "30s":
                assert stack.status_name(after_stop) == "RUN_STATUS_COMPLETED", after_stop
                assert after_stop.counts.rows_read == rows
                assert after_stop.runner_id == "first"
            else:
                assert stopped_after < 15, stopped_after
                assert stack.status_name(after_stop) == "RUN_STATUS_QUEUED", after_stop
                assert after_stop.attempt == 1
                assert "handed back" in first.output()
                paced.open()
                second.start()
                done = stack.wait_terminal(client, run.id, 90, stack.assert_alive(second))
                assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
                assert done.attempt == 1 and done.runner_id == "second"
        assert stack.target_rows(f"sqlite:///{tmp_path / 'target.db'}") == rows
    finally:
        for proc in reversed(procs):
            proc.stop()
        queues.delete()
