"""What a run read and wrote, through the real services (registry, scheduler,
runner, RabbitMQ, the ``ferry`` CLI; issue 13, build item 1): a file import
records its file's size, mtime and checksum, a drop folder ``each`` run its
one file, an HTTP import the final URL with its ETag and bytes read, an export
its output file and row count; ``ferry runs get`` shows them as "read:" and
"wrote:" lines and in its JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.freshness.files import checksum_token

from tests.integration.freshness.conftest import FeedServer, FeedState
from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

PRODUCTS = b"sku,name,price,quantity\nSKU-1,One,1.00,1\nSKU-2,Two,2.00,2\nSKU-3,Three,3.00,3\n"


def live(client: RegistryClient, profile: profile_pb2.Profile,
         alive: Callable[[], None]) -> run_pb2.Run:
    stack.apply_profile(client, profile)
    run = stack.wait_terminal(client, stack.start_run(client, profile.name).id, 60, alive)
    assert stack.status_name(run) == "RUN_STATUS_COMPLETED", run
    return run


def test_a_file_import_records_its_file_and_runs_get_shows_it(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    source = stack.write_products_csv(tmp_path / "products.csv", 7)
    mtime = 1_764_000_000
    os.utime(source, (mtime, mtime))
    run = live(client, stack.products_profile("files", source), stack.assert_alive(*services))

    [read] = run.inputs
    assert read.path == str(source)
    assert read.size_bytes == source.stat().st_size
    assert read.modify_time.seconds == mtime
    assert read.checksum == checksum_token([source])
    assert not run.outputs

    shown = run_cli("runs", "get", run.id, "--no-events", registry=registry)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    at = lines.index("read:")
    assert str(source) in lines[at + 1]
    assert f"{read.size_bytes} bytes" in lines[at + 1]
    assert read.checksum[:25] in lines[at + 1]
    assert "wrote:" not in lines
    as_json = run_cli("runs", "get", run.id, "-o", "json", registry=registry)
    [entry] = json.loads(as_json.stdout)["inputs"]
    assert entry["path"] == str(source) and entry["checksum"] == read.checksum
    assert int(entry["sizeBytes"]) == read.size_bytes


def test_a_drop_folder_each_run_records_its_one_file(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for age, name in enumerate(("mon.csv", "tue.csv")):  # mon.csv is the older one
        (folder / name).write_bytes(PRODUCTS.replace(b"SKU-", f"{name[:3]}-".encode()))
        os.utime(folder / name, (1_764_000_000 + age, 1_764_000_000 + age))
    profile = stack.products_profile("feed", folder / "unused.csv",
                                     location=str(folder / "*.csv"))
    profile.source.selection = profile_pb2.FILE_SELECTION_EACH
    run = live(client, profile, stack.assert_alive(*services))

    [read] = run.inputs
    assert read.path == str(folder / "mon.csv")
    assert read.size_bytes == len(PRODUCTS)
    assert read.checksum == checksum_token([folder / "mon.csv"])


def test_an_http_import_records_the_final_url_etag_and_bytes(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    with FeedServer(FeedState(body=PRODUCTS)) as server:
        profile = stack.products_profile("web", tmp_path / "unused.csv",
                                         location=server.url.replace("/feed.csv", "/moved.csv"))
        profile.source.kind = profile_pb2.SOURCE_KIND_HTTP
        run = live(client, profile, stack.assert_alive(*services))

        [read] = run.inputs
        assert read.path == server.url
        assert read.etag == server.state.etag
        assert read.last_modified == server.state.last_modified
        assert read.size_bytes == len(PRODUCTS)
        assert not read.HasField("modify_time") and not read.checksum


def test_an_export_records_its_output_file_and_row_count(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    alive = stack.assert_alive(*services)
    source = stack.write_products_csv(tmp_path / "products.csv", 5)
    live(client, stack.products_profile("load", source), alive)
    export = profile_pb2.Profile(
        name="unload", entity_type="products", operation=profile_pb2.OPERATION_EXPORT,
        export=profile_pb2.ExportSpec(directory=str(tmp_path / "out"),
                                      format=profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_CSV)),
        overlap_policy=profile_pb2.OVERLAP_POLICY_QUEUE)
    run = live(client, export, alive)

    [wrote] = run.outputs
    assert Path(wrote.path).parent == tmp_path / "out" and Path(wrote.path).is_file()
    assert wrote.row_count == 5
    assert not run.inputs
    shown = run_cli("runs", "get", run.id, "--no-events", registry=registry)
    lines = shown.stdout.splitlines()
    assert lines[lines.index("wrote:") + 1].strip() == f"{wrote.path}  5 rows"
