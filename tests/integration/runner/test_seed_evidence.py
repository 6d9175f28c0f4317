"""The seed workflows where runs meet their evidence, through a real registry,
scheduler, runner and RabbitMQ, and the ``ferry`` CLI as a user runs it.

- (c) rows left out on purpose by ``mapping.filters`` are counted as
  ``filtered``: the run ends COMPLETED and ``runs start --wait`` exits 0.
- (d) a failed file import is replayed from ``failed_dir`` by ``runs retry``;
  ``runs start --source`` reads another file for one run, recorded on the run,
  and is refused outside ``FERRY_FILE_ROOTS``.
- (h) a run's masked sample is stored with it in the registry (at most 50
  rows, the rest counted) and read back by ``ferry runs sample``.
- (h) a profile whose last live run failed shows "failing since <time> (<n>
  failed runs)" in ``ferry runs get`` and ``ferry dashboard`` until a live
  run completes.
- (e) rejected rows and error messages are stored masked (the entity's
  personal fields, ``masked_fields``, emails and phones in any text); the
  field that failed and why stay readable.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry_domain.profiles.yaml_codec import load_profiles

from tests.integration.runner import stack
from tests.integration.runner.test_sample_flow import (
    RAW_EMAIL,
    RAW_PHONE,
    customers_profile,
    write_customers,
)
from tests.support.processes import ServiceProcess, registry_process

pytestmark = [pytest.mark.rabbitmq]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SUPPLIER_HEADER = "SKU;Name;Brand;Price;Stock;EAN;Categories;Status\n"


@pytest.fixture
def cli(run_cli, registry: ServiceProcess) -> Callable[..., object]:
    def run(*args: str, timeout: float = 90.0):
        return run_cli(*args, registry=registry, timeout=timeout)
    return run


def supplier_profile(location: Path):
    """examples/supplier-products.yaml, reading ``location`` into the runner's
    default target."""
    text = (EXAMPLES / "supplier-products.yaml").read_text(encoding="utf-8")
    (profile,) = load_profiles(text, "supplier-products.yaml")
    profile.source.location = str(location)
    profile.target.dsn_ref = ""
    return profile


def test_rows_filtered_on_purpose_leave_the_run_completed(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess],
        cli: Callable[..., object]) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "catalog-2026-12-01.csv").write_text(
        SUPPLIER_HEADER
        + "ac-1001;Trail Runner 2 Shoe;Northpeak;84,90;10;4006381333931;Footwear;active\n"
        + "ac-1005;Alpine Beanie;Northpeak;19,00;55;;Apparel|Hats;discontinued\n"
        + "ac-1007;Camp Stove;Ridgeway;39,00;3;;Camping;inactive\n", encoding="utf-8")
    stack.apply_profile(client, supplier_profile(drop / "catalog-*.csv"))

    started = cli("runs", "start", "supplier-products", "--wait")
    assert started.returncode == 0, (started.stdout, started.stderr)

    listed = cli("runs", "list", "--profile", "supplier-products")
    header, row = listed.stdout.splitlines()[:2]
    cells = dict(zip(header.split(), row.split(), strict=False))
    assert cells["STATUS"] == "COMPLETED" and cells["FILTERED"] == "1", listed.stdout
    assert cells["SKIPPED"] == "0" and cells["CREATED"] == "2", listed.stdout

    as_json = json.loads(cli("-o", "json", "runs", "list", "--profile",
                             "supplier-products").stdout)
    run = as_json[0] if isinstance(as_json, list) else as_json["runs"][0]
    assert run["counts"]["filtered"] == "1" and "skipped" not in run["counts"], run
    shown = cli("runs", "get", run["id"]).stdout
    assert "created 2, filtered 1" in shown, shown
    assert "first skip" not in shown, shown


def test_rejected_rows_and_messages_are_stored_masked(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess],
        cli: Callable[..., object]) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(
        "email,first_name,last_name,phone,city,postcode\n"
        "ada@example.com,Ada,Lovelace,+44 20 7946 0018,London,NW1 6XE\n"
        "not-an-email,Grace,Hopper,+1 202 555 0143,Arlington,22201\n"
        "ada@example.com,Ada,Byron,+44 20 7946 0019,London,NW1 6XF\n", encoding="utf-8")
    profile = customers_profile("customers", source)
    profile.error_threshold.max_error_percent = 90
    stack.apply_profile(client, profile)

    started = cli("-o", "json", "runs", "start", "customers", "--wait")
    run = json.loads(started.stdout)
    assert run["status"] == "RUN_STATUS_WARNING", run

    errors = cli("runs", "errors", run["id"])
    assert errors.returncode == 0, errors.stderr
    table = list(csv.DictReader(io.StringIO(errors.stdout)))
    assert [(r["row"], r["outcome"], r["field"]) for r in table] == [
        ("2", "error", "email"), ("3", "skipped", "email")]
    assert table[0]["message"].endswith("is not an e-mail address"), table
    assert table[1]["message"].startswith("duplicate key email="), table
    shown = cli("runs", "get", run["id"]).stdout
    assert "row 2, email: " in shown and "is not an e-mail address" in shown, shown
    assert not RAW_PHONE.search(errors.stdout), errors.stdout
    for text in (errors.stdout, shown):
        assert not RAW_EMAIL.search(text), text
        for raw in ("not-an-email", "Grace", "Hopper", "Byron", "Arlington", "22201",
                    "NW1 6XF", "555 0143", "7946 0019"):
            assert raw not in text, (raw, text)


def test_a_failed_file_is_replayed_from_the_failed_folder(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess],
        cli: Callable[..., object]) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    source = drop / "stock.csv"
    source.write_text("sku,name,Price,quantity\nA-1,Apple,1.50,3\nB-2,Pear,2.25,4\n",
                      encoding="utf-8")
    profile = stack.products_profile("replay", source)
    profile.mapping.fields[2].source = "cost"  # the supplier calls it Price: the run fails
    profile.retention.failed_dir = str(tmp_path / "failed")
    profile.retry.max_attempts = 1
    stack.apply_profile(client, profile)

    failed = json.loads(cli("-o", "json", "runs", "start", "replay", "--wait").stdout)
    assert failed["status"] == "RUN_STATUS_FAILED", failed
    moved = [a["path"] for a in failed["retentionActions"]
             if a["kind"] == "RETENTION_ACTION_KIND_MOVED_TO_FAILED"]
    assert len(moved) == 1 and Path(moved[0]).parent.parent.parent.parent == tmp_path / "failed"
    assert not source.exists() and Path(moved[0]).name == "stock.csv"

    # The fix, its dry run on the failed file, then the replay.
    profile.mapping.fields[2].source = "Price"
    stack.apply_profile(client, profile)
    dry = cli("runs", "start", "replay", "--dry-run", "--source", moved[0], "--wait")
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    retried = cli("-o", "json", "runs", "retry", failed["id"], "--wait")
    assert retried.returncode == 0, (retried.stdout, retried.stderr)
    run = json.loads(retried.stdout)
    assert run["status"] == "RUN_STATUS_COMPLETED" and run["counts"]["created"] == "2", run
    assert run["sourceOverride"] == moved[0] and run["retryOf"] == failed["id"], run
    shown = cli("runs", "get", run["id"]).stdout
    assert re.search(rf"^source:\s+{re.escape(moved[0])} \(override\)$", shown, re.M), shown
    assert stack.target_row(f"sqlite:///{tmp_path / 'target.db'}", "B-2")["price"] == 2.25


def test_a_source_override_outside_the_file_roots_is_refused(tmp_path: Path, run_cli) -> None:
    roots = tmp_path / "imports"
    roots.mkdir()
    (roots / "one-time.csv").write_text("sku,name,price,quantity\n", encoding="utf-8")
    proc = registry_process(tmp_path, FERRY_FILE_ROOTS=str(roots)).start()
    try:
        with RegistryClient(proc.address) as client:
            stack.apply_profile(client, stack.products_profile("p", roots / "stock.csv"))
        refused = run_cli("runs", "start", "p", "--source", "/etc/passwd", registry=proc)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused
        assert "source_override" in refused.stderr and "outside" in refused.stderr, refused
        escape = run_cli("runs", "start", "p", "--source", f"{roots}/../x.csv", registry=proc)
        assert escape.returncode == 1 and "outside" in escape.stderr, escape
        allowed = run_cli("-o", "json", "runs", "start", "p", "--source",
                          str(roots / "one-time.csv"), registry=proc)
        assert allowed.returncode == 0, allowed.stderr
        run = json.loads(allowed.stdout)
        assert run["sourceOverride"] == str(roots / "one-time.csv") and run["force"], run
    finally:
        proc.stop()


def test_the_masked_sample_is_stored_with_the_run(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess],
        cli: Callable[..., object]) -> None:
    profile = customers_profile("customers", write_customers(tmp_path / "c.csv",
                                                             list(range(1, 61))))
    profile.retention.sample_rows = 60
    stack.apply_profile(client, profile)
    run = json.loads(cli("-o", "json", "runs", "start", "customers", "--wait").stdout)
    assert run["status"] == "RUN_STATUS_COMPLETED", run

    shown = cli("runs", "sample", run["id"])
    assert shown.returncode == 0, shown.stderr
    header, *rows = shown.stdout.splitlines()
    assert header.split() == ["email", "first_name", "last_name", "phone", "city", "postcode"]
    assert len(rows) == 50 and rows[0].split()[1].startswith("F***"), shown.stdout
    assert "10 rows left out" in shown.stderr, shown.stderr
    assert not RAW_EMAIL.search(shown.stdout) and not RAW_PHONE.search(shown.stdout)
    assert "First1" not in shown.stdout and "75001" not in shown.stdout
    as_json = json.loads(cli("runs", "sample", run["id"], "-o", "json").stdout)
    assert as_json["runId"] == run["id"] and as_json["omittedRows"] == 10, as_json
    assert len(as_json["rows"]) == 50 and len(as_json["columns"]) == 6, as_json

    profile.retention.sample_rows = 0
    stack.apply_profile(client, profile)
    unsampled = json.loads(cli("-o", "json", "runs", "start", "customers", "--force",
                               "--wait").stdout)
    none = cli("runs", "sample", unsampled["id"])
    assert none.returncode == 1 and "Traceback" not in none.stderr, none
    assert f'sample of run "{unsampled["id"]}" not found' in none.stderr, none.stderr


def test_a_failing_profile_shows_since_when_until_a_live_run_completes(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess],
        cli: Callable[..., object]) -> None:
    source = tmp_path / "stock.csv"
    source.write_text("sku,name,Price,quantity\nA-1,Apple,1.50,3\n", encoding="utf-8")
    profile = stack.products_profile("flaky", source)
    profile.mapping.fields[2].source = "cost"  # the supplier calls it Price: runs fail
    profile.retry.max_attempts = 1
    stack.apply_profile(client, profile)
    failed = [json.loads(cli("-o", "json", "runs", "start", "flaky", "--force",
                             "--wait").stdout) for _ in range(2)]
    assert [r["status"] for r in failed] == ["RUN_STATUS_FAILED"] * 2, failed

    shown = cli("runs", "get", failed[0]["id"], "--no-events").stdout
    assert re.search(r"^profile:\s+flaky .*, failing since .+ \(2 failed runs\)$", shown,
                     re.M), shown
    board = cli("dashboard")
    assert board.returncode == 0, board.stderr
    assert re.search(r"profile flaky is failing since .+ \(2 failed runs\)", board.stdout), \
        board.stdout
    as_json = json.loads(cli("dashboard", "-o", "json").stdout)
    (failing,) = as_json["failingProfiles"]
    assert failing["name"] == "flaky" and failing["failingRuns"] == 2, failing
    assert failing["failingSince"] == failed[0]["endTime"], (failing, failed[0])

    profile.mapping.fields[2].source = "Price"
    stack.apply_profile(client, profile)
    fixed = cli("runs", "start", "flaky", "--force", "--wait")
    assert fixed.returncode == 0, (fixed.stdout, fixed.stderr)
    assert "failing since" not in cli("runs", "get", failed[0]["id"], "--no-events").stdout
    assert json.loads(cli("dashboard", "-o", "json").stdout)["failingProfiles"] == []
