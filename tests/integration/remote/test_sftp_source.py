"""SFTP sources against OpenSSH's sshd on loopback: the host key is checked
(pinned or known_hosts; unknown or different keys refused), a CSV imports
with its counts, a glob picks the newest file, and size limits hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.engine import (
    CredentialsError,
    PermanentSourceError,
    TransientSourceError,
    run_profile,
)
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.runs.states import ErrorClass

from tests.integration.remote.servers import SshServer, free_port

CSV = b"sku,name\nA,Shirt\nB,Hat\nC,Scarf\n"


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    server = SshServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def user_key(sshd, monkeypatch) -> str:
    monkeypatch.setenv("FERRY_TEST_SFTP_KEY", sshd.user_key.read_text())
    return "env:FERRY_TEST_SFTP_KEY"


@pytest.fixture
def target(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 't.db'}"


def sftp_profile(location: str, credentials_ref: str, **source) -> pb.Profile:
    return pb.Profile(
        name="sftp-products", entity_type="products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_SFTP, location=location,
                         credentials_ref=credentials_ref, **source),
        mapping=pb.Mapping(key_fields=["sku"], fields=[
            pb.FieldMapping(target="sku", source="sku"),
            pb.FieldMapping(target="name", source="name")]))


def test_csv_imports_over_sftp_with_pinned_host_key(sshd, user_key, target):
    sshd.put("in/products.csv", CSV)
    profile = sftp_profile(sshd.url("/in/products.csv"), user_key, host_key=sshd.fingerprint)
    result = run_profile(profile, dry_run=False, default_target_url=target)
    assert result.counts.created == 3
    assert result.source_paths == [sshd.url("/in/products.csv")]
    again = run_profile(profile, dry_run=False, default_target_url=target)
    assert (again.counts.created, again.counts.unchanged) == (0, 3)


def test_password_login(sshd, target, monkeypatch):
    if not sshd.password:
        pytest.skip("a password login needs the throwaway user (tests running as root)")
    monkeypatch.setenv("FERRY_TEST_SFTP_PASSWORD", sshd.password)
    sshd.put("pw/products.csv", CSV)
    profile = sftp_profile(sshd.url("/pw/products.csv"), "env:FERRY_TEST_SFTP_PASSWORD",
                           host_key=sshd.fingerprint)
    assert run_profile(profile, dry_run=False, default_target_url=target).counts.created == 3
    monkeypatch.setenv("FERRY_TEST_SFTP_PASSWORD", "wrong-" + sshd.password)
    with pytest.raises(CredentialsError) as info:
        run_profile(profile, dry_run=False, default_target_url=target)
    assert sshd.password not in str(info.value)


def test_known_hosts_file_is_accepted(sshd, user_key, target, tmp_path):
    sshd.put("kh/products.csv", CSV)
    known = sshd.known_hosts(tmp_path / "known_hosts")
    profile = sftp_profile(sshd.url("/kh/products.csv"), user_key, known_hosts=str(known))
    assert run_profile(profile, dry_run=False, default_target_url=target).counts.created == 3


def test_unknown_host_key_is_refused(sshd, user_key, target, tmp_path):
    sshd.put("in/products.csv", CSV)
    other = tmp_path / "known_hosts"
    other.write_text("[127.0.0.1]:1 ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIOsF6fQbDjc1PKeXqe8tbJ0zvRQbQ4Z9mnUQ0SkVmj0A\n")
    profile = sftp_profile(sshd.url("/in/products.csv"), user_key, known_hosts=str(other))
    with pytest.raises(PermanentSourceError, match="unknown host key SHA256:") as info:
        run_profile(profile, dry_run=False, default_target_url=target)
    assert info.value.error_class == ErrorClass.PERMANENT
    assert other.read_text().count("\n") == 1  # never added


def test_mismatching_pinned_key_is_refused(sshd, user_key, target):
    profile = sftp_profile(sshd.url("/in/products.csv"), user_key,
                           host_key="SHA256:" + "A" * 43)
    with pytest.raises(PermanentSourceError, match="does not match the pinned"):
        run_profile(profile, dry_run=False, default_target_url=target)


def test_no_host_key_configured_is_refused(sshd, user_key, target):
    profile = sftp_profile(sshd.url("/in/products.csv"), user_key)
    with pytest.raises(PermanentSourceError, match="no host key to check"):
        run_profile(profile, dry_run=False, default_target_url=target)


def test_wrong_key_is_a_credentials_error_without_the_key(sshd, target, monkeypatch, tmp_path):
    from tests.integration.remote.servers import keygen

    stranger = keygen(tmp_path / "stranger").read_text()
    monkeypatch.setenv("FERRY_TEST_SFTP_KEY", stranger)
    profile = sftp_profile(sshd.url("/in/products.csv"), "env:FERRY_TEST_SFTP_KEY",
                           host_key=sshd.fingerprint)
    with pytest.raises(CredentialsError, match="refused the login") as info:
        run_profile(profile, dry_run=False, default_target_url=target)
    assert "PRIVATE KEY" not in str(info.value)


def test_newest_match_of_a_glob_is_read(sshd, user_key, target):
    sshd.put("feed/stock-1.csv", b"sku,name\nOLD,Old\n", mtime=1_700_000_000)
    sshd.put("feed/stock-2.csv", b"sku,name\nN1,New\nN2,Newer\n", mtime=1_700_000_100)
    sshd.put("feed/notes.txt", b"not data", mtime=1_700_000_200)
    profile = sftp_profile(sshd.url("/feed/stock-*.csv"), user_key, host_key=sshd.fingerprint,
                           selection=pb.FILE_SELECTION_NEWEST)
    result = run_profile(profile, dry_run=False, default_target_url=target)
    assert result.counts.created == 2
    assert result.source_paths == [sshd.url("/feed/stock-2.csv")]


def test_each_selection_reads_every_match_oldest_first(sshd, user_key, target):
    sshd.put("each/a.csv", b"sku,name\nA1,x\n", mtime=1_700_000_000)
    sshd.put("each/b.csv", b"sku,name\nB1,y\nB2,z\n", mtime=1_700_000_050)
    profile = sftp_profile(sshd.url("/each/*.csv"), user_key, host_key=sshd.fingerprint,
                           selection=pb.FILE_SELECTION_EACH)
    result = run_profile(profile, dry_run=False, default_target_url=target)
    assert result.counts.created == 3
    assert result.source_paths == [sshd.url("/each/a.csv"), sshd.url("/each/b.csv")]


def test_file_above_the_size_limit_is_refused(sshd, user_key, target):
    sshd.put("big/products.csv", CSV)
    profile = sftp_profile(sshd.url("/big/products.csv"), user_key, host_key=sshd.fingerprint)
    with pytest.raises(PermanentSourceError, match="FERRY_MAX_SOURCE_BYTES"):
        run_profile(profile, dry_run=False, default_target_url=target,
                    limits=SourceLimits(max_source_bytes=10))


def test_missing_remote_file_is_permanent(sshd, user_key, target):
    profile = sftp_profile(sshd.url("/nowhere/products.csv"), user_key,
                           host_key=sshd.fingerprint)
    with pytest.raises(PermanentSourceError, match="does not exist"):
        run_profile(profile, dry_run=False, default_target_url=target)


def test_closed_port_is_transient(user_key, target):
    profile = sftp_profile(f"sftp://nobody@127.0.0.1:{free_port()}/x.csv", user_key,
                           host_key="SHA256:" + "A" * 43)
    with pytest.raises(TransientSourceError, match="cannot connect"):
        run_profile(profile, dry_run=False, default_target_url=target)


def test_unchanged_remote_file_is_unchanged_through_freshness(sshd, user_key):
    from ferry_domain.freshness import Verdict, probe

    sshd.put("fresh/products.csv", CSV, mtime=1_700_000_000)
    profile = sftp_profile(sshd.url("/fresh/products.csv"), user_key, host_key=sshd.fingerprint)
    profile.freshness.extend([pb.FRESHNESS_METHOD_MTIME_SIZE, pb.FRESHNESS_METHOD_CHECKSUM])
    first = probe(profile, previous_token="")
    assert first.verdict is Verdict.FIRST_SEEN
    second = probe(profile, previous_token=first.current_token)
    assert second.verdict is Verdict.UNCHANGED
    # Touched (new mtime) with the same bytes: the listing differs, the checksum does not.
    sshd.put("fresh/products.csv", CSV, mtime=1_700_000_500)
    touched = probe(profile, previous_token=first.current_token)
    assert {r.method: r.outcome.name for r in touched.results} == {
        pb.FRESHNESS_METHOD_MTIME_SIZE: "CHANGED", pb.FRESHNESS_METHOD_CHECKSUM: "UNCHANGED"}
    sshd.put("fresh/products.csv", CSV + b"D,Gloves\n", mtime=1_700_000_900)
    assert probe(profile, previous_token=first.current_token).verdict is Verdict.CHANGED


def test_retention_moves_the_file_to_a_dated_backup_folder_on_the_server(sshd, user_key,
                                                                         target):
    from datetime import UTC, datetime

    from ferry_domain.remote_retention import apply_remote

    sshd.put("ret/products.csv", CSV)
    profile = sftp_profile(sshd.url("/ret/*.csv"), user_key, host_key=sshd.fingerprint)
    result = run_profile(profile, dry_run=False, default_target_url=target)
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP, backup_dir="done")
    now = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    actions = apply_remote(profile.source, result.source_paths, policy, now, failed=False)
    assert [a.kind for a in actions] == ["MOVED_TO_BACKUP"]
    assert actions[0].path == sshd.url("/ret/done/2026/03/14/products.csv")
    assert (sshd.root / "ret/done/2026/03/14/products.csv").read_bytes() == CSV
    assert not (sshd.root / "ret/products.csv").exists()
    # A second delivery under the same name does not overwrite the first backup.
    sshd.put("ret/products.csv", b"sku,name\nZ,z\n")
    again = apply_remote(profile.source, [sshd.url("/ret/products.csv")], policy, now,
                         failed=False)
    assert again[0].path == sshd.url("/ret/done/2026/03/14/products-1.csv")


def test_retention_deletes_after_success_and_keeps_failed_files(sshd, user_key):
    from datetime import UTC, datetime

    from ferry_domain.remote_retention import apply_remote

    now = datetime(2026, 3, 14, tzinfo=UTC)
    profile = sftp_profile(sshd.url("/del/*.csv"), user_key, host_key=sshd.fingerprint)
    sshd.put("del/ok.csv", CSV)
    deleted = apply_remote(profile.source, [sshd.url("/del/ok.csv")],
                           pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_DELETE), now,
                           failed=False)
    assert [a.kind for a in deleted] == ["DELETED"]
    assert not (sshd.root / "del/ok.csv").exists()
    sshd.put("del/bad.csv", CSV)
    kept = apply_remote(profile.source, [sshd.url("/del/bad.csv")],
                        pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_DELETE), now, failed=True)
    assert kept == [] and (sshd.root / "del/bad.csv").exists()  # no failed_dir: left alone
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_DELETE,
                                failed_dir=str(sshd.root / "failed"))
    moved = apply_remote(profile.source, [sshd.url("/del/bad.csv")], policy, now, failed=True)
    assert [a.kind for a in moved] == ["MOVED_TO_FAILED"]
    assert (sshd.root / "failed/2026/03/14/bad.csv").read_bytes() == CSV
    # A retry reads it there and fails again: it stays where it is.
    replay = apply_remote(profile.source, [moved[0].path], policy, now, failed=True)
    assert replay[0].path == moved[0].path and "already there" in replay[0].detail
    assert (sshd.root / "failed/2026/03/14/bad.csv").exists()


def test_profiles_validate_live_check_connects_and_lists(sshd, user_key):
    from ferry_domain.live_checks.sources import probe_source

    sshd.put("live/stock-1.csv", CSV, mtime=1_700_000_000)
    sshd.put("live/stock-2.csv", CSV, mtime=1_700_000_100)
    profile = sftp_profile(sshd.url("/live/stock-*.csv"), user_key, host_key=sshd.fingerprint)
    probe = probe_source(profile.source, None)
    assert probe.result.ok and not probe.result.note
    assert probe.result.message == (  # the newest match: what a run would read
        f"host key matched, logged in; {sshd.url('/live/stock-2.csv')} ({len(CSV)} bytes)")
    profile.source.host_key = "SHA256:" + "B" * 43
    refused = probe_source(profile.source, None).result
    assert not refused.ok and "does not match the pinned" in refused.message


def test_a_file_that_grows_past_the_limit_while_downloading_is_refused(sshd, user_key):
    from ferry_domain.engine.limits import using
    from ferry_domain.engine.sources.remote.client import connect
    from ferry_domain.engine.sources.remote.reading import download
    from ferry_domain.engine.sources.remote.remote_file import RemoteFile

    sshd.put("grow/products.csv", CSV * 100_000)
    profile = sftp_profile(sshd.url("/grow/products.csv"), user_key, host_key=sshd.fingerprint)
    client = connect(profile.source)
    try:
        listed_small = RemoteFile(str(sshd.root / "grow/products.csv"), 10, 0)
        with using(SourceLimits(max_source_bytes=1 << 20)), \
                pytest.raises(PermanentSourceError, match="FERRY_MAX_SOURCE_BYTES"):
            download(client, listed_small)
    finally:
        client.close()


def test_backups_older_than_keep_backup_days_are_purged_on_the_server(sshd, user_key):
    from datetime import UTC, datetime

    from ferry_domain.remote_retention import apply_remote

    sshd.put("purge/done/2026/02/01/old.csv", CSV)
    sshd.put("purge/done/2026/03/10/recent.csv", CSV)
    sshd.put("purge/done/notes/keep.txt", b"not a dated folder")
    profile = sftp_profile(sshd.url("/purge/*.csv"), user_key, host_key=sshd.fingerprint)
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_KEEP, backup_dir="done",
                                keep_backup_days=7)
    now = datetime(2026, 3, 14, tzinfo=UTC)
    actions = apply_remote(profile.source, [], policy, now, failed=False)
    assert [(a.kind, a.path) for a in actions] == [
        ("PURGED", sshd.url("/purge/done/2026/02/01/old.csv"))]
    assert "since 2026-02-01, 41 days" in actions[0].detail
    assert not (sshd.root / "purge/done/2026/02/01").exists()
    assert (sshd.root / "purge/done/2026/03/10/recent.csv").exists()
    assert (sshd.root / "purge/done/notes/keep.txt").exists()
