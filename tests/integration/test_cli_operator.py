"""The operator commands as a user runs them: ``ferry`` subprocesses against a
real registry, scheduler and runner, over the real RabbitMQ.

A failed import (bad rows above the threshold) shows first on the dashboard,
``runs get`` explains it, ``runs errors`` gives its rejected rows as CSV, and
``runs start --wait`` / ``runs watch`` exit 0, 2 or 1 with the run's status.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2

from tests.integration.runner import stack
from tests.support.paced_source import PacedSource
from tests.support.processes import BIN, ServiceProcess, base_env

pytestmark = [pytest.mark.rabbitmq]

HEADER = ["sku", "name", "price", "quantity"]


def write_csv(path: Path, rows: int, bad: set[int]) -> Path:
    """``rows`` data rows; the rows numbered in ``bad`` (1-based) have a price
    that is not a number."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            price = f"not-a-price-{i}" if i in bad else f"{i}.50"
            writer.writerow([f"SKU-{i:04d}", f"Product {i}", price, i])
    return path


@pytest.fixture
def cli(run_cli, registry: ServiceProcess):
    def run(*args: str, timeout: float = 60.0):
        result = run_cli(*args, registry=registry, timeout=timeout)
        assert "Traceback" not in result.stderr, result.stderr
        return result
    return run


def apply_profiles(registry: ServiceProcess, tmp_path: Path) -> None:
    files = {"good": write_csv(tmp_path / "good.csv", 20, set()),
             "warn": write_csv(tmp_path / "warn.csv", 20, {7}),
             "bad": write_csv(tmp_path / "bad.csv", 20, {3, 5, 8, 13, 17})}
    with RegistryClient(registry.address) as client:
        for name, path in files.items():
            profile = stack.products_profile(name, path, max_attempts=1)
            profile.freshness.append(profile_pb2.FRESHNESS_METHOD_CHECKSUM)
            stack.apply_profile(client, profile)


def run_id_of(output: str) -> str:
    """The id from ``queued run ID (profile), following it``."""
    first = output.splitlines()[0].split()
    assert first[:2] == ["queued", "run"], output
    return first[2]


