"""The runner end to end: real registry, scheduler, runner and RabbitMQ.

A run is published by the scheduler, consumed, claimed, executed by the
engine and finished; duplicates are dropped; permanent errors fail at once
with a class and a hint; SIGTERM stops an idle runner with exit 0.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2

from tests.integration.runner import stack
from tests.support.net import free_port
from tests.support.paced_source import PacedSource
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]


@pytest.fixture
def services(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues
             ) -> Iterator[dict[str, ServiceProcess]]:
    procs = {
        "scheduler": stack.scheduler_process(tmp_path, registry.address, queues),
        "runner": stack.runner_process(tmp_path, registry.address, queues,
                                       FERRY_RUN_LEASE="3s", FERRY_RUNNER_PREFETCH="2",
                                       FERRY_METRICS_ADDRESS=f"127.0.0.1:{free_port()}"),
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def _log_lines(proc: ServiceProcess) -> list[dict]:
    lines = []
    for line in proc.output().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_run_completes_and_duplicates_are_dropped(tmp_path: Path, client: RegistryClient,
                                                  services: dict[str, ServiceProcess],
                                                  queues: stack.Queues) -> None:
    csv_path = stack.write_products_csv(tmp_path / "products.csv", 1000)
    stack.apply_profile(client, stack.products_profile("flow", csv_path))
    run = stack.start_run(client, "flow")
    done = stack.wait_terminal(client, run.id, 60, stack.assert_alive(*services.values()))
    assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
    assert done.counts.rows_read == 1000 and done.counts.created == 1000
    assert done.attempt == 1 and done.runner_id == "runner"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert stack.target_rows(target) == 1000
    assert stack.target_row(target, "SKU-0000500")["name"] == "Product 500"

    # The same request again (a redelivery or a second publish): dropped.
    queues.publish_runs([done])
    runner = services["runner"]
    stack.wait_for(lambda: "duplicate run request dropped" in runner.output(), 20,
                   "the duplicate to be dropped")
    assert stack.get_run(client, run.id).status == run_pb2.RUN_STATUS_COMPLETED
    metrics = httpx.get(f"http://{runner.env['FERRY_METRICS_ADDRESS']}/metrics").text
    assert 'ferry_run_requests_consumed_total{result="claimed"} 1.0' in metrics
    assert 'ferry_run_requests_consumed_total{result="duplicate"} 1.0' in metrics

    # Every run-related log line carries run id and profile.
    lines = [entry for entry in _log_lines(runner) if run.id in json.dumps(entry)]
    assert lines
    for entry in lines:
        assert entry.get("run_id") == run.id and entry.get("profile") == "flow", entry


def test_permanent_error_fails_at_once_with_class_and_hint(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess]) -> None:
    stack.apply_profile(client, stack.products_profile(
        "missing", tmp_path / "nowhere.csv"))
    run = stack.start_run(client, "missing")
    done = stack.wait_terminal(client, run.id, 60, stack.assert_alive(*services.values()))
    assert stack.status_name(done) == "RUN_STATUS_FAILED", done
    assert done.error_class == run_pb2.ERROR_CLASS_PERMANENT, done
    assert done.hint and done.error_message
    assert done.attempt == 1


def test_sigterm_stops_an_idle_runner_with_exit_0(services: dict[str, ServiceProcess]) -> None:
    runner = services["runner"]
    started = time.monotonic()
    runner.signal(signal.SIGTERM)
    assert runner.process is not None
    assert runner.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 10


def test_cancel_stops_a_running_run_at_a_batch_boundary(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess]) -> None:
    csv_path = stack.write_products_csv(tmp_path / "big.csv", 400_000)
    # Throttled to 5,000 rows a second, the import would take 80 s: the
    # cancel provably lands while it runs.
    paced = PacedSource(tmp_path, rate=5_000)
    stack.apply_profile(client, paced.profile(
        stack.products_profile("cancel-me", csv_path, batch_size=2000)))
    run = stack.start_run(client, "cancel-me")

    def running() -> bool:
        current = stack.get_run(client, run.id)
        return current.status == run_pb2.RUN_STATUS_RUNNING and current.counts.rows_read > 0
    stack.wait_for(running, 60, "the run to be executing")
    client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run.id, reason="test"))
    done = stack.wait_terminal(client, run.id, 60, stack.assert_alive(*services.values()))
    assert stack.status_name(done) == "RUN_STATUS_CANCELLED", done
    assert 0 < done.counts.rows_read < 400_000


def test_second_run_of_a_profile_waits_for_the_first(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess]) -> None:
    csv_path = stack.write_products_csv(tmp_path / "p.csv", 100_000)
    stack.apply_profile(client, stack.products_profile("overlap", csv_path))
    first = stack.start_run(client, "overlap")
    second = stack.start_run(client, "overlap")
    alive = stack.assert_alive(*services.values())
    for run in (first, second):
        done = stack.wait_terminal(client, run.id, 90, alive)
        assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
        assert done.attempt == 1
    # Both requests were taken at once (prefetch 2): the second was deferred
    # and republished by the scheduler once it was still queued.
    assert "run deferred" in services["runner"].output()
    a, b = (stack.get_run(client, r.id) for r in (first, second))
    # Never both live: one started after the other ended.
    assert b.start_time.ToDatetime() >= a.end_time.ToDatetime() or \
        a.start_time.ToDatetime() >= b.end_time.ToDatetime()


def test_freshness_gate_skips_an_unchanged_source(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess]) -> None:
    csv_path = stack.write_products_csv(tmp_path / "fresh.csv", 200)
    profile = stack.products_profile("fresh", csv_path)
    profile.freshness.append(profile_pb2.FRESHNESS_METHOD_CHECKSUM)
    stack.apply_profile(client, profile)
    alive = stack.assert_alive(*services.values())

    def run_once(**kwargs: bool) -> run_pb2.Run:
        run = stack.start_run(client, "fresh", force=False, **kwargs)
        return stack.wait_terminal(client, run.id, 60, alive)

    dry = run_once(dry_run=True)  # the new mapping needs a passing dry run first
    assert stack.status_name(dry) == "RUN_STATUS_COMPLETED", dry
    assert dry.freshness.verdict == run_pb2.FRESHNESS_VERDICT_BYPASSED

    first = run_once()
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first
    assert first.freshness.verdict == run_pb2.FRESHNESS_VERDICT_FIRST_SEEN
    assert first.counts.created == 200

    second = run_once()
    assert stack.status_name(second) == "RUN_STATUS_UNCHANGED", second
    assert second.freshness.verdict == run_pb2.FRESHNESS_VERDICT_UNCHANGED
    assert second.counts.rows_read == 0

    stack.write_products_csv(csv_path, 201)  # one more row: the content changed
    third = run_once()
    assert stack.status_name(third) == "RUN_STATUS_COMPLETED", third
    assert third.freshness.verdict == run_pb2.FRESHNESS_VERDICT_CHANGED
    assert (third.counts.created, third.counts.unchanged) == (1, 200)


def test_retention_moves_imported_and_failed_files(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess]) -> None:
    alive = stack.assert_alive(*services.values())
    (tmp_path / "in").mkdir()
    good = stack.write_products_csv(tmp_path / "in" / "good.csv", 20)
    profile = stack.products_profile("kept", good)
    profile.retention.on_success = profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP
    profile.retention.backup_dir = str(tmp_path / "backup")
    profile.retention.failed_dir = str(tmp_path / "failed")
    stack.apply_profile(client, profile)
    done = stack.wait_terminal(client, stack.start_run(client, "kept").id, 60, alive)
    assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
    assert not good.exists()
    moved = list((tmp_path / "backup").rglob("good.csv"))
    assert len(moved) == 1
    assert [a.kind for a in done.retention_actions] == \
        [run_pb2.RETENTION_ACTION_KIND_MOVED_TO_BACKUP]
    assert done.retention_actions[0].path == str(moved[0])

    bad = tmp_path / "in" / "bad.csv"
    bad.write_text("sku,title\nA-1,renamed column\n")  # "name" is gone: shape change
    profile.name = "broken"
    profile.source.location = str(bad)
    stack.apply_profile(client, profile)
    failed = stack.wait_terminal(client, stack.start_run(client, "broken").id, 60, alive)
    assert stack.status_name(failed) == "RUN_STATUS_FAILED", failed
    assert failed.error_class == run_pb2.ERROR_CLASS_SOURCE_SHAPE, failed
    assert failed.hint
    assert not bad.exists()
    assert len(list((tmp_path / "failed").rglob("bad.csv"))) == 1
    assert [a.kind for a in failed.retention_actions] == \
        [run_pb2.RETENTION_ACTION_KIND_MOVED_TO_FAILED]
