"""File sources: modified time and size, and the streamed checksum."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xxhash
from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import FreshnessPermanentError, Verdict, probe
from ferry_domain.freshness.files import BLOCK_SIZE, checksum_token, mtime_size_token
from ferry_domain.freshness.tokens import decode
from ferry_domain.runs.states import ErrorClass


def file_profile(location: str, *methods: int) -> pb.Profile:
    return pb.Profile(
        name="feed", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_FILE, location=location),
        freshness=list(methods),
    )


def bump_mtime(path: Path, seconds: int = 60) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + seconds * 1_000_000_000))


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_text("sku,price\nA,1\nB,2\n")
    return path


def test_checksum_matches_xxh3_128_of_the_content_across_block_boundaries(tmp_path: Path) -> None:
    data = os.urandom(BLOCK_SIZE + 12345)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert checksum_token([path]) == "xxh3_128:" + xxhash.xxh3_128(data).hexdigest()


def test_mtime_size_token_changes_on_touch_and_on_size(feed: Path) -> None:
    before = mtime_size_token([feed])
    assert before.startswith(f"{feed.stat().st_size}@")
    bump_mtime(feed)
    touched = mtime_size_token([feed])
    assert touched != before
    with feed.open("a") as handle:
        handle.write("C,3\n")
    assert mtime_size_token([feed]).split("@")[0] != touched.split("@")[0]


def test_unchanged_file_is_unchanged_by_both_methods(feed: Path) -> None:
    profile = file_profile(str(feed), pb.FRESHNESS_METHOD_CHECKSUM, pb.FRESHNESS_METHOD_MTIME_SIZE)
    first = probe(profile)
    assert first.verdict is Verdict.FIRST_SEEN
    assert set(decode(first.current_token)) == {"checksum", "mtime_size", "profile_digest"}
    again = probe(profile, previous_token=first.current_token)
    assert again.verdict is Verdict.UNCHANGED
    assert again.current_token == first.current_token


def test_touched_file_checksum_alone_says_unchanged(feed: Path) -> None:
    profile = file_profile(str(feed), pb.FRESHNESS_METHOD_CHECKSUM)
    first = probe(profile, paths=[feed])
    bump_mtime(feed)
    assert probe(profile, paths=[feed], previous_token=first.current_token).verdict is (
        Verdict.UNCHANGED
    )


def test_touched_file_mtime_method_says_changed_and_wins_when_combined(feed: Path) -> None:
    both = file_profile(str(feed), pb.FRESHNESS_METHOD_MTIME_SIZE, pb.FRESHNESS_METHOD_CHECKSUM)
    first = probe(both, paths=[feed])
    bump_mtime(feed)
    report = probe(both, paths=[feed], previous_token=first.current_token)
    assert report.verdict is Verdict.CHANGED
    assert report.method == "FRESHNESS_METHOD_MTIME_SIZE"
    # The checksum is still in the new token, as the baseline for the next run.
    assert decode(report.current_token)["checksum"] == decode(first.current_token)["checksum"]


def test_same_size_same_mtime_edit_is_caught_by_the_checksum(feed: Path) -> None:
    profile = file_profile(str(feed), pb.FRESHNESS_METHOD_MTIME_SIZE, pb.FRESHNESS_METHOD_CHECKSUM)
    first = probe(profile, paths=[feed])
    info = feed.stat()
    feed.write_text(feed.read_text().replace("A,1", "A,9"))
    os.utime(feed, ns=(info.st_atime_ns, info.st_mtime_ns))
    report = probe(profile, paths=[feed], previous_token=first.current_token)
    assert report.verdict is Verdict.CHANGED
    assert report.method == "FRESHNESS_METHOD_CHECKSUM"


def test_several_files_a_new_file_changes_the_verdict(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("x\n2\n")
    profile = file_profile(str(tmp_path / "*.csv"), pb.FRESHNESS_METHOD_MTIME_SIZE,
                           pb.FRESHNESS_METHOD_CHECKSUM)
    first = probe(profile, paths=[a])
    assert probe(profile, paths=[a], previous_token=first.current_token).unchanged
    report = probe(profile, paths=[b, a], previous_token=first.current_token)
    assert report.verdict is Verdict.CHANGED


def test_missing_file_is_a_permanent_error(tmp_path: Path) -> None:
    profile = file_profile(str(tmp_path / "gone.csv"), pb.FRESHNESS_METHOD_MTIME_SIZE)
    with pytest.raises(FreshnessPermanentError, match="does not exist") as caught:
        probe(profile)
    assert caught.value.error_class == ErrorClass.PERMANENT


def test_glob_location_needs_resolved_paths(tmp_path: Path) -> None:
    profile = file_profile(str(tmp_path / "*.csv"), pb.FRESHNESS_METHOD_CHECKSUM)
    with pytest.raises(FreshnessPermanentError, match="pass the resolved paths"):
        probe(profile)


def test_method_that_does_not_fit_the_source_is_rejected(feed: Path) -> None:
    profile = file_profile(str(feed), pb.FRESHNESS_METHOD_HTTP_VALIDATORS)
    with pytest.raises(FreshnessPermanentError, match="HTTP_VALIDATORS does not apply"):
        probe(profile)


def test_no_methods_bypasses_without_touching_the_source(tmp_path: Path) -> None:
    report = probe(file_profile(str(tmp_path / "gone.csv")))
    assert report.verdict is Verdict.BYPASSED


def test_force_bypasses_but_records_the_current_token(feed: Path) -> None:
    profile = file_profile(str(feed), pb.FRESHNESS_METHOD_CHECKSUM)
    first = probe(profile)
    forced = probe(profile, previous_token=first.current_token, force=True)
    assert forced.verdict is Verdict.BYPASSED
    assert forced.current_token == first.current_token
