"""LiveChecks without a server: file roots, SQL sources, exports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ferry.v1 import profile_pb2
from ferry_domain.live_checks import LiveChecks


def stock(location: str, tmp_path: Path) -> profile_pb2.Profile:
    return profile_pb2.Profile(
        name="stock", entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location=location),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target="sku", source="SKU"),
            profile_pb2.FieldMapping(target="name", source="Name")]))


def by_check(results) -> dict[str, tuple[bool, str]]:
    return {r.check: (r.ok, r.message) for r in results}


def test_file_outside_the_roots_is_refused_and_globs_pick_the_newest(tmp_path):
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    (outside / "stock.csv").write_text("SKU,Name\n1,a\n")
    (inside / "a.csv").write_text("SKU,Name\n1,a\n")
    target = f"sqlite:///{tmp_path / 'target.db'}"
    checks = LiveChecks(target, [inside])
    ok, message = by_check(checks.run(stock(str(outside / "stock.csv"), tmp_path)))["source"]
    assert not ok and "outside the allowed roots" in message
    results = by_check(checks.run(stock(str(inside / "*.csv"), tmp_path)))
    assert results["source"][0] and results["shape"][0], results
    ok, message = by_check(checks.run(stock(str(inside / "*.tsv"), tmp_path)))["source"]
    assert not ok and "no file matches" in message


def test_sql_source_columns_come_from_a_limit_0_probe(tmp_path, monkeypatch):
    database = tmp_path / "erp.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE items (code TEXT, label TEXT)")
    monkeypatch.setenv("ERP_DSN", f"sqlite:///{database}")
    prof = stock("SELECT code AS SKU, label AS Title FROM items;", tmp_path)
    prof.source.kind = profile_pb2.SOURCE_KIND_SQL
    prof.source.dsn_ref = "env:ERP_DSN"
    results = by_check(LiveChecks(f"sqlite:///{tmp_path / 't.db'}").run(prof))
    assert results["source"][0] and "env:ERP_DSN" in results["source"][1]
    assert results["shape"] == (False, "source changed shape: missing 'Name', new 'Title'")
    prof.source.location = "SELECT * FROM missing_table"
    ok, message = by_check(LiveChecks("").run(prof))["source"]
    assert not ok and "missing_table" in message


def test_no_target_url_fails_the_target_check(tmp_path):
    source = tmp_path / "s.csv"
    source.write_text("SKU,Name\n1,a\n")
    ok, message = by_check(LiveChecks("").run(stock(str(source), tmp_path)))["target"]
    assert not ok and "FERRY_TARGET_URL" in message


def test_export_needs_its_table_and_a_writable_directory(tmp_path):
    database = tmp_path / "target.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE products (sku TEXT PRIMARY KEY)")
    prof = profile_pb2.Profile(name="out", entity_type="products",
                               operation=profile_pb2.OPERATION_EXPORT,
                               export=profile_pb2.ExportSpec(directory=str(tmp_path / "exp")))
    results = by_check(LiveChecks(f"sqlite:///{database}").run(prof))
    assert results == {
        "credentials": (True, "the profile names no secrets"),
        "target": (True, f"table products in sqlite:///{database} (from FERRY_TARGET_URL) is "
                         "readable"),
        "export directory": (True, f"{tmp_path / 'exp'} does not exist yet; the export "
                                   f"creates it under the writable {tmp_path}")}


def test_an_unexpected_error_is_a_failed_line_not_a_failed_call(tmp_path, monkeypatch):
    import ferry_domain.live_checks as live

    def boom(*_args):
        raise RuntimeError("reader bug")

    monkeypatch.setattr(live, "probe_source", boom)
    results = by_check(LiveChecks("").run(stock(str(tmp_path / "s.csv"), tmp_path)))
    assert results["source"] == (False, "the check itself failed: RuntimeError: reader bug")
    assert results["shape"] == (False, "not compared: the source check failed")
    assert not results["target"][0]
