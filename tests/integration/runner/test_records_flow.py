"""What a run wrote, read back through the real services (registry,
scheduler, runner, RabbitMQ, the ``ferry`` CLI; issue 13, item 3) on a
SQLite and on a PostgreSQL target: the WooCommerce sample's first run lists
its 25 created SKUs, a second run after 3 price edits exactly those 3, old ->
new; ``ferry records get`` shows the new price and both runs newest first;
``ferry runs diff`` names the price field and the 3 keys. A customers
import shows its e-mails masked."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2

from tests.integration.engine.conftest import EXAMPLES, load_sample_profile
from tests.integration.engine.test_changesets import EDITED, WOO, edit_prices
from tests.integration.runner import stack, target_stack
from tests.support import SAMPLES
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

# The target database and the services writing to it (fixtures).
target_url = target_stack.target_url
services = target_stack.services

UPDATE = re.compile(r"^updated +(\S+) +price: (\S+) -> (\S+)$")


def live(client: RegistryClient, name: str, services: list[ServiceProcess],
         dry_run: bool = False) -> run_pb2.Run:
    run = stack.wait_terminal(client, stack.start_run(client, name, dry_run=dry_run).id, 60,
                              stack.assert_alive(*services))
    assert stack.status_name(run) == "RUN_STATUS_COMPLETED", run
    return run


def woo(client: RegistryClient, folder: Path) -> Path:
    """The WooCommerce sample profile ("woo") on a copy of its CSV; the copy."""
    source = folder / WOO
    shutil.copy(SAMPLES / WOO, source)
    profile = load_sample_profile(EXAMPLES / "woocommerce_products.yaml")
    profile.name, profile.source.location = "woo", str(source)
    stack.apply_profile(client, profile)
    return source


def test_records_of_two_woocommerce_runs_their_record_and_their_diff(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    source = woo(client, tmp_path)
    first = live(client, "woo", services)
    shown = run_cli("runs", "records", first.id, "--limit", "0", registry=registry)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[-1] == f"run {first.id}: 25 record(s)"
    created = [line.split()[1] for line in lines[:-1] if line.startswith("created ")]
    assert len(created) == len(set(created)) == 25 and set(EDITED) <= set(created)

    old = edit_prices(source, EDITED)
    second = live(client, "woo", services)
    shown = run_cli("runs", "records", second.id, registry=registry)
    assert shown.returncode == 0, shown.stderr
    *records, summary = shown.stdout.splitlines()
    assert summary == f"run {second.id}: 3 record(s)"
    changes = {m[1]: (float(m[2]), float(m[3])) for m in map(UPDATE.match, records) if m}
    assert len(records) == 3 and changes == {
        sku: (float(old[sku]), float(new)) for sku, new in EDITED.items()}, records
    none = run_cli("runs", "records", second.id, "--action", "created", registry=registry)
    assert none.stdout.strip() == f"run {second.id} wrote no records (created)"

    record = run_cli("records", "get", "woo", "woo-belt", registry=registry)
    assert record.returncode == 0, record.stderr
    lines = record.stdout.splitlines()
    [price] = [line for line in lines if line.strip().startswith("price:")]
    assert float(price.split()[-1]) == float(EDITED["woo-belt"])
    at = lines.index("runs that touched it (newest first):")
    assert [line.split()[:2] for line in lines[at + 1:]] == [
        [second.id, "updated"], [first.id, "created"]]
    before, after = lines[at + 1].split("price: ")[1].split(" -> ")
    assert (float(before), float(after)) == (float(old["woo-belt"]), float(EDITED["woo-belt"]))

    diff = run_cli("runs", "diff", second.id, first.id, registry=registry)
    assert diff.returncode == 0, diff.stderr
    lines = diff.stdout.splitlines()
    assert lines[:3] == [f"from run {first.id} to run {second.id} (changes of run(s) "
                         f"{second.id})", "created: none", "deleted: none"]
    assert lines[3] == "price: 3 key(s) changed"
    assert sorted(line.split()[0] for line in lines[4:]) == sorted(EDITED)


def test_runs_without_records_are_refused_with_the_reason(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    woo(client, tmp_path)
    dry = live(client, "woo", services, dry_run=True)
    shown = run_cli("runs", "records", dry.id, registry=registry)
    assert shown.returncode == 1
    assert shown.stderr.strip() == (f"error: failed precondition: run {dry.id} was a dry run: "
                                    "it wrote nothing, so it has no records")
    absent = run_cli("records", "get", "woo", "no-such-sku", registry=registry)
    assert absent.returncode == 1, absent.stderr
    assert "no row with this key in the target" in absent.stdout
    wrong = run_cli("records", "get", "woo", "a", "b", registry=registry)
    assert wrong.returncode == 1
    assert 'profile "woo" is keyed by sku: give 1 non-empty value(s), got 2' in wrong.stderr


def test_customer_emails_are_masked_in_what_runs_wrote(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("Email,First name,Country\njane.doe@example.com,Jane,FR\n"
                      "max@example.org,Max,DE\n")
    profile = stack.products_profile("people", source)
    profile.entity_type = "customers"
    del profile.mapping.fields[:]
    profile.mapping.fields.extend([
        profile_pb2.FieldMapping(target=t, source=s)
        for t, s in (("email", "Email"), ("first_name", "First name"), ("country", "Country"))])
    stack.apply_profile(client, profile)
    first = live(client, "people", services)
    source.write_text("Email,First name,Country\njane.doe@example.com,Janet,FR\n"
                      "max@example.org,Max,DE\n")
    second = live(client, "people", services)

    outputs = [run_cli(*args, registry=registry) for args in (
        ("runs", "records", first.id), ("runs", "records", second.id, "-o", "json"),
        ("records", "get", "people", "jane.doe@example.com"), ("runs", "diff", first.id,
                                                                second.id))]
    for shown in outputs:
        assert shown.returncode == 0, shown.stderr
        for secret in ("jane.doe@example.com", "max@example.org", "Jane", "Janet"):
            assert secret not in shown.stdout, shown.stdout
    created = outputs[0].stdout.splitlines()
    assert created[0].startswith("created      j***@e***.com~"), created
    lines = outputs[2].stdout.splitlines()
    update, create = lines[lines.index("runs that touched it (newest first):") + 1:]
    assert update.split()[:2] == [second.id, "updated"] and "first_name: J***~" in update
    assert create.split() == [first.id, "created"]
    assert "country:" in outputs[2].stdout and "FR" in outputs[2].stdout
