"""Failed source files and backups on the runners' volumes, through a real
registry, scheduler, runner and RabbitMQ, and the ``ferry`` CLI:

- a file a failed live run moved to ``failed_dir`` is pinned: neither the
  runner (after a failed run) nor the registry's janitor purges it past
  ``keep_failed_days`` while the failure is unreleased; once a later live run
  completes, it goes ``keep_failed_days`` after that release. A file no run
  recorded goes by its dated folder.
- backups older than ``keep_backup_days`` are purged by the runner after a
  run, recorded on the run as PURGED.

The janitor passes run with an injected clock against the registry's own
database (no real waiting).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ferry.clock import FakeClock
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2

from tests.integration.runner import stack, test_seed_evidence
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

PURGED = "RETENTION_ACTION_KIND_PURGED"
cli = test_seed_evidence.cli  # the ``ferry`` CLI against the test's registry


def janitor_pass(registry: ServiceProcess, when: datetime) -> None:
    """One janitor pass at ``when`` on the registry's database."""
    from ferry_registry.db.engine import Database
    from ferry_registry.janitor import Janitor
    from ferry_registry.store.history import HistoryStore, KeepRuns

    db = Database(registry.env["FERRY_DATABASE_URL"])
    try:
        clock = FakeClock(when)
        Janitor(HistoryStore(db, clock, KeepRuns(days=365, min_runs=100)), clock,
                timedelta(minutes=10)).run_once()
    finally:
        db.dispose()


def end_time(run: dict) -> datetime:
    return datetime.fromisoformat(run["endTime"].replace("Z", "+00:00")).astimezone(UTC)


def purged(run: dict) -> list[str]:
    return [a["path"] for a in run.get("retentionActions", []) if a["kind"] == PURGED]


def old_file(root: Path, name: str) -> Path:
    path = root / "2020" / "01" / "01" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("sku,name,Price,quantity\n", encoding="utf-8")
    return path


def test_a_failed_file_is_kept_while_failing_and_purged_after_the_release(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], cli: Callable[..., object]) -> None:
    source = tmp_path / "drop" / "stock.csv"
    source.parent.mkdir()
    source.write_text("sku,name,Price,quantity\nA-1,Apple,1.50,3\n", encoding="utf-8")
    failed_dir = tmp_path / "failed"
    stray = old_file(failed_dir, "stray.csv")  # no run knows it
    profile = stack.products_profile("pinned", source, max_attempts=1)
    profile.mapping.fields[2].source = "cost"  # the supplier calls it Price: the run fails
    profile.retention.failed_dir = str(failed_dir)
    profile.retention.keep_failed_days = 1
    stack.apply_profile(client, profile)

    started = cli("-o", "json", "runs", "start", "pinned", "--wait")
    assert started.stdout, started.stderr
    failed = json.loads(started.stdout)
    assert failed["status"] == "RUN_STATUS_FAILED", failed
    [moved] = [Path(a["path"]) for a in failed["retentionActions"]
               if a["kind"] == "RETENTION_ACTION_KIND_MOVED_TO_FAILED"]
    assert purged(failed) == [str(stray)] and not stray.exists()

    janitor_pass(registry, end_time(failed) + timedelta(days=30))
    assert moved.exists(), "an unreleased failure's file was purged"

    profile.mapping.fields[2].source = "Price"
    stack.apply_profile(client, profile)
    dry = cli("runs", "start", "pinned", "--dry-run", "--source", str(moved), "--wait")
    assert dry.returncode == 0, (dry.stdout, dry.stderr)  # a dry run releases nothing
    janitor_pass(registry, end_time(failed) + timedelta(days=30))
    assert moved.exists()
    retried = cli("-o", "json", "runs", "retry", failed["id"], "--wait")
    assert retried.returncode == 0, (retried.stdout, retried.stderr)
    fixed = json.loads(retried.stdout)
    assert fixed["status"] == "RUN_STATUS_COMPLETED", fixed
    janitor_pass(registry, end_time(fixed) + timedelta(days=1))
    assert moved.exists(), "purged before keep_failed_days after the release"
    janitor_pass(registry, end_time(fixed) + timedelta(days=2))
    assert not moved.exists()


def test_backups_older_than_keep_backup_days_are_purged_by_the_runner(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess],
        cli: Callable[..., object]) -> None:
    source = tmp_path / "drop" / "stock.csv"
    source.parent.mkdir()
    source.write_text("sku,name,price,quantity\nA-1,Apple,1.50,3\n", encoding="utf-8")
    backup_dir = tmp_path / "backup"
    old = old_file(backup_dir, "stock.csv")
    profile = stack.products_profile("backed-up", source)
    profile.retention.on_success = profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP
    profile.retention.backup_dir = str(backup_dir)
    profile.retention.keep_backup_days = 30
    stack.apply_profile(client, profile)

    run = json.loads(cli("-o", "json", "runs", "start", "backed-up", "--wait").stdout)
    assert run["status"] == "RUN_STATUS_COMPLETED", run
    assert purged(run) == [str(old)] and not old.exists()
    [backup] = [Path(a["path"]) for a in run["retentionActions"]
                if a["kind"] == "RETENTION_ACTION_KIND_MOVED_TO_BACKUP"]
    assert backup.exists() and not source.exists()
    shown = cli("runs", "get", run["id"]).stdout
    assert "keep_backup_days 30" in shown, shown
