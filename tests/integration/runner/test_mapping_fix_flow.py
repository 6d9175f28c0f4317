"""A mapping fix reaches the store (issue 12, defect a), through the registry,
scheduler, runner and RabbitMQ and the ``ferry`` CLI: the freshness token is
bound to the profile digest, so the first live run after ``profiles apply`` of
a changed mapping imports an unchanged source and says why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.profiles.yaml_codec import dump_profile

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]


def test_mapping_fix_is_imported_once_with_its_reason(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    csv_path = stack.write_products_csv(tmp_path / "products.csv", 25)
    profile = stack.products_profile("stock", csv_path)
    profile.freshness.append(profile_pb2.FRESHNESS_METHOD_CHECKSUM)
    stack.apply_profile(client, profile)
    alive = stack.assert_alive(*services)
    target = f"sqlite:///{tmp_path / 'target.db'}"

    def live(*, dry_run: bool = False) -> run_pb2.Run:
        run = stack.start_run(client, "stock", force=False, dry_run=dry_run)
        return stack.wait_terminal(client, run.id, 60, alive)

    first = live()
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first
    assert first.counts.created == 25
    assert stack.status_name(live()) == "RUN_STATUS_UNCHANGED"

    profile.mapping.fields[1].transforms.add(name="upper")  # the name gets upper case
    fixed = tmp_path / "stock.yaml"
    fixed.write_text(dump_profile(profile))
    applied = run_cli("profiles", "apply", "-f", str(fixed), registry=registry)
    assert applied.returncode == 0, applied.stderr

    dry = live(dry_run=True)
    assert stack.status_name(dry) == "RUN_STATUS_COMPLETED", dry
    assert dry.counts.updated == 25
    assert stack.target_row(target, "SKU-0000001")["name"] == "Product 1"

    fix = live()
    assert stack.status_name(fix) == "RUN_STATUS_COMPLETED", fix
    assert fix.counts.updated == 25
    assert fix.freshness.reason == run_pb2.FRESHNESS_REASON_PROFILE_CHANGED
    assert stack.target_row(target, "SKU-0000001")["name"] == "PRODUCT 1"
    shown = run_cli("runs", "get", fix.id, "--no-events", registry=registry)
    assert "mapping changed since the last import" in shown.stdout, shown.stdout

    again = live()
    assert stack.status_name(again) == "RUN_STATUS_UNCHANGED", again
    assert again.freshness.reason == run_pb2.FRESHNESS_REASON_SOURCE_UNCHANGED
