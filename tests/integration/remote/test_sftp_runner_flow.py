"""SFTP imports through the real services (registry, scheduler, runner,
RabbitMQ) against sshd on loopback: a run imports the remote CSV and records
it as its input, an unchanged remote file ends the next run UNCHANGED
through the freshness gate, retention moves the file into a dated backup
folder on the server, and an unknown host key fails the run, permanent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2

from tests.integration.remote.servers import SshServer
from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

PRODUCTS = b"sku,name,price,quantity\nSKU-1,One,1.00,1\nSKU-2,Two,2.00,2\nSKU-3,Three,3.00,3\n"


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    server = SshServer()
    try:
        yield server
    finally:
        server.close()


def sftp_profile(name: str, sshd: SshServer, path: str, **source: object
                 ) -> profile_pb2.Profile:
    profile = stack.products_profile(name, Path("unused.csv"), location=sshd.url(path))
    profile.source.kind = profile_pb2.SOURCE_KIND_SFTP
    # The key file itself is the secret reference: the runner reads it, no copy.
    profile.source.credentials_ref = f"file:{sshd.user_key}"
    for key, value in source.items():
        setattr(profile.source, key, value)
    return profile


def run_once(client: RegistryClient, profile: profile_pb2.Profile,
             alive: Callable[[], None]) -> run_pb2.Run:
    stack.apply_profile(client, profile)
    return again(client, profile, alive)


def again(client: RegistryClient, profile: profile_pb2.Profile,
          alive: Callable[[], None]) -> run_pb2.Run:
    """A run as a schedule makes it: not forced, so the freshness gate decides."""
    run = stack.start_run(client, profile.name, force=False)
    return stack.wait_terminal(client, run.id, 60, alive)


def test_import_then_unchanged_through_the_freshness_gate(
        sshd: SshServer, client: RegistryClient, services: list[ServiceProcess]) -> None:
    alive = stack.assert_alive(*services)
    sshd.put("flow/products.csv", PRODUCTS, mtime=1_764_000_000)
    profile = sftp_profile("sftp-fresh", sshd, "/flow/products.csv", host_key=sshd.fingerprint)
    profile.freshness.extend([profile_pb2.FRESHNESS_METHOD_MTIME_SIZE,
                              profile_pb2.FRESHNESS_METHOD_CHECKSUM])
    first = run_once(client, profile, alive)
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first
    assert first.counts.created == 3
    [read] = first.inputs
    assert read.path == sshd.url("/flow/products.csv")
    assert read.size_bytes == len(PRODUCTS) and read.checksum.startswith("xxh3_128:")

    second = again(client, profile, alive)
    assert stack.status_name(second) == "RUN_STATUS_UNCHANGED", second
    assert second.freshness.verdict == run_pb2.FRESHNESS_VERDICT_UNCHANGED

    sshd.put("flow/products.csv", PRODUCTS + b"SKU-4,Four,4.00,4\n", mtime=1_764_000_600)
    third = again(client, profile, alive)
    assert stack.status_name(third) == "RUN_STATUS_COMPLETED", third
    assert (third.counts.created, third.counts.unchanged) == (1, 3)


def test_retention_moves_the_imported_file_to_a_dated_backup_folder_on_the_server(
        sshd: SshServer, client: RegistryClient, services: list[ServiceProcess]) -> None:
    sshd.put("drops/stock-1.csv", PRODUCTS)
    profile = sftp_profile("sftp-backup", sshd, "/drops/stock-*.csv", host_key=sshd.fingerprint)
    profile.retention.on_success = profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP
    profile.retention.backup_dir = "done"
    profile.retention.sample_rows = 2
    run = run_once(client, profile, stack.assert_alive(*services))
    assert stack.status_name(run) == "RUN_STATUS_COMPLETED", run
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    # The sample is read from the file the run read, before retention moved it.
    assert run.sample_location, (run.warnings, run.retention_actions)
    sample = Path(run.sample_location).read_text().splitlines()
    assert sample[0].split(",") == ["sku", "name", "price", "quantity"] and len(sample) == 3
    [action] = [a for a in run.retention_actions
                if a.kind != run_pb2.RETENTION_ACTION_KIND_SAMPLE_SAVED]
    assert action.kind == run_pb2.RETENTION_ACTION_KIND_MOVED_TO_BACKUP
    assert action.path == sshd.url(f"/drops/done/{day}/stock-1.csv")
    assert (sshd.root / "drops" / "done" / day / "stock-1.csv").read_bytes() == PRODUCTS
    assert not (sshd.root / "drops" / "stock-1.csv").exists()


def test_an_unknown_host_key_fails_the_run_permanently(
        sshd: SshServer, client: RegistryClient, services: list[ServiceProcess],
        tmp_path: Path) -> None:
    sshd.put("flow/products.csv", PRODUCTS)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    profile = sftp_profile("sftp-unknown", sshd, "/flow/products.csv", known_hosts=str(empty))
    run = run_once(client, profile, stack.assert_alive(*services))
    assert stack.status_name(run) == "RUN_STATUS_FAILED", run
    assert run.error_class == run_pb2.ERROR_CLASS_PERMANENT
    assert "unknown host key SHA256:" in run.error_message
    assert empty.read_text() == ""


def test_a_failed_file_moves_to_the_failed_folder_and_a_retry_reads_it_there(
        sshd: SshServer, client: RegistryClient, services: list[ServiceProcess]) -> None:
    from ferry.v1 import run_service_pb2

    alive = stack.assert_alive(*services)
    bad = PRODUCTS + b"SKU-9,Nine,not-a-price,1\n"
    sshd.put("failing/stock.csv", bad)
    profile = sftp_profile("sftp-failing", sshd, "/failing/*.csv", host_key=sshd.fingerprint)
    profile.error_threshold.max_errors = 0
    profile.retention.failed_dir = "failed"
    failed = run_once(client, profile, alive)
    assert stack.status_name(failed) == "RUN_STATUS_FAILED", failed
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    [action] = failed.retention_actions
    assert action.kind == run_pb2.RETENTION_ACTION_KIND_MOVED_TO_FAILED
    assert action.path == sshd.url(f"/failing/failed/{day}/stock.csv")
    assert not (sshd.root / "failing" / "stock.csv").exists()

    # The supplier's fix is the threshold here: the retry reads the same file.
    profile.error_threshold.max_errors = 5
    stack.apply_profile(client, profile)
    retry = client.runs.RetryRun(run_service_pb2.RetryRunRequest(
        id=failed.id, request_id=f"retry-{failed.id}")).run
    done = stack.wait_terminal(client, retry.id, 60, alive)
    assert stack.status_name(done) == "RUN_STATUS_WARNING", done
    assert [i.path for i in done.inputs] == [action.path]
    assert done.counts.created == 3


def test_an_empty_folder_is_no_new_input_and_a_file_still_uploading_waits(
        sshd: SshServer, client: RegistryClient, services: list[ServiceProcess]) -> None:
    import time

    from google.protobuf import duration_pb2

    alive = stack.assert_alive(*services)
    sshd.put("inbox/.keep", b"")
    profile = sftp_profile("sftp-inbox", sshd, "/inbox/*.csv", host_key=sshd.fingerprint)
    profile.source.stable_for.CopyFrom(duration_pb2.Duration(seconds=600))
    empty = run_once(client, profile, alive)
    assert stack.status_name(empty) == "RUN_STATUS_UNCHANGED", empty
    assert empty.freshness.reason_detail == "no new input"

    sshd.put("inbox/stock.csv", PRODUCTS, mtime=int(time.time()))  # just written
    waiting = again(client, profile, alive)
    assert stack.status_name(waiting) == "RUN_STATUS_UNCHANGED", waiting
    assert waiting.freshness.reason_detail == "no new input; 1 waiting for stable_for"

    sshd.put("inbox/stock.csv", PRODUCTS, mtime=int(time.time()) - 3600)  # still for an hour
    done = again(client, profile, alive)
    assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
    assert done.counts.created == 3


def test_a_source_override_reads_another_file_on_the_same_server(
        sshd: SshServer, client: RegistryClient, services: list[ServiceProcess]) -> None:
    import uuid

    from ferry.v1 import run_service_pb2

    sshd.put("override/stock-1.csv", PRODUCTS, mtime=1_764_000_000)
    sshd.put("override/stock-2.csv", b"sku,name,price,quantity\nSKU-7,Seven,7.00,7\n",
             mtime=1_764_000_100)
    profile = sftp_profile("sftp-override", sshd, "/override/*.csv", host_key=sshd.fingerprint)
    stack.apply_profile(client, profile)
    # The URL's host is not used: the file is read on the profile's server.
    other_host = f"sftp://nobody@elsewhere.invalid{sshd.root}/override/stock-1.csv"
    started = client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile.name, source_override=other_host, request_id=uuid.uuid4().hex)).run
    run = stack.wait_terminal(client, started.id, 60, stack.assert_alive(*services))
    assert stack.status_name(run) == "RUN_STATUS_COMPLETED", run
    assert run.counts.created == 3
    assert [i.path for i in run.inputs] == [sshd.url("/override/stock-1.csv")]
