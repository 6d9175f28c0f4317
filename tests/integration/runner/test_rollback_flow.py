"""``ferry runs rollback`` through the real services (registry, scheduler,
runner, RabbitMQ, the ``ferry`` CLI; issue 13, build item 4) with the
WooCommerce sample, on a SQLite and a PostgreSQL target:

- 3 prices edited and re-imported; rolling back the second run restores the
  3 old prices (checked in the target row and with ``ferry records get``);
  rolling back that rollback re-applies them;
- a rollback resets the freshness token: the unchanged source, UNCHANGED
  before, is imported again after it (its edits are written again);
- a rollback of the first run is refused, naming the keys later runs
  changed; with --force it leaves the table empty;
- once the registry purged a run's history (a janitor pass), the next live
  run's purge drops its changeset from the target.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2

from tests.integration.engine.conftest import EXAMPLES, load_sample_profile
from tests.integration.engine.test_changesets import EDITED, WOO, edit_prices
from tests.integration.runner import stack, target_stack
from tests.integration.runner.test_evidence_pins import janitor_pass
from tests.support import SAMPLES
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

# The target database and the services writing to it (fixtures).
target_url = target_stack.target_url
services = target_stack.services

PURGED = "RETENTION_ACTION_KIND_PURGED"


@pytest.fixture
def ferry(run_cli, registry: ServiceProcess, services: list[ServiceProcess]
          ) -> Callable[..., tuple[int, dict]]:
    """Run ``ferry ... -o json`` (a command with --wait); its exit code and the run."""
    def run(*args: str) -> tuple[int, dict]:
        done = run_cli(*args, "-o", "json", registry=registry, timeout=90)
        stack.assert_alive(*services)()
        assert done.stdout.strip(), (done.returncode, done.stderr)
        return done.returncode, json.loads(done.stdout)
    return run


def woo_profile(tmp_path: Path) -> profile_pb2.Profile:
    """The WooCommerce sample profile reading a copy of the file, with a
    checksum freshness gate, history kept 1 day (at least its newest 2 runs)."""
    shutil.copy(SAMPLES / WOO, tmp_path / WOO)
    profile = load_sample_profile(EXAMPLES / "woocommerce_products.yaml")
    profile.name = "woo"
    profile.source.location = str(tmp_path / WOO)
    profile.freshness.append(profile_pb2.FRESHNESS_METHOD_CHECKSUM)
    profile.retention.keep_runs_days = 1
    profile.retention.keep_min_runs = 2
    return profile


def prices(url: str, skus) -> dict[str, float | None]:
    found = {}
    for sku in skus:
        row = stack.target_row(url, sku)
        found[sku] = None if row is None or row["price"] is None else float(row["price"])
    return found


def change_runs(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT run_id FROM _ferry_change_runs")).scalars())
    finally:
        engine.dispose()


def counts(run: dict) -> dict[str, int]:
    return {name: int(value) for name, value in run.get("counts", {}).items()}


def test_rollback_restores_reapplies_refuses_forces_and_purges(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess, target_url: str,
        ferry: Callable[..., tuple[int, dict]], run_cli) -> None:
    stack.apply_profile(client, woo_profile(tmp_path))
    code, first = ferry("runs", "start", "woo", "--wait")
    assert (code, first["status"]) == (0, "RUN_STATUS_COMPLETED")
    assert counts(first)["created"] == 25

    old = edit_prices(tmp_path / WOO, EDITED)
    code, second = ferry("runs", "start", "woo", "--wait")
    assert counts(second)["updated"] == 3, second
    assert prices(target_url, EDITED) == {sku: float(p) for sku, p in EDITED.items()}
    code, same = ferry("runs", "start", "woo", "--wait")
    assert same["status"] == "RUN_STATUS_UNCHANGED"  # the source did not change

    # Rolling back the second run: the 3 old prices are back.
    code, undo = ferry("runs", "rollback", second["id"], "--wait")
    assert (code, undo["status"]) == (0, "RUN_STATUS_COMPLETED"), undo
    assert undo["operation"] == "OPERATION_ROLLBACK" and undo["rollbackOf"] == second["id"]
    assert counts(undo) == {"rowsRead": 3, "updated": 3}
    assert prices(target_url, EDITED) == {sku: float(p) for sku, p in old.items()}
    shown = run_cli("runs", "get", undo["id"], "--no-events", registry=registry)
    assert "rolls back:" in shown.stdout and second["id"] in shown.stdout, shown.stdout
    assert "products rollback" in shown.stdout
    # ferry records get shows the old price, written by the rollback.
    record = run_cli("records", "get", "woo", "woo-belt", registry=registry)
    assert record.returncode == 0, record.stderr
    lines = record.stdout.splitlines()
    [price] = [line for line in lines if line.strip().startswith("price:")]
    assert float(price.split()[-1]) == float(old["woo-belt"])
    at = lines.index("runs that touched it (newest first):")
    assert [line.split()[:2] for line in lines[at + 1:]] == [
        [undo["id"], "updated"], [second["id"], "updated"], [first["id"], "created"]]

    # Rolling back the rollback re-applies the edited prices.
    code, redo = ferry("runs", "rollback", undo["id"], "--wait")
    assert (code, counts(redo)["updated"]) == (0, 3), redo
    assert prices(target_url, EDITED) == {sku: float(p) for sku, p in EDITED.items()}

    # Undone once more, the old prices are back; a rollback resets the freshness
    # token, so the same, unchanged file is imported again: the edits return.
    code, third = ferry("runs", "rollback", redo["id"], "--wait")
    assert (code, counts(third)["updated"]) == (0, 3), third
    assert prices(target_url, EDITED) == {sku: float(p) for sku, p in old.items()}
    code, again = ferry("runs", "start", "woo", "--wait")
    assert again["status"] == "RUN_STATUS_COMPLETED", again
    assert again["freshness"]["verdict"] == "FRESHNESS_VERDICT_CHANGED"
    assert f"run {third['id']} rolled back the last import" in \
        again["freshness"]["reasonDetail"]
    assert (counts(again)["updated"], counts(again)["unchanged"]) == (3, 22)
    assert prices(target_url, EDITED) == {sku: float(p) for sku, p in EDITED.items()}

    # The first run's records were changed later: refused, naming the keys.
    code, refused = ferry("runs", "rollback", first["id"], "--wait")
    assert (code, refused["status"]) == (1, "RUN_STATUS_FAILED"), refused
    assert refused["errorClass"] == "ERROR_CLASS_PERMANENT"
    for sku in EDITED:
        assert sku in refused["errorMessage"], refused["errorMessage"]
    assert "--force" in refused["hint"]
    assert stack.target_rows(target_url) == 25

    code, forced = ferry("runs", "rollback", first["id"], "--force", "--wait")
    assert (code, forced["status"]) == (2, "RUN_STATUS_WARNING"), forced
    assert forced["rollbackForce"] is True and counts(forced)["deleted"] == 25
    assert stack.target_rows(target_url) == 0

    # The registry purges the history of all but the newest 2 runs that did work;
    # the next live run drops their changesets from the target.
    recorded = change_runs(target_url)
    assert {first["id"], second["id"], undo["id"], redo["id"], third["id"], again["id"],
            forced["id"]} <= recorded
    janitor_pass(registry, datetime.now(UTC) + timedelta(days=3))
    code, fresh = ferry("runs", "start", "woo", "--force", "--wait")
    assert counts(fresh)["created"] == 25, fresh
    dropped = {a["path"].removeprefix("changeset:")
               for a in fresh.get("retentionActions", []) if a["kind"] == PURGED}
    assert {first["id"], second["id"], undo["id"], redo["id"], third["id"],
            again["id"]} <= dropped, fresh
    assert forced["id"] not in dropped and fresh["id"] not in dropped
    assert change_runs(target_url) == {forced["id"], fresh["id"]}
    assert fresh["status"] == "RUN_STATUS_COMPLETED"
    assert not [w for w in fresh.get("warnings", []) if w.startswith("changesets:")], fresh
