"""FTP and FTPS sources against pyftpdlib on loopback: a CSV imports with its
counts, a glob picks the newest file, an unchanged file is UNCHANGED through
freshness, a wrong password is a credentials error, and retention moves the
file on the server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.engine import CredentialsError, PermanentSourceError, run_profile
from ferry_domain.freshness import Verdict, probe
from ferry_domain.remote_retention import apply_remote

from tests.integration.remote.servers import FtpServer

PASSWORD = "ftp-pa55word"
CSV = b"sku,name\nA,Shirt\nB,Hat\nC,Scarf\n"


@pytest.fixture(scope="module", params=[False, True], ids=["ftp", "ftps"])
def ftpd(request, tmp_path_factory) -> Iterator[FtpServer]:
    server = FtpServer(tmp_path_factory.mktemp("ftpd"), "feeds", PASSWORD, tls=request.param)
    server.tls = request.param
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def password(monkeypatch) -> None:
    monkeypatch.setenv("FERRY_TEST_FTP_PASSWORD", PASSWORD)


@pytest.fixture
def target(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 't.db'}"


def ftp_profile(server: FtpServer, path: str, **source) -> pb.Profile:
    return pb.Profile(
        name="ftp-products", entity_type="products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FTP, location=server.url(path), tls=server.tls,
                         credentials_ref="env:FERRY_TEST_FTP_PASSWORD", **source),
        mapping=pb.Mapping(key_fields=["sku"], fields=[
            pb.FieldMapping(target="sku", source="sku"),
            pb.FieldMapping(target="name", source="name")]))


def test_csv_imports_over_ftp(ftpd, target):
    ftpd.put("in/products.csv", CSV)
    result = run_profile(ftp_profile(ftpd, "/in/products.csv"), dry_run=False,
                         default_target_url=target)
    assert result.counts.created == 3
    assert result.source_paths == [ftpd.url("/in/products.csv")]


def test_newest_match_of_a_glob_is_read(ftpd, target):
    ftpd.put("feed/stock-1.csv", b"sku,name\nOLD,Old\n", mtime=1_700_000_000)
    ftpd.put("feed/stock-2.csv", b"sku,name\nN1,New\nN2,Newer\n", mtime=1_700_000_100)
    ftpd.put("feed/readme.txt", b"no", mtime=1_700_000_200)
    result = run_profile(ftp_profile(ftpd, "/feed/stock-*.csv",
                                     selection=pb.FILE_SELECTION_NEWEST),
                         dry_run=False, default_target_url=target)
    assert result.counts.created == 2
    assert result.source_paths == [ftpd.url("/feed/stock-2.csv")]


def test_unchanged_remote_file_is_unchanged_through_freshness(ftpd):
    ftpd.put("fresh/products.csv", CSV, mtime=1_700_000_000)
    profile = ftp_profile(ftpd, "/fresh/products.csv")
    profile.freshness.extend([pb.FRESHNESS_METHOD_MTIME_SIZE, pb.FRESHNESS_METHOD_CHECKSUM])
    first = probe(profile, previous_token="")
    assert probe(profile, previous_token=first.current_token).verdict is Verdict.UNCHANGED
    ftpd.put("fresh/products.csv", CSV + b"D,Gloves\n", mtime=1_700_000_900)
    assert probe(profile, previous_token=first.current_token).verdict is Verdict.CHANGED


def test_wrong_password_is_a_credentials_error(ftpd, target, monkeypatch):
    monkeypatch.setenv("FERRY_TEST_FTP_PASSWORD", "wrong")
    with pytest.raises(CredentialsError, match="refused the login") as info:
        run_profile(ftp_profile(ftpd, "/in/products.csv"), dry_run=False,
                    default_target_url=target)
    assert "wrong" not in str(info.value)


def test_missing_file_is_permanent(ftpd, target):
    with pytest.raises(PermanentSourceError, match="does not exist"):
        run_profile(ftp_profile(ftpd, "/in/nothing.csv"), dry_run=False,
                    default_target_url=target)


def test_retention_moves_the_file_to_a_dated_backup_folder_on_the_server(ftpd, target):
    ftpd.put("ret/products.csv", CSV)
    profile = ftp_profile(ftpd, "/ret/*.csv")
    result = run_profile(profile, dry_run=False, default_target_url=target)
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP, backup_dir="done")
    now = datetime(2026, 3, 14, tzinfo=UTC)
    actions = apply_remote(profile.source, result.source_paths, policy, now, failed=False)
    assert [a.path for a in actions] == [ftpd.url("/ret/done/2026/03/14/products.csv")]
    assert (ftpd.root / "ret/done/2026/03/14/products.csv").read_bytes() == CSV
    assert not (ftpd.root / "ret/products.csv").exists()


def test_file_above_the_size_limit_is_refused(ftpd, target):
    from ferry_domain.engine.limits import SourceLimits

    ftpd.put("big/products.csv", CSV * 1000)
    with pytest.raises(PermanentSourceError, match="FERRY_MAX_SOURCE_BYTES"):
        run_profile(ftp_profile(ftpd, "/big/products.csv"), dry_run=False,
                    default_target_url=target, limits=SourceLimits(max_source_bytes=100))


def test_closed_port_is_transient(target):
    from ferry_domain.engine import TransientSourceError

    from tests.integration.remote.servers import free_port

    profile = pb.Profile(
        name="ftp-down", entity_type="products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FTP,
                         location=f"ftp://feeds@127.0.0.1:{free_port()}/in.csv",
                         credentials_ref="env:FERRY_TEST_FTP_PASSWORD"),
        mapping=pb.Mapping(fields=[pb.FieldMapping(target="sku", source="sku"),
                                   pb.FieldMapping(target="name", source="name")]))
    with pytest.raises(TransientSourceError, match="cannot connect"):
        run_profile(profile, dry_run=False, default_target_url=target)


def test_a_file_that_grows_past_the_limit_while_downloading_is_refused(ftpd):
    from ferry_domain.engine.limits import SourceLimits, using
    from ferry_domain.engine.sources.remote.client import connect
    from ferry_domain.engine.sources.remote.reading import download
    from ferry_domain.engine.sources.remote.remote_file import RemoteFile

    ftpd.put("grow/products.csv", CSV * 100_000)
    profile = ftp_profile(ftpd, "/grow/products.csv")
    client = connect(profile.source)
    try:
        listed_small = RemoteFile("/grow/products.csv", 10, 0)  # as listed before it grew
        with using(SourceLimits(max_source_bytes=1 << 20)), \
                pytest.raises(PermanentSourceError, match="FERRY_MAX_SOURCE_BYTES"):
            download(client, listed_small)
    finally:
        client.close()  # the aborted transfer does not leave the session hanging


def test_backups_older_than_keep_backup_days_are_purged_on_the_server(ftpd):
    ftpd.put("purge/done/2026/02/01/old.csv", CSV)
    ftpd.put("purge/done/2026/03/10/recent.csv", CSV)
    policy = pb.RetentionPolicy(backup_dir="/purge/done", keep_backup_days=7)
    actions = apply_remote(ftp_profile(ftpd, "/purge/*.csv").source, [], policy,
                           datetime(2026, 3, 14, tzinfo=UTC), failed=True)
    assert [(a.kind, a.path) for a in actions] == [
        ("PURGED", ftpd.url("/purge/done/2026/02/01/old.csv"))]
    assert not (ftpd.root / "purge/done/2026/02/01").exists()
    assert (ftpd.root / "purge/done/2026/03/10/recent.csv").exists()
