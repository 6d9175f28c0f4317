"""Checksums of the files a run read (``freshness.inputs``): the gate's are
reused, small files are hashed once, large unhashed ones stay empty."""

from __future__ import annotations

from pathlib import Path

from ferry.v1 import profile_pb2
from ferry_domain.engine.run_io import RunInput
from ferry_domain.freshness import probe
from ferry_domain.freshness.files import checksum_token
from ferry_domain.freshness.inputs import known_checksums, with_checksums


def test_a_checksum_the_gate_computed_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("sku\nA\n")
    profile = profile_pb2.Profile(
        name="p", source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE,
                                            location=str(path)),
        freshness=[profile_pb2.FRESHNESS_METHOD_CHECKSUM])
    known = known_checksums(probe(profile, paths=[path]), [path])
    assert known == {str(path): checksum_token([path])}
    # The known value is taken without reading the file again.
    [item] = with_checksums([RunInput(str(path), 6)], {str(path): "xxh3_128:feed"})
    assert item.checksum == "xxh3_128:feed"


def test_small_files_are_hashed_and_large_unhashed_ones_stay_empty(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("sku\nA\n")
    small, large, gone, url = with_checksums(
        [RunInput(str(path), 6), RunInput(str(path), 11), RunInput(str(tmp_path / "x"), 1),
         RunInput("http://host/feed.csv", 6, is_url=True)], {}, limit=10)
    assert small.checksum == checksum_token([path])
    assert large.checksum == "" and gone.checksum == "" and url.checksum == ""


def test_a_token_over_several_files_is_no_files_checksum(tmp_path: Path) -> None:
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in paths:
        path.write_text("sku\nA\n")
    profile = profile_pb2.Profile(
        name="p", source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE,
                                            location=str(tmp_path / "*.csv")),
        freshness=[profile_pb2.FRESHNESS_METHOD_CHECKSUM])
    assert known_checksums(probe(profile, paths=paths), paths) == {}
