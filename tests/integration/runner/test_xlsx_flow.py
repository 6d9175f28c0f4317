"""XLSX imports through a real registry, scheduler, runner and RabbitMQ: a
workbook read with python-calamine lands with its values typed, and a sheet
above the runner's FERRY_MAX_SHEET_CELLS fails PERMANENT before it is loaded,
naming the variable; the runner keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2
from openpyxl import Workbook

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

MAX_CELLS = 4000  # 4 columns: 999 data rows fit, 1000 do not


@pytest.fixture
def services(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues
             ) -> Iterator[list[ServiceProcess]]:
    procs = [stack.scheduler_process(tmp_path, registry.address, queues),
             stack.runner_process(tmp_path, registry.address, queues,
                                  FERRY_MAX_SHEET_CELLS=str(MAX_CELLS))]
    try:
        for proc in procs:
            proc.start()
        yield procs
    finally:
        for proc in procs:
            proc.stop()


def _workbook(path: Path, rows: int) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Products")
    sheet.append(stack.PRODUCT_COLUMNS)
    for i in range(1, rows + 1):
        sheet.append([f"SKU-{i:07d}", f"Product {i}", i + 0.25, i % 50])
    book.save(path)
    return path


def _profile(name: str, path: Path) -> profile_pb2.Profile:
    profile = stack.products_profile(name, path, max_attempts=1)
    profile.source.format.CopyFrom(
        profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_XLSX, sheet="Products"))
    return profile


def test_xlsx_import_and_the_cell_limit(tmp_path: Path, client: RegistryClient,
                                        services: list[ServiceProcess]) -> None:
    alive = stack.assert_alive(*services)
    target = f"sqlite:///{tmp_path / 'target.db'}"

    stack.apply_profile(client, _profile("sheet-fits", _workbook(tmp_path / "fits.xlsx", 999)))
    done = stack.wait_terminal(client, stack.start_run(client, "sheet-fits").id, 60, alive)
    assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
    assert (done.counts.rows_read, done.counts.created) == (999, 999)
    row = stack.target_row(target, "SKU-0000042")
    assert (row["name"], float(row["price"]), row["quantity"]) == ("Product 42", 42.25, 42)

    stack.apply_profile(client, _profile("sheet-too-big",
                                         _workbook(tmp_path / "big.xlsx", 1000)))
    failed = stack.wait_terminal(client, stack.start_run(client, "sheet-too-big").id, 60, alive)
    assert stack.status_name(failed) == "RUN_STATUS_FAILED", failed
    assert failed.error_class == run_pb2.ERROR_CLASS_PERMANENT, failed
    assert "sheet 'Products' reaches 1001 rows x 4 columns = 4004 cells" in failed.error_message
    assert f"above the limit of {MAX_CELLS} (FERRY_MAX_SHEET_CELLS)" in failed.error_message
    assert failed.counts.rows_read == 0
    assert stack.target_rows(target) == 999
