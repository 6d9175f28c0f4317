"""The seed workflows where runs meet their evidence, through a real registry,
scheduler, runner and RabbitMQ, and the ``ferry`` CLI as a user runs it.

- (c) rows left out on purpose by ``mapping.filters`` are counted as
  ``filtered``: the run ends COMPLETED and ``runs start --wait`` exits 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry_domain.profiles.yaml_codec import load_profiles

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SUPPLIER_HEADER = "SKU;Name;Brand;Price;Stock;EAN;Categories;Status\n"


@pytest.fixture
def services(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues
             ) -> Iterator[dict[str, ServiceProcess]]:
    procs = {
        "scheduler": stack.scheduler_process(tmp_path, registry.address, queues),
        "runner": stack.runner_process(
            tmp_path, registry.address, queues, FERRY_RUN_LEASE="3s",
            FERRY_EXAMPLE_TARGET_DSN=f"sqlite:///{tmp_path / 'target.db'}"),
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.fixture
def cli(run_cli, registry: ServiceProcess) -> Callable[..., object]:
    def run(*args: str, timeout: float = 90.0):
        return run_cli(*args, registry=registry, timeout=timeout)
    return run


def supplier_profile(location: Path):
    """examples/supplier-products.yaml, reading ``location``."""
    text = (EXAMPLES / "supplier-products.yaml").read_text(encoding="utf-8")
    (profile,) = load_profiles(text, "supplier-products.yaml")
    profile.source.location = str(location)
    return profile


def test_rows_filtered_on_purpose_leave_the_run_completed(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess],
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
