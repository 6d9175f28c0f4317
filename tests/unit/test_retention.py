"""Retention: backup, delete, failed folder, purge, masked samples."""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry.v1 import run_pb2
from ferry_domain.masking import Masker
from ferry_domain.retention import (
    RetentionError,
    apply_failure,
    apply_success,
    move_no_clobber,
    purge_backups,
    purge_failed,
    save_sample,
)

NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)


def source(tmp_path: Path, name: str = "feed.csv", text: str = "sku\nA\n") -> Path:
    inbox = tmp_path / "in"
    inbox.mkdir(exist_ok=True)
    path = inbox / name
    path.write_text(text)
    return path


def test_success_moves_to_a_dated_backup_folder(tmp_path: Path) -> None:
    feed = source(tmp_path)
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP,
                                backup_dir=str(tmp_path / "backup"))
    [action] = apply_success([feed], policy, NOW)
    target = tmp_path / "backup" / "2026" / "11" / "28" / "feed.csv"
    assert Path(action.path) == target
    assert target.read_text() == "sku\nA\n"
    assert not feed.exists()
    proto = action.to_proto()
    assert proto.kind == run_pb2.RETENTION_ACTION_KIND_MOVED_TO_BACKUP
    assert proto.action_time.ToDatetime(tzinfo=UTC) == NOW
    assert str(feed) in proto.detail


def test_the_date_is_the_utc_date_of_the_given_time(tmp_path: Path) -> None:
    feed = source(tmp_path)
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP,
                                backup_dir=str(tmp_path / "backup"))
    just_after_midnight_in_paris = datetime(2026, 11, 29, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))
    [action] = apply_success([feed], policy, just_after_midnight_in_paris)
    assert "/2026/11/28/" in action.path


def test_name_clashes_get_a_suffix_and_nothing_is_overwritten(tmp_path: Path) -> None:
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP,
                                backup_dir=str(tmp_path / "backup"))
    moved = []
    for version in range(3):
        feed = source(tmp_path, text=f"sku\nv{version}\n")
        moved += apply_success([feed], policy, NOW)
    names = [Path(a.path).name for a in moved]
    assert names == ["feed.csv", "feed-1.csv", "feed-2.csv"]
    assert [Path(a.path).read_text() for a in moved] == [f"sku\nv{v}\n" for v in range(3)]


def test_delete_after_success_and_keep_by_default(tmp_path: Path) -> None:
    feed = source(tmp_path)
    assert apply_success([feed], pb.RetentionPolicy(), NOW) == []
    assert feed.exists()
    [action] = apply_success([feed], pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_DELETE),
                             NOW)
    assert action.kind == "DELETED" and not feed.exists()


def test_backup_without_a_folder_is_an_error_and_keeps_the_file(tmp_path: Path) -> None:
    feed = source(tmp_path)
    with pytest.raises(RetentionError, match="backup_dir"):
        apply_success([feed], pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP),
                      NOW)
    assert feed.exists()


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a tmpfs at /dev/shm")
def test_move_across_filesystems_copies_then_deletes(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        if os.stat(other).st_dev == tmp_path.stat().st_dev:
            pytest.skip("/dev/shm is on the same filesystem here")
        feed = source(tmp_path, text="x" * 100_000)
        target = move_no_clobber(feed, Path(other) / "backup")
        assert target.read_text() == "x" * 100_000
        assert not feed.exists()
        assert [p.name for p in target.parent.iterdir()] == ["feed.csv"]


def test_failed_files_are_moved_then_purged_after_keep_days(tmp_path: Path) -> None:
    failed_dir = tmp_path / "failed"
    policy = pb.RetentionPolicy(failed_dir=str(failed_dir), keep_failed_days=7)
    [moved] = apply_failure([source(tmp_path)], policy, NOW)
    assert moved.kind == "MOVED_TO_FAILED"
    assert Path(moved.path) == failed_dir / "2026" / "11" / "28" / "feed.csv"
    # A file someone else put in the failed folder is never purged.
    stray = failed_dir / "notes.txt"
    stray.write_text("keep me")

    assert purge_failed(failed_dir, 7, NOW + timedelta(days=7)) == []
    assert Path(moved.path).exists()
    purged = purge_failed(failed_dir, 7, NOW + timedelta(days=8))
    assert [(a.kind, a.path) for a in purged] == [("PURGED", moved.path)]
    assert not (failed_dir / "2026").exists()
    assert stray.read_text() == "keep me"


def test_a_pinned_failed_file_is_kept_until_released_then_keep_days(tmp_path: Path) -> None:
    failed_dir = tmp_path / "failed"
    policy = pb.RetentionPolicy(failed_dir=str(failed_dir), keep_failed_days=7)
    [pinned] = apply_failure([source(tmp_path)], policy, NOW)
    [unknown] = apply_failure([source(tmp_path, "other.csv")], policy, NOW)
    later = NOW + timedelta(days=30)

    # The failure is not released: the file stays; a file no run knows goes.
    purged = purge_failed(failed_dir, 7, later, {pinned.path: None})
    assert [a.path for a in purged] == [unknown.path]
    assert Path(pinned.path).exists()

    # Released 30 days after the failure: kept 7 full days after the release.
    released = {pinned.path: later}
    assert purge_failed(failed_dir, 7, later + timedelta(days=7), released) == []
    [gone] = purge_failed(failed_dir, 7, later + timedelta(days=8), released)
    assert gone.path == pinned.path and "its failure released on 2026-12-28" in gone.detail
    assert not Path(pinned.path).exists()


def test_backups_are_purged_after_keep_backup_days(tmp_path: Path) -> None:
    backup_dir = tmp_path / "backup"
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP,
                                backup_dir=str(backup_dir))
    [moved] = apply_success([source(tmp_path)], policy, NOW)
    stray = backup_dir / "README.txt"
    stray.write_text("not Ferry's")

    assert purge_backups(backup_dir, 0, NOW + timedelta(days=3650)) == []
    assert purge_backups(backup_dir, 3, NOW + timedelta(days=3)) == []
    [purged] = purge_backups(backup_dir, 3, NOW + timedelta(days=4))
    assert (purged.kind, purged.path) == ("PURGED", moved.path)
    assert "in the backup folder since 2026-11-28, 4 days > keep_backup_days 3" in purged.detail
    assert not (backup_dir / "2026").exists() and stray.exists()


