"""Shape drift against the last good run, through the real registry,
scheduler, runner and RabbitMQ: the runner reports each good run's source
fingerprint with its finish, gets the last one back with its next claim and
compares. Two swapped columns are a warning naming both; with
``on_shape_change: fail`` the run ends FAILED before writing any row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]


def write_products(path: Path, columns: list[str], first: int, count: int) -> Path:
    """Products ``first`` .. ``first + count - 1`` with ``columns`` in that order."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for i in range(first, first + count):
            row = {"sku": f"SKU-{i:07d}", "name": f"Product {i}", "price": f"{i}.50",
                   "quantity": str(i % 7)}
            writer.writerow([row[c] for c in columns])
    return path


def run_once(client: RegistryClient, name: str, services: list[ServiceProcess]) -> run_pb2.Run:
    run = stack.start_run(client, name)
    return stack.wait_terminal(client, run.id, 60, stack.assert_alive(*services))


SWAPPED = ["sku", "name", "quantity", "price"]


def test_two_swapped_columns_warn_naming_both(tmp_path: Path, client: RegistryClient,
                                              services: list[ServiceProcess]) -> None:
    source = write_products(tmp_path / "products.csv", stack.PRODUCT_COLUMNS, 1, 20)
    stack.apply_profile(client, stack.products_profile("drift", source))
    first = run_once(client, "drift", services)
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first
    assert [(c.name, c.type) for c in first.source_shape.columns] == [
        ("sku", "text"), ("name", "text"), ("price", "decimal"), ("quantity", "int")]

    write_products(source, SWAPPED, 1, 20)
    second = run_once(client, "drift", services)
    assert stack.status_name(second) == "RUN_STATUS_WARNING", second
    [drift] = [w for w in second.warnings if "shape changed" in w]
    assert f"since the last good run (run {first.id})" in drift
    assert "'price' (column 3 -> 4)" in drift and "'quantity' (column 4 -> 3)" in drift

    # The warning run is the new last good run: the same shape again is quiet.
    third = run_once(client, "drift", services)
    assert stack.status_name(third) == "RUN_STATUS_COMPLETED", third.warnings


def test_on_shape_change_fail_ends_the_run_before_any_row_is_written(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    source = write_products(tmp_path / "products.csv", stack.PRODUCT_COLUMNS, 1, 10)
    profile = stack.products_profile("strict", source)
    profile.on_shape_change = profile_pb2.SHAPE_CHANGE_POLICY_FAIL
    stack.apply_profile(client, profile)
    assert stack.status_name(run_once(client, "strict", services)) == "RUN_STATUS_COMPLETED"

    write_products(source, SWAPPED, 11, 10)  # ten new products, columns swapped
    failed = run_once(client, "strict", services)
    assert stack.status_name(failed) == "RUN_STATUS_FAILED", failed
    assert failed.error_class == run_pb2.ERROR_CLASS_SOURCE_SHAPE
    assert "swapped 'price'" in failed.error_message
    assert "on_shape_change: fail" in failed.error_message
    assert failed.counts.rows_read == 0 and failed.counts.created == 0
    assert stack.target_rows(f"sqlite:///{tmp_path / 'target.db'}") == 10
