"""Source limits and file roots in the engine: the JSON guard against any
chunking, limits passed to run_profile, and confinement of file locations."""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import pytest
from ferry.v1 import profile_pb2
from ferry_domain.engine import PermanentSourceError, run_profile
from ferry_domain.engine.formats.json_reader import JsonGuard, read_json
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.engine.sources.files import resolve_files

from tests.faults import hostile_files as hf


def _value(rng: random.Random, depth: int = 0):  # type: ignore[no-untyped-def]
    roll = rng.random()
    if depth < 6 and roll < 0.3:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 6 and roll < 0.5:
        return {rng.choice(["a", 'b"[', "c\\]", "{d"]): _value(rng, depth + 1)
                for _ in range(rng.randint(0, 4))}
    return rng.choice(["x", '"[[', "\\", '\\"]]', "{{{", "é", 1, None, True, '\\\\"'])


def _depth(value, level: int = 1) -> int:  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return max([level] + [_depth(v, level + 1) for v in value.values()])
    if isinstance(value, list):
        return max([level] + [_depth(v, level + 1) for v in value])
    return level - 1


def test_json_guard_tracks_depth_exactly_across_any_chunking() -> None:
    rng = random.Random(7)
    for _ in range(200):
        doc = [_value(rng) for _ in range(30)]
        data = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
        deepest = _depth(doc)
        guard = JsonGuard(io.BytesIO(data), "t.json", deepest, 0)
        while guard.readinto(bytearray(rng.randint(1, 64))):
            pass
        assert guard._depth == 0 and not guard._in_string  # noqa: SLF001
        too_tight = JsonGuard(io.BytesIO(data), "t.json", deepest - 1, 0)
        with pytest.raises(PermanentSourceError, match="nested deeper"):
            while too_tight.readinto(bytearray(rng.randint(1, 64))):
                pass


def test_json_depth_and_string_limits_come_from_run_profile(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"sku": "S1", "name": "N", "price": "1", "quantity": 1,
                                 "extra": {"a": {"b": {"c": "x" * 100}}}}]))
    profile = hf.profile_for("p", path, hf.JSON, {})
    target = f"sqlite:///{tmp_path / 't.db'}"
    assert run_profile(profile, dry_run=True, default_target_url=target).counts.rows_read == 1
    with pytest.raises(PermanentSourceError, match="FERRY_MAX_JSON_DEPTH"):
        run_profile(profile, dry_run=True, default_target_url=target,
                    limits=SourceLimits(max_json_depth=3))
    with pytest.raises(PermanentSourceError, match="FERRY_MAX_FIELD_BYTES"):
        run_profile(profile, dry_run=True, default_target_url=target,
                    limits=SourceLimits(max_field_bytes=50))
    # The reader alone, with the defaults: a 300-byte string is fine.
    assert len(list(read_json(io.BytesIO(b'[{"a": "' + b"x" * 300 + b'"}]'), "s.json").rows)) == 1


def test_file_size_limit(tmp_path: Path) -> None:
    path, kind, options = hf.good_csv(tmp_path, 50)
    profile = hf.profile_for("p", path, kind, options)
    target = f"sqlite:///{tmp_path / 't.db'}"
    with pytest.raises(PermanentSourceError, match="FERRY_MAX_SOURCE_BYTES"):
        run_profile(profile, dry_run=True, default_target_url=target,
                    limits=SourceLimits(max_source_bytes=100))
    result = run_profile(profile, dry_run=True, default_target_url=target,
                         limits=SourceLimits(max_source_bytes=0))
    assert result.counts.rows_read == 50


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    root, sibling, outside = tmp_path / "imports", tmp_path / "imports2", tmp_path / "out"
    for folder in (root, sibling, outside, root / "daily"):
        folder.mkdir()
    for folder in (root / "daily", sibling, outside):
        (folder / "a.csv").write_text(hf.HEADER)
    os.symlink(outside / "a.csv", root / "link.csv")
    return {"root": root, "sibling": sibling, "outside": outside}


