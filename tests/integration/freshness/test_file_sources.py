"""File freshness on real files: touch without change, real edits."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import Verdict, probe


def file_profile(path: Path, *methods: int) -> pb.Profile:
    return pb.Profile(
        name="feed", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location=str(path)),
        freshness=list(methods),
    )


def touch_later(path: Path) -> None:
    before = path.stat().st_mtime_ns
    while path.stat().st_mtime_ns == before:
        time.sleep(0.01)
        path.touch()


def test_touched_without_change_checksum_says_unchanged_mtime_says_changed(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "products.csv"
    feed.write_bytes(os.urandom(3 * 1024 * 1024))
    by_checksum = file_profile(feed, pb.FRESHNESS_METHOD_CHECKSUM)
    by_mtime = file_profile(feed, pb.FRESHNESS_METHOD_MTIME_SIZE)
    stored_checksum = probe(by_checksum).current_token
    stored_mtime = probe(by_mtime).current_token

    touch_later(feed)

    checksum_report = probe(by_checksum, previous_token=stored_checksum)
    assert checksum_report.verdict is Verdict.UNCHANGED
    assert checksum_report.to_proto().current_token == stored_checksum
    mtime_report = probe(by_mtime, previous_token=stored_mtime)
    assert mtime_report.verdict is Verdict.CHANGED
    assert mtime_report.current_token != stored_mtime


def test_rewritten_file_is_changed(tmp_path: Path) -> None:
    feed = tmp_path / "products.csv"
    feed.write_text("sku,price\nA,1\n")
    profile = file_profile(feed, pb.FRESHNESS_METHOD_MTIME_SIZE, pb.FRESHNESS_METHOD_CHECKSUM)
    stored = probe(profile).current_token
    assert probe(profile, previous_token=stored).verdict is Verdict.UNCHANGED
    feed.write_text("sku,price\nA,2\n")
    report = probe(profile, previous_token=stored)
    assert report.verdict is Verdict.CHANGED
