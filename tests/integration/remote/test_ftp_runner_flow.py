"""An FTPS import through the real services (registry, scheduler, runner,
RabbitMQ) against pyftpdlib on loopback: imported with its counts, then
UNCHANGED through the freshness gate, then deleted from the server by
retention once a changed file imported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2

from tests.integration.remote.servers import FtpServer
from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

PASSWORD = "ftps-flow-pa55"
PRODUCTS = b"sku,name,price,quantity\nSKU-1,One,1.00,1\nSKU-2,Two,2.00,2\n"


@pytest.fixture
def ftpd(tmp_path: Path) -> Iterator[FtpServer]:
    server = FtpServer(tmp_path / "ftpd", "feeds", PASSWORD, tls=True)
    try:
        yield server
    finally:
        server.close()


def test_ftps_import_unchanged_then_deleted_after_success(
        ftpd: FtpServer, client: RegistryClient, services: list[ServiceProcess],
        tmp_path: Path) -> None:
    alive = stack.assert_alive(*services)
    secret = tmp_path / "ftp-password"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    ftpd.put("out/stock.csv", PRODUCTS, mtime=1_764_000_000)
    profile = stack.products_profile("ftps-stock", Path("unused.csv"),
                                     location=ftpd.url("/out/stock.csv"))
    profile.source.kind = profile_pb2.SOURCE_KIND_FTP
    profile.source.tls = True
    profile.source.credentials_ref = f"file:{secret}"
    profile.freshness.append(profile_pb2.FRESHNESS_METHOD_MTIME_SIZE)
    stack.apply_profile(client, profile)

    def run() -> run_pb2.Run:
        started = stack.start_run(client, profile.name, force=False)
        return stack.wait_terminal(client, started.id, 60, alive)

    first = run()
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first
    assert first.counts.created == 2
    assert [i.path for i in first.inputs] == [ftpd.url("/out/stock.csv")]
    assert stack.status_name(run()) == "RUN_STATUS_UNCHANGED"

    profile.retention.on_success = profile_pb2.SUCCESS_ACTION_DELETE
    stack.apply_profile(client, profile)
    ftpd.put("out/stock.csv", PRODUCTS + b"SKU-3,Three,3.00,3\n", mtime=1_764_000_900)
    third = run()
    assert stack.status_name(third) == "RUN_STATUS_COMPLETED", third
    assert (third.counts.created, third.counts.unchanged) == (1, 2)
    assert [a.kind for a in third.retention_actions] == [run_pb2.RETENTION_ACTION_KIND_DELETED]
    assert not (ftpd.root / "out" / "stock.csv").exists()
