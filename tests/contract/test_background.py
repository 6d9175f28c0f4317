"""Behaviour that needs the background parts: the reaper thread, several
registry replicas on one database (watch by polling), re-queued runs on the
queued-run stream, auto-pause."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import dispatch_service_pb2, run_pb2, run_service_pb2, schedule_service_pb2
from ferry_registry.config import RegistryConfig
from ferry_registry.server import create_registry_server

from tests.contract.helpers import (
    apply,
    claim,
    create_run,
    create_schedule,
    finish,
    get_run,
    hourly,
    start_run,
    when,
)


def _wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_reaper_thread_requeues_expired_runs(database_url, clock, tmp_path):
    config = RegistryConfig(address="127.0.0.1:0", database_url=database_url,
                            state_dir=tmp_path, reaper_interval=timedelta(milliseconds=50),
                            grace=0.5)
    server, stop = create_registry_server(config, clock)
    try:
        with RegistryClient(f"127.0.0.1:{server.port}") as client:
            apply(client)
            run = start_run(client)
            claim(client, run.id, lease=timedelta(seconds=10))
            time.sleep(0.2)
            assert get_run(client, run.id).status == run_pb2.RUN_STATUS_RUNNING
            clock.advance(timedelta(seconds=11))
            assert _wait_for(lambda: get_run(client, run.id).attempt == 2)
            assert get_run(client, run.id).status == run_pb2.RUN_STATUS_QUEUED
    finally:
        stop()


def test_watch_sees_changes_made_through_another_replica(database_url, server, client, clock,
                                                         tmp_path):
    config = RegistryConfig(address="127.0.0.1:0", database_url=database_url,
                            state_dir=tmp_path, grace=0.5)
    other_server, stop_other = create_registry_server(config, clock, start_reaper=False)
    try:
        with RegistryClient(f"127.0.0.1:{other_server.port}") as other:
            apply(client)
            run = start_run(client)
            statuses: list[int] = []
            first = threading.Event()

            def watch() -> None:
                for message in client.runs.WatchRun(run_service_pb2.WatchRunRequest(id=run.id),
                                                    timeout=20):
                    statuses.append(message.run.status)
                    first.set()

            thread = threading.Thread(target=watch)
            thread.start()
            assert first.wait(5)
            started = time.monotonic()
            finish(other, claim(other, run.id))
            thread.join(10)
            assert statuses[-1] == run_pb2.RUN_STATUS_COMPLETED
            assert time.monotonic() - started < 5
    finally:
        stop_other()


def test_requeued_runs_are_pushed_on_the_queued_run_stream(client, clock, reap, internals):
    apply(client)
    run = start_run(client)
    claim(client, run.id, lease=timedelta(seconds=5))
    stream = client.dispatch.StreamQueuedRuns(
        dispatch_service_pb2.StreamQueuedRunsRequest(scheduler_id="sched-1"))
    received: list[run_pb2.Run] = []

    def consume() -> None:
        try:
            for message in stream:
                received.append(message.run)
        except Exception:  # noqa: BLE001 - cancelled below
            pass

    thread = threading.Thread(target=consume)
    thread.start()
    assert _wait_for(lambda: internals.notes.fanout.subscribers == 1)
    clock.advance(timedelta(seconds=6))
    assert reap() == 1
    assert _wait_for(lambda: len(received) == 1)
    stream.cancel()
    thread.join(5)
    assert received[0].id == run.id and received[0].attempt == 2
    assert received[0].status == run_pb2.RUN_STATUS_QUEUED


def test_schedule_auto_pauses_after_consecutive_permanent_failures(client):
    apply(client)
    schedule = create_schedule(client, hourly(auto_pause_after=3))
    fire = when(schedule.next_fire_time)
    permanent = {"error_class": run_pb2.ERROR_CLASS_CREDENTIALS,
                 "error_message": "HTTP 401 from supplier feed"}

    def fail(index: int, **fields) -> run_pb2.Run:
        created = create_run(client, schedule.id, fire + timedelta(hours=index))
        return finish(client, claim(client, created.run.id), run_pb2.RUN_STATUS_FAILED,
                      **fields)

    def stored():
        return client.schedules.GetSchedule(schedule_service_pb2.GetScheduleRequest(
            id=schedule.id)).schedule

    def warnings(run: run_pb2.Run) -> list[str]:
        events = client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(run_id=run.id))
        return [e.message for e in events.events if e.type == run_pb2.RUN_EVENT_TYPE_WARNING]

    fail(0, **permanent)
    # Transient failures (attempts exhausted) neither count nor break the streak.
    fail(1, error_class=run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED, error_message="timeouts")
    assert stored().consecutive_failures == 1 and not stored().paused
    second = fail(2, **permanent)
    assert any("one more and it auto-pauses" in w for w in warnings(second))
    assert not stored().paused
    third = fail(3, **permanent)
    paused = stored()
    assert paused.paused and paused.consecutive_failures == 3
    assert "3 consecutive permanent failures" in paused.pause_reason
    assert "HTTP 401" in paused.pause_reason
    assert any("auto-paused" in w for w in warnings(third))
    resumed = client.schedules.ResumeSchedule(schedule_service_pb2.ResumeScheduleRequest(
        id=schedule.id)).schedule
    assert resumed.consecutive_failures == 0 and not resumed.paused


def test_run_metrics_are_recorded_after_commit(database_url, clock, tmp_path):
    from ferry.metrics import FerryMetrics
    from prometheus_client import CollectorRegistry

    metrics = FerryMetrics(CollectorRegistry())
    config = RegistryConfig(address="127.0.0.1:0", database_url=database_url,
                            state_dir=tmp_path, grace=0.5)
    server, stop = create_registry_server(config, clock, start_reaper=False, metrics=metrics)

    def value(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(name, labels) or 0.0

    try:
        with RegistryClient(f"127.0.0.1:{server.port}") as client:
            apply(client)
            first = start_run(client)
            claimed = claim(client, first.id, lease=timedelta(seconds=5))
            clock.advance(timedelta(seconds=6))
            assert server.registry.reaper.reap_once() == 1  # type: ignore[attr-defined]
            clock.advance(timedelta(seconds=4))
            finish(client, claim(client, first.id),
                   counts=run_pb2.RunCounts(created=3, updated=2, errors=1))
            assert claimed.fencing_token == 1
    finally:
        stop()
    assert value("ferry_rows_total", outcome="created") == 3
    assert value("ferry_rows_total", outcome="updated") == 2
    assert value("ferry_rows_total", outcome="error") == 1
    assert value("ferry_runs_total", status="queued") == 2  # created, then re-queued
    assert value("ferry_runs_total", status="running") == 2
    assert value("ferry_runs_total", status="completed") == 1
    assert value("ferry_runs_finished_total", status="completed", entity_type="products",
                 operation="import") == 1
    assert value("ferry_lease_expiries_total") == 1


@pytest.mark.postgres
def test_database_outage_is_unavailable_and_the_registry_recovers(postgres_url, clock, tmp_path):
    import grpc
    import sqlalchemy as sa

    from tests.support.databases import ADMIN_URL

    config = RegistryConfig(address="127.0.0.1:0", database_url=postgres_url,
                            state_dir=tmp_path, grace=0.5)
    server, stop = create_registry_server(config, clock, start_reaper=False)
    name = sa.make_url(postgres_url).database
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")

    def allow(on: bool) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(on).lower()}')
            if not on:
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")

    try:
        with RegistryClient(f"127.0.0.1:{server.port}") as client:
            apply(client)
            allow(False)
            try:
                with pytest.raises(grpc.RpcError) as caught:
                    start_run(client)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            finally:
                allow(True)
            assert start_run(client).status == run_pb2.RUN_STATUS_QUEUED
    finally:
        stop()
        admin.dispose()