@pytest.mark.parametrize("location", [
    "../out/a.csv", "{outside}/a.csv", "{root}/link.csv", "{sibling}/a.csv",
    "{root}/daily/../../out/a.csv", "{root}/a\x00.csv", "{outside}/*.csv", "{root}/../*/a.csv",
    "{root}/*.csv"])
def test_locations_outside_the_roots_are_not_allowed(layout: dict[str, Path],
                                                     location: str) -> None:
    where = location.format(**{k: str(v) for k, v in layout.items()})
    with pytest.raises(PermanentSourceError, match="path not allowed"):
        resolve_files(where, profile_pb2.FILE_SELECTION_NEWEST, [layout["root"]])


def test_locations_inside_the_roots(layout: dict[str, Path]) -> None:
    root = layout["root"]
    newest = profile_pb2.FILE_SELECTION_NEWEST
    assert resolve_files("daily/a.csv", newest, [root]) == [root / "daily" / "a.csv"]
    assert resolve_files(f"{root}/daily/*.csv", newest, [root]) == [root / "daily" / "a.csv"]
    assert resolve_files(f"{root}/daily", newest, [root]) == [root / "daily" / "a.csv"]
    with pytest.raises(PermanentSourceError, match="does not exist"):
        resolve_files("daily/missing.csv", newest, [root])


def test_line_limit_counts_carriage_returns_as_line_ends() -> None:
    import ferry_domain.engine.limits as limits
    from ferry_domain.engine.formats.csv_reader import read_csv

    rows = b"".join(b"S%d,%s\r" % (i, b"n" * 100) for i in range(20000))
    with limits.using(SourceLimits(max_field_bytes=100_000)):  # lines up to 400 KB
        stream = read_csv(io.BytesIO(b"sku,name\r" + rows), "cr.csv")
        assert sum(len(batch) for batch in stream.batches(1000)) == 20000
        one_line = read_csv(io.BytesIO(b"sku,name\n" + b"x" * 500_000), "long.csv")
        with pytest.raises(PermanentSourceError, match="a line is longer than 400000 bytes"):
            list(one_line.batches(1000))


def test_export_directory_is_confined_to_the_roots(tmp_path: Path) -> None:
    root, outside = tmp_path / "exports", tmp_path / "elsewhere"
    root.mkdir()
    path, kind, options = hf.good_csv(tmp_path, 5)
    target = f"sqlite:///{tmp_path / 't.db'}"
    run_profile(hf.profile_for("p", path, kind, options), dry_run=False,
                default_target_url=target)

    def export(directory: Path) -> profile_pb2.Profile:
        return profile_pb2.Profile(
            name="e", entity_type="products", operation=profile_pb2.OPERATION_EXPORT,
            export=profile_pb2.ExportSpec(directory=str(directory), format=profile_pb2.Format(
                kind=profile_pb2.FORMAT_KIND_CSV)))

    done = run_profile(export(root / "daily"), dry_run=False, default_target_url=target,
                       file_roots=[root])
    assert Path(done.output_path).parent == root / "daily" and done.counts.written == 5
    for bad in (outside, root / ".." / "elsewhere", Path(str(root) + "2")):
        with pytest.raises(PermanentSourceError, match="path not allowed: export directory"):
            run_profile(export(bad), dry_run=False, default_target_url=target,
                        file_roots=[root])
    assert not outside.exists()


def test_http_body_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = (hf.HEADER + hf.rows(500)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            self.wfile.write(body)  # no Content-Length: streamed until close

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        profile = hf.profile_for("h", Path("x.csv"), hf.CSV, {})
        profile.source.kind = profile_pb2.SOURCE_KIND_HTTP
        profile.source.location = f"http://127.0.0.1:{server.server_address[1]}/p.csv"
        target = f"sqlite:///{tmp_path / 't.db'}"
        with pytest.raises(PermanentSourceError, match="larger than the limit of 1000 bytes"):
            run_profile(profile, dry_run=True, default_target_url=target,
                        limits=SourceLimits(max_source_bytes=1000))
        done = run_profile(profile, dry_run=True, default_target_url=target)
        assert done.counts.rows_read == 500
    finally:
        server.shutdown()
        server.server_close()
