"""Three scheduler replicas, one SIGKILLed midway: exactly one run per schedule
and fire time, no gaps (catch-up ALL), every run published.

20 schedules fire every 2 seconds for about 25 seconds against one registry
(SQLite, then PostgreSQL). Replicas compete for due schedules through leases
(a short lease, so the killed replica's leases expire quickly); the registry's
unique key on (schedule, fire time) and idempotent CreateRun make a fire
retried by another replica collapse into the same run.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import schedule_pb2

from tests.integration.scheduler.support import (
    Broker,
    apply_profile,
    create_schedule,
    fire_time,
    interval_schedule,
    missed_fires_of,
    private_broker,
    runs_of,
    scheduler_process,
)
from tests.support.processes import ServiceProcess, registry_process

SCHEDULES = 20
EVERY = timedelta(seconds=2)
RUN_FOR = 24.0
KILL_AT = 10.0
LEASE = "3s"

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq]


def run_replicas(tmp_path: Path, registry: ServiceProcess, broker: Broker) -> None:
    with RegistryClient(registry.address) as client:
        apply_profile(client, "replicated", tmp_path)
        anchor = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        schedules = [create_schedule(client, interval_schedule(
            "replicated", EVERY.total_seconds(), start=anchor + timedelta(milliseconds=97 * i),
            catch_up=schedule_pb2.CATCH_UP_POLICY_ALL, grace=60,
            description=f"replica test {i}")) for i in range(SCHEDULES)]
        first_fire = {s.id: s.next_fire_time.ToDatetime(tzinfo=UTC) for s in schedules}

        replicas = [scheduler_process(tmp_path, registry, broker.prefix, name=f"replica-{i}",
                                      FERRY_SCHEDULE_LEASE=LEASE, FERRY_SCHEDULER_BATCH="4",
                                      FERRY_SCHEDULER_POLL_INTERVAL="250ms",
                                      FERRY_OUTBOX_SWEEP_INTERVAL="1s",
                                      FERRY_REPUBLISH_AFTER="1h", FERRY_LOG_LEVEL="info")
                    for i in range(3)]
        try:
            for replica in replicas:
                replica.start()
            started = time.monotonic()
            time.sleep(KILL_AT)
            victim = replicas[0]
            victim.kill()  # SIGKILL: no release, no goodbye
            assert victim.process.returncode == -signal.SIGKILL
            killed_at = datetime.now(UTC)
            time.sleep(max(0.0, RUN_FOR - (time.monotonic() - started)))
            stopped_at = datetime.now(UTC)
            for replica in replicas[1:]:
                assert replica.stop() == 0, replica.output()[-3000:]
        finally:
            for replica in replicas:
                replica.stop()

        logs = {r.name: r.output() for r in replicas}
        assert "run created" in logs["replica-0"], "the killed replica never fired anything"
        busy = [name for name, text in logs.items() if "run created" in text]
        assert len(busy) >= 2, f"only {busy} created runs: the replicas did not share work"

        runs = runs_of(client)
        by_schedule: dict[str, list[datetime]] = {s.id: [] for s in schedules}
        for run in runs:
            by_schedule[run.schedule_id].append(fire_time(run))
        duplicates = {(sid, t): n for sid, times in by_schedule.items()
                      for t, n in Counter(times).items() if n > 1}
        assert duplicates == {}, f"duplicate runs: {duplicates}"
        for schedule in schedules:
            fires = sorted(by_schedule[schedule.id])
            expected = []
            moment = first_fire[schedule.id]
            while moment <= fires[-1]:
                expected.append(moment)
                moment += EVERY
            assert fires == expected, f"schedule {schedule.id}: gaps in {fires}"
            # Fires up to shortly before the stop all happened, including the
            # ones due while the killed replica's leases were running out.
            assert fires[-1] >= stopped_at - timedelta(seconds=3), (schedule.id, fires[-1])
            assert fires[0] < killed_at - timedelta(seconds=5)
            assert missed_fires_of(client, schedule.id) == []
        published = {m.run_id for m in broker.drain()}
        assert {r.id for r in runs} <= published, "a run was never published"
        assert len(runs) >= SCHEDULES * (RUN_FOR - 2) / EVERY.total_seconds()


def test_replicas_on_sqlite(tmp_path: Path):
    registry = registry_process(tmp_path).start()
    try:
        with private_broker() as broker:
            run_replicas(tmp_path, registry, broker)
    finally:
        registry.stop()


@pytest.mark.postgres
def test_replicas_on_postgresql(tmp_path: Path, postgres_url: str):
    registry = registry_process(tmp_path, database_url=postgres_url).start()
    try:
        with private_broker() as broker:
            run_replicas(tmp_path, registry, broker)
    finally:
        registry.stop()