def test_zero_keep_days_keeps_failed_files_for_ever(tmp_path: Path) -> None:
    failed_dir = tmp_path / "failed"
    apply_failure([source(tmp_path)], pb.RetentionPolicy(failed_dir=str(failed_dir)), NOW)
    assert purge_failed(failed_dir, 0, NOW + timedelta(days=3650)) == []


def test_failure_without_failed_folder_leaves_the_file(tmp_path: Path) -> None:
    feed = source(tmp_path)
    assert apply_failure([feed], pb.RetentionPolicy(), NOW) == []
    assert feed.exists()


def test_sample_is_a_masked_csv_written_atomically(tmp_path: Path) -> None:
    rows = [{"sku": "A", "email": "jane@example.com", "note": "call +33 6 12 34 56 78"},
            {"sku": "B", "email": "john@example.com", "extra": "x"}]
    path, action = save_sample(rows, tmp_path / "samples", "run/0001", Masker(b"k" * 16),
                               now=NOW)
    assert path == tmp_path / "samples" / "run_0001.sample.csv"
    assert action.kind == "SAMPLE_SAVED" and action.time == NOW
    with path.open(newline="") as handle:
        saved = list(csv.DictReader(handle))
    assert list(saved[0]) == ["sku", "email", "note", "extra"]
    assert [r["sku"] for r in saved] == ["A", "B"]
    text = path.read_text()
    assert "jane@example.com" not in text and "12 34 56" not in text
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_failed_move_keeps_the_file_and_reports_the_moves_already_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = source(tmp_path, "a.csv"), source(tmp_path, "b.csv")
    real_replace = os.replace

    def replace(src, dst):
        if Path(src).name == "b.csv":
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr("ferry_domain.retention.os.replace", replace)
    policy = pb.RetentionPolicy(on_success=pb.SUCCESS_ACTION_MOVE_TO_BACKUP,
                                backup_dir=str(tmp_path / "backup"))
    with pytest.raises(RetentionError, match="No space left") as caught:
        apply_success([first, second], policy, NOW)
    assert [Path(a.path).name for a in caught.value.actions] == ["a.csv"]
    assert second.read_text() == "sku\nA\n"
    day = tmp_path / "backup" / "2026" / "11" / "28"
    assert sorted(p.name for p in day.iterdir()) == ["a.csv"]


def test_a_copy_that_fails_across_filesystems_loses_nothing_and_leaves_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = source(tmp_path, text="precious\n")
    real_replace = os.replace

    def cross_device(src, dst):
        if Path(src) == feed:
            raise OSError(18, "Invalid cross-device link")
        return real_replace(src, dst)

    def broken_copy(src, dst):
        Path(dst).write_text("prec")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("ferry_domain.retention.os.replace", cross_device)
    monkeypatch.setattr("ferry_domain.retention.shutil.copy2", broken_copy)
    with pytest.raises(OSError):
        move_no_clobber(feed, tmp_path / "backup")
    assert feed.read_text() == "precious\n"
    assert list((tmp_path / "backup").iterdir()) == []