def test_failed_run_from_dashboard_to_rejected_rows(cli, registry, services, tmp_path):
    apply_profiles(registry, tmp_path)

    good = cli("runs", "start", "good", "--wait")
    assert good.returncode == 0, good.stdout + good.stderr
    good_id = run_id_of(good.stdout)
    assert f"run {good_id} COMPLETED: read 20, created 20" in good.stdout

    warn = cli("runs", "start", "warn", "--wait")
    assert warn.returncode == 2, warn.stdout + warn.stderr
    warn_id = run_id_of(warn.stdout)
    assert f"run {warn_id} WARNING" in warn.stdout and "errors 1" in warn.stdout

    bad = cli("runs", "start", "bad", "--wait")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    bad_id = run_id_of(bad.stdout)
    assert f"run {bad_id} FAILED" in bad.stdout
    assert "first error: row 3, price" in bad.stdout
    # Not a terminal: event lines, one per line, from QUEUED to FAILED.
    assert "RUNNING" in bad.stdout and "FAILED" in bad.stdout

    # The same source again: the freshness gate says unchanged, which is success.
    again = cli("runs", "start", "good", "--wait")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "UNCHANGED" in again.stdout

    # The dashboard lists the failed run first, then the warning; the good one not at all.
    board = cli("dashboard")
    assert board.returncode == 0, board.stderr
    lines = board.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["STATUS", "ID"])
    assert lines[header + 1].split()[:3] == ["FAILED", bad_id, "bad"], board.stdout
    assert lines[header + 2].split()[:3] == ["WARNING", warn_id, "warn"], board.stdout
    assert good_id not in board.stdout
    assert "failed 1" in board.stdout and "warning 1" in board.stdout
    assert "completed 1" in board.stdout and "unchanged 1" in board.stdout

    data = json.loads(cli("-o", "json", "dashboard", "--since", "1h").stdout)
    assert [r["id"] for r in data["runs"]] == [bad_id, warn_id]
    assert data["counts"]["FAILED"] == 1 and data["counts"]["COMPLETED"] == 1

    # runs get: the first error, the hint, attempts, the timeline.
    shown = cli("runs", "get", bad_id)
    assert shown.returncode == 0, shown.stderr
    details = shown.stdout
    assert "status:" in details and "FAILED" in details
    assert "attempt:" in details and "1 of 1" in details
    assert "first error:" in details and "row 3, price" in details
    assert "hint:" in details
    assert f"ferry runs errors {bad_id}" in details
    assert "freshness:" in details
    timeline = details[details.index("timeline:"):]
    assert timeline.index("QUEUED") < timeline.index("RUNNING") < timeline.index("FAILED")

    # runs errors: the rejected rows as CSV, on stdout and to a file.
    errors = cli("runs", "errors", bad_id)
    assert errors.returncode == 0, errors.stderr
    table = list(csv.reader(io.StringIO(errors.stdout)))
    assert table[0] == ["row", "outcome", "field", "message", *HEADER]
    assert [int(r[0]) for r in table[1:]] == [3, 5, 8, 13, 17]
    assert all(r[1] == "error" and r[2] == "price" and r[6].startswith("not-a-price")
               for r in table[1:]), table
    saved = tmp_path / "rejected.csv"
    assert cli("runs", "errors", bad_id, "--output-file", str(saved)).returncode == 0
    assert saved.read_text() == errors.stdout

    # runs logs: the timeline as log lines and as JSON.
    logs = cli("runs", "logs", bad_id)
    assert logs.returncode == 0 and "FAILED" in logs.stdout.splitlines()[-1]
    events = json.loads(cli("-o", "json", "runs", "logs", bad_id).stdout)["events"]
    assert events[-1]["status"] == "RUN_STATUS_FAILED"

    # runs watch on finished runs: at once, with the status's exit code.
    for run_id, code in ((good_id, 0), (warn_id, 2), (bad_id, 1)):
        started = time.monotonic()
        watched = cli("runs", "watch", run_id, timeout=15)
        assert watched.returncode == code, (run_id, watched.stdout, watched.stderr)
        assert time.monotonic() - started < 10
    assert cli("runs", "watch", "no-such-run").returncode == 1

    # retry --wait follows the new run; -o json prints the final Run.
    retried = cli("-o", "json", "runs", "retry", bad_id, "--wait")
    assert retried.returncode == 1, retried.stdout + retried.stderr
    final = json.loads(retried.stdout)
    assert final["retryOf"] == bad_id and final["status"] == "RUN_STATUS_FAILED"


def test_watch_follows_a_live_run_to_its_cancellation(cli, registry, services, tmp_path):
    """``runs watch`` on a running run streams until the end; ``runs cancel``
    stops the run at a batch boundary and the watch exits 1 with CANCELLED."""
    big = stack.write_products_csv(tmp_path / "big.csv", 400_000)
    with RegistryClient(registry.address) as client:
        # Throttled to 5,000 rows a second, the import would take 80 s: the
        # cancel provably arrives while it runs.
        paced = PacedSource(tmp_path, rate=5_000)
        stack.apply_profile(client, paced.profile(
            stack.products_profile("big", big, batch_size=200, max_attempts=1)))
        started = cli("runs", "start", "big")
        assert started.returncode == 0, started.stderr
        run_id = started.stdout.split()[2]
        stack.wait_for(lambda: stack.get_run(client, run_id).counts.rows_read > 0, 30,
                       "the run to read rows")
        watch = subprocess.Popen([str(BIN / "ferry"), "runs", "watch", run_id],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=base_env(FERRY_REGISTRY=registry.address))
        try:
            time.sleep(0.5)
            assert watch.poll() is None, "watch ended while the run was running"
            cancelled = cli("runs", "cancel", run_id, "--reason", "wrong supplier file")
            assert cancelled.returncode == 0, cancelled.stderr
            assert "cancellation requested" in cancelled.stdout
            out, err = watch.communicate(timeout=30)
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()
        final = stack.get_run(client, run_id)
    assert watch.returncode == 1, out + err
    assert f"run {run_id} CANCELLED" in out and "wrong supplier file" in out
    assert 0 < final.counts.rows_read < 400_000
