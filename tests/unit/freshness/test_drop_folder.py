"""Drop folders: which file a run reads, on real files with set ages."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.freshness.decision import Reason
from ferry_domain.freshness.drop_folder import Imported, Pick, choose, is_drop_folder
from google.protobuf import duration_pb2

EACH, NEWEST = pb.FILE_SELECTION_EACH, pb.FILE_SELECTION_NEWEST



def profile(folder: Path, selection: int = NEWEST, **source: object) -> pb.Profile:
    return pb.Profile(name="p", operation=pb.OPERATION_IMPORT, source=pb.Source(
        kind=pb.SOURCE_KIND_FILE, location=str(folder / "*.csv"), selection=selection,
        **source))


def put(folder: Path, name: str, body: str, age: float) -> Path:
    path = folder / name
    path.write_text(body)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def chosen(p: pb.Profile, lookup, *, bypass: bool) -> Pick:
    return choose(p, datetime.now(UTC), lookup, bypass=bypass)


def nothing_imported(checksums: list[str]) -> list[Imported]:
    return []


def test_empty_folder_is_no_new_input_and_a_missing_one_fails(tmp_path: Path) -> None:
    assert is_drop_folder(profile(tmp_path))
    empty = chosen(profile(tmp_path), nothing_imported, bypass=False)
    assert (empty.path, empty.reason, empty.detail) == (None, Reason.NO_NEW_INPUT,
                                                           "no new input")
    with pytest.raises(PermanentSourceError, match="gone does not exist"):
        chosen(profile(tmp_path / "gone"), nothing_imported, bypass=False)


def test_young_files_and_files_without_marker_wait(tmp_path: Path) -> None:
    put(tmp_path, "a.csv", "x", age=5)
    settled = profile(tmp_path, stable_for=duration_pb2.Duration(seconds=30))
    waiting = chosen(settled, nothing_imported, bypass=False)
    assert waiting.path is None and "a.csv (modified " in waiting.detail
    marked = profile(tmp_path, ready_marker="{name}.done")
    assert chosen(marked, nothing_imported, bypass=False).path is None
    (tmp_path / "a.csv.done").write_text("")
    assert chosen(marked, nothing_imported, bypass=False).path == tmp_path / "a.csv"
    folder_wide = profile(tmp_path, ready_marker="_SUCCESS")
    assert chosen(folder_wide, nothing_imported, bypass=False).path is None


def test_each_takes_the_oldest_new_file_and_says_more_wait(tmp_path: Path) -> None:
    put(tmp_path, "b.csv", "b", age=100)
    put(tmp_path, "a.csv", "a", age=200)
    seen: list[list[str]] = []

    def imported_a(checksums: list[str]) -> list[Imported]:
        seen.append(checksums)
        return []

    first = chosen(profile(tmp_path, EACH), imported_a, bypass=False)
    assert (first.path, first.more_waiting) == (tmp_path / "a.csv", True)
    assert len(seen[0]) == 2

    def a_done(checksums: list[str]) -> list[Imported]:
        return [Imported(str(tmp_path / "a.csv"), first.checksum, "r1")]

    second = chosen(profile(tmp_path, EACH), a_done, bypass=False)
    assert (second.path, second.more_waiting) == (tmp_path / "b.csv", False)


def test_known_content_is_skipped_unless_bypassed(tmp_path: Path) -> None:
    put(tmp_path, "new-name.csv", "same", age=10)
    first = chosen(profile(tmp_path), nothing_imported, bypass=False)

    def known(checksums: list[str]) -> list[Imported]:
        return [Imported("/old/old-name.csv", first.checksum, "r7")]

    skipped = chosen(profile(tmp_path), known, bypass=False)
    assert skipped.reason is Reason.SAME_CONTENT
    assert skipped.detail == "same content as old-name.csv imported by run r7"
    assert chosen(profile(tmp_path, EACH), known, bypass=False).path is None
    assert chosen(profile(tmp_path), known, bypass=True).path == tmp_path / "new-name.csv"
