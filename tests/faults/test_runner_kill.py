"""SIGKILL a runner in the middle of a 500,000-row import.

The first attempt reads the file at a throttled pace and holds at a quarter
of it (``PacedSource``), so the kill lands while it provably runs; the source
opens right after the kill, so the second attempt imports at full speed.

The lease stops being renewed, the registry's reaper re-queues the run as
attempt 2, the scheduler republishes it and a second runner, started after
the kill, completes it.
The target then holds exactly the rows of the file (upserts by sku make the
retried attempt idempotent). Registry and target on SQLite in one case and
on PostgreSQL in the other.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2

from tests.integration.runner import stack
from tests.support import databases
from tests.support.paced_source import PacedSource
from tests.support.processes import ServiceProcess, registry_process

ROWS = 500_000
KILL_FROM = 20_000  # rows read by attempt 1 before the kill

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(registry database URL, target URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}", f"sqlite:///{tmp_path / 'target.db'}"
        return
    registry_db, target_db = databases.create_database(), databases.create_database()
    try:
        yield registry_db, target_db
    finally:
        databases.drop_database(registry_db)
        databases.drop_database(target_db)


def test_killed_runner_run_completes_on_another_runner(
        tmp_path: Path, backend: tuple[str, str]) -> None:
    registry_url, target_url = backend
    csv_path = stack.write_products_csv(tmp_path / "products.csv", ROWS)
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    registry = registry_process(tmp_path, registry_url, FERRY_REAPER_INTERVAL="1s")
    procs: list[ServiceProcess] = [registry]
    try:
        registry.start()
        scheduler = stack.scheduler_process(tmp_path, registry.address, queues)
        # The victim alone takes attempt 1, with a short lease that expires
        # soon after the kill; the survivor starts after the kill, with the
        # default lease, so nothing but the kill costs an attempt.
        victim = stack.runner_process(tmp_path, registry.address, queues, "runner-a",
                                      FERRY_RUN_LEASE="3s", FERRY_TARGET_URL=target_url)
        survivor = stack.runner_process(tmp_path, registry.address, queues, "runner-b",
                                        FERRY_TARGET_URL=target_url)
        procs += [scheduler, victim, survivor]
        scheduler.start()
        victim.start()
        paced = PacedSource(tmp_path, rate=20_000, hold_at=ROWS // 4)
        with RegistryClient(registry.address) as client:
            stack.apply_profile(client, paced.profile(
                stack.products_profile("big", csv_path, batch_size=5000)))
            run = stack.start_run(client, "big")
            alive = stack.assert_alive(registry, scheduler, victim)

            def mid_run() -> bool:
                alive()
                current = stack.get_run(client, run.id)
                assert current.status in (run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_RUNNING), \
                    current
                return (current.status == run_pb2.RUN_STATUS_RUNNING
                        and KILL_FROM <= current.counts.rows_read < ROWS // 2)

            stack.wait_for(mid_run, 60, "the import to be part-way")
            assert stack.get_run(client, run.id).runner_id == victim.name
            victim.kill()
            paced.open()
            survivor.start()

            done = stack.wait_terminal(client, run.id, 120, stack.assert_alive(survivor))
            assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
            assert done.attempt == 2, done
            assert done.runner_id == survivor.name
            events = stack.run_events(client, run.id)
            assert any(e.type == run_pb2.RUN_EVENT_TYPE_LEASE_EXPIRED for e in events), \
                [(run_pb2.RunEventType.Name(e.type), e.message) for e in events]
        assert stack.target_rows(target_url) == ROWS
        for i in (1, 12_345, 250_000, ROWS):
            row = stack.target_row(target_url, f"SKU-{i:07d}")
            assert row is not None and row["name"] == f"Product {i}", (i, row)
            assert int(row["quantity"]) == i % 500
        assert stack.target_row(target_url, f"SKU-{ROWS + 1:07d}") is None
    finally:
        for proc in reversed(procs):
            if proc.alive():
                proc.signal(signal.SIGTERM)
        for proc in reversed(procs):
            proc.stop()
        queues.delete()
