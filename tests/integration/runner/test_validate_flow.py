"""``ferry profiles validate`` executed by a runner, through the real registry,
scheduler, runner and RabbitMQ: the registry creates a VALIDATE_PROFILE
runner task, the scheduler publishes it, a runner checks the profile with its
own volumes and connectors and answers. With no runner up the CLI says so
within its timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2
from ferry_cli.app import cli

from tests.integration.runner import stack
from tests.integration.runner.test_shape_drift_flow import SWAPPED, write_products
from tests.support.paced_source import PacedSource
from tests.support.processes import ServiceProcess, registry_process

pytestmark = [pytest.mark.rabbitmq]


@pytest.fixture
def volumes(tmp_path: Path) -> tuple[Path, Path]:
    """(the runner's data folder, a folder only the registry may read)."""
    runner_data, registry_only = tmp_path / "runner-data", tmp_path / "registry-only"
    (runner_data / "failed").mkdir(parents=True)
    registry_only.mkdir()
    return runner_data, registry_only


@pytest.fixture
def registry(tmp_path: Path, volumes: tuple[Path, Path]) -> Iterator[ServiceProcess]:
    """A registry that cannot see the runner's volume (as in deploy/); of the
    runner's paths, it lets operators name only those in the failed folder."""
    roots = f"{volumes[1]}:{volumes[0] / 'failed'}"
    proc = registry_process(tmp_path, FERRY_FILE_ROOTS=roots).start()
    try:
        yield proc
    finally:
        proc.stop()


def start(*procs: ServiceProcess) -> list[ServiceProcess]:
    for proc in procs:
        proc.start()
    return list(procs)


def validate(registry: ServiceProcess, name: str, *options: str):
    return CliRunner().invoke(cli, ["--registry", registry.address, "profiles", "validate",
                                    name, *options])


def line(output: str, check: str) -> str:
    [found] = [x for x in output.splitlines() if x[2:].split("  ")[0].strip() == check]
    return found


@pytest.fixture
def runner_stack(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues,
                 volumes: tuple[Path, Path]) -> Iterator[list[ServiceProcess]]:
    """A scheduler and a runner whose files are the runner's data folder."""
    procs = start(stack.scheduler_process(tmp_path, registry.address, queues),
                  stack.runner_process(tmp_path, registry.address, queues,
                                       FERRY_FILE_ROOTS=str(volumes[0])))
    try:
        yield procs
    finally:
        for proc in procs:
            proc.stop()


def good_run(client: RegistryClient, procs: list[ServiceProcess], name: str = "stock") -> None:
    run = stack.wait_terminal(client, stack.start_run(client, name).id, 60,
                              stack.assert_alive(*procs))
    assert stack.status_name(run) == "RUN_STATUS_COMPLETED", run


def test_the_runner_checks_a_file_only_its_volume_has_and_shows_drift(
        registry: ServiceProcess, client: RegistryClient, volumes: tuple[Path, Path],
        runner_stack: list[ServiceProcess]) -> None:
    runner_data, _ = volumes
    source = write_products(runner_data / "products.csv", stack.PRODUCT_COLUMNS, 1, 10)
    stack.apply_profile(client, stack.products_profile("stock", source))
    result = validate(registry, "stock")
    assert result.exit_code == 0, result.output
    assert line(result.output, "definition").startswith("✓")
    assert line(result.output, "source").startswith(f"✓ source       file {source} is "
                                                    "readable")
    assert line(result.output, "shape drift").endswith(
        "not compared: the profile has no good live run yet")
    assert "profile stock: all checks passed" in result.output

    good_run(client, runner_stack)
    write_products(source, SWAPPED, 1, 10)
    result = validate(registry, "stock")
    assert result.exit_code == 0, result.output
    drift = line(result.output, "shape drift")
    assert drift.startswith("! shape drift") and "swapped 'price'" in drift, drift
    assert "'quantity' (column 4 -> 3)" in drift and "the next run warns" in drift


def test_validate_source_checks_a_failed_file_instead_of_the_drop_folder(
        registry: ServiceProcess, client: RegistryClient, volumes: tuple[Path, Path],
        runner_stack: list[ServiceProcess]) -> None:
    """The failure-handling sequence: the failed file went to failed_dir, the
    folder holds a good one again; --source checks the failed file's shape."""
    runner_data, _ = volumes
    source = write_products(runner_data / "products.csv", stack.PRODUCT_COLUMNS, 1, 10)
    stack.apply_profile(client, stack.products_profile("stock", source))
    good_run(client, runner_stack)
    failed = write_products(runner_data / "failed" / "products.csv", SWAPPED, 1, 10)

    result = validate(registry, "stock")
    assert result.exit_code == 0, result.output
    assert "swapped" not in line(result.output, "shape drift")

    result = validate(registry, "stock", "--source", str(failed))
    assert result.exit_code == 0, result.output
    assert line(result.output, "source").startswith(f"✓ source       file {failed}")
    drift = line(result.output, "shape drift")
    assert "swapped 'price'" in drift and "'quantity' (column 4 -> 3)" in drift, drift

    outside = validate(registry, "stock", "--source", str(source))
    assert outside.exit_code == 1, outside.output
    assert "invalid source override" in outside.output
    assert f"source_override: file path {source}" in outside.output


def test_connector_check_is_called_and_a_connector_without_one_is_not_probed(
        tmp_path: Path, registry: ServiceProcess, client: RegistryClient,
        queues: stack.Queues, volumes: tuple[Path, Path]) -> None:
    runner_data, _ = volumes
    procs = start(stack.scheduler_process(tmp_path, registry.address, queues),
                  stack.runner_process(tmp_path, registry.address, queues))
    try:
        source = write_products(runner_data / "products.csv", stack.PRODUCT_COLUMNS, 1, 5)
        paced = PacedSource(tmp_path, rate=0)
        stack.apply_profile(client, paced.profile(stack.products_profile("paced", source)))
        result = validate(registry, "paced")
        assert result.exit_code == 0, result.output
        assert line(result.output, "source") == (
            f"✓ source       connector 'paced-csv': paced CSV {source} is readable "
            "(4 columns, open)")

        plain = stack.products_profile("plain", source)
        plain.source.kind = profile_pb2.SOURCE_KIND_CONNECTOR
        plain.source.connector = "plain-csv"
        stack.apply_profile(client, plain)
        result = validate(registry, "plain")
        assert result.exit_code == 0, result.output
        assert line(result.output, "source") == (
            "! source       not probed (connector 'plain-csv' has no check())")
    finally:
        for proc in procs:
            proc.stop()


def test_with_no_runner_up_the_cli_says_so_within_its_timeout(
        tmp_path: Path, registry: ServiceProcess, client: RegistryClient,
        queues: stack.Queues, volumes: tuple[Path, Path]) -> None:
    procs = start(stack.scheduler_process(tmp_path, registry.address, queues))
    try:
        source = write_products(volumes[0] / "products.csv", stack.PRODUCT_COLUMNS, 1, 5)
        stack.apply_profile(client, stack.products_profile("stock", source))
        began = time.monotonic()
        result = validate(registry, "stock", "--timeout", "2s")
        assert time.monotonic() - began < 15
        assert result.exit_code == 3, result.output
        assert line(result.output, "definition").startswith("✓")
        assert ("profile stock: no runner took the task within 2s: no runner is up"
                in result.output), result.output
    finally:
        for proc in procs:
            proc.stop()
