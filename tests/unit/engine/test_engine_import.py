"""Row outcomes, the error threshold, dry runs, progress, cancellation,
forward-fill, filters and the shape check, through run_profile into SQLite."""

from __future__ import annotations

import io
import sqlite3

import pytest
from ferry_domain.engine import (
    MappingError,
    SourceShapeError,
    run_profile,
    write_rejected_csv,
)
from ferry_domain.runs.states import ErrorClass, RunStatus

HEADER = "sku,name,price,qty\n"


def run(profile, url, dry_run=False, **kw):
    return run_profile(profile, dry_run=dry_run, default_target_url=url, **kw)


def test_created_updated_unchanged_and_idempotent(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("p.csv", HEADER + "A,Shirt,10.50,3\nB,Hat,.5,1\n")
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS)
    first = run(profile, url)
    assert (first.status, first.counts.created, first.counts.updated) == (RunStatus.COMPLETED, 2, 0)
    assert first.status is RunStatus.COMPLETED and first.error_class is ErrorClass.UNSPECIFIED
    again = run(profile, url)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    write("p.csv", HEADER + "A,Shirt,11.00,3\nB,Hat,.5,1\nC,Cap,2,0\n")
    third = run(profile, url)
    counts = third.counts
    assert (counts.created, counts.updated, counts.unchanged, counts.rows_read) == (1, 1, 1, 3)
    stored = eng.rows_of(db, "select sku, name, price, quantity from products order by sku")
    assert stored == [("A", "Shirt", 11, 3), ("B", "Hat", 0.5, 1), ("C", "Cap", 2, 0)]


def test_skips_and_errors_with_reasons(write, sqlite_target, eng):
    url, _ = sqlite_target
    path = write(
        "p.csv",
        HEADER
        + "A,Shirt,10,1\n"  # row 1 ok
        + ",No key,1,1\n"  # row 2 missing key
        + "A,Again,2,2\n"  # row 3 duplicate key
        + "B,Bad price,ten,1\n"  # row 4 error: price
        + "C,,1,1\n"  # row 5 error: required name
        + "D,Fine,1,2.5\n",  # row 6 error: quantity
    )
    result = run(eng.csv_profile(path, eng.PRODUCT_FIELDS), url)
    c = result.counts
    assert (c.rows_read, c.created, c.skipped, c.errors) == (6, 1, 2, 3)
    assert result.status == RunStatus.FAILED  # 3 of 6 rows in error > 10 % by default
    assert result.first_skip_reason == "row 2: missing key: sku"
    assert (result.first_error.row, result.first_error.field) == (4, "price")
    assert "'ten' is not a decimal number" in result.first_error.message
    outcomes = [(r.row, r.outcome, r.field) for r in result.rejected_rows]
    assert outcomes == [
        (2, "skipped", "sku"),
        (3, "skipped", "sku"),
        (4, "error", "price"),
        (5, "error", "name"),
        (6, "error", "quantity"),
    ]
    assert "duplicate key sku='A' in the same file" in result.rejected_rows[1].message
    assert result.rejected_rows[2].values == {
        "sku": "B",
        "name": "Bad price",
        "price": "ten",
        "qty": "1",
    }


def test_threshold_decides_warning_or_failed(write, sqlite_target, eng):
    url, _ = sqlite_target
    body = HEADER + "".join(f"S{i},n,1,1\n" for i in range(18)) + "X,n,bad,1\nY,n,1,bad\n"
    path = write("p.csv", body)
    lenient = eng.csv_profile(path, eng.PRODUCT_FIELDS, error_threshold={"max_errors": 2})
    assert run(lenient, url, dry_run=True).status == RunStatus.WARNING
    strict = eng.csv_profile(path, eng.PRODUCT_FIELDS, error_threshold={"max_errors": 1})
    failed = run(strict, url, dry_run=True)
    assert failed.status == RunStatus.FAILED and failed.error_class == ErrorClass.PERMANENT
    assert "more than the limit of 1" in failed.error_message
    pct = eng.csv_profile(path, eng.PRODUCT_FIELDS, error_threshold={"max_error_percent": 5})
    assert run(pct, url, dry_run=True).status == RunStatus.FAILED  # 10 % > 5 %
    pct = eng.csv_profile(path, eng.PRODUCT_FIELDS, error_threshold={"max_error_percent": 15})
    assert run(pct, url, dry_run=True).status == RunStatus.WARNING
    # Skips alone never fail a run, but they make it a WARNING.
    skip_only = write("s.csv", HEADER + "A,n,1,1\n,n,1,1\n")
    assert run(eng.csv_profile(skip_only, eng.PRODUCT_FIELDS), url).status == RunStatus.WARNING


def test_count_limit_stops_before_writing_the_batch(write, sqlite_target, eng):
    url, db = sqlite_target
    body = HEADER + "".join(f"S{i},n,1,1\n" for i in range(10)) + "X,n,bad,1\n" * 3
    body += "".join(f"T{i},n,1,1\n" for i in range(10))
    path = write("p.csv", body)
    profile = eng.csv_profile(
        path, eng.PRODUCT_FIELDS, batch_size=10, error_threshold={"max_errors": 0}
    )
    result = run(profile, url)
    assert result.status == RunStatus.FAILED
    assert eng.rows_of(db, "select count(*) from products") == [(10,)]


def test_rejected_sample_is_bounded_and_downloadable(write, sqlite_target, eng):
    url, _ = sqlite_target
    path = write("p.csv", HEADER + "".join(f",=cmd(),{i},1\n" for i in range(30)))
    result = run(
        eng.csv_profile(path, eng.PRODUCT_FIELDS), url, dry_run=True, rejected_sample_size=5
    )
    assert result.counts.skipped == 30
    assert len(result.rejected_rows) == 5
    out = io.StringIO()
    write_rejected_csv(result.rejected_rows, result.rejected_columns, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "row,outcome,field,message,sku,name,price,qty"
    assert lines[1] == "1,skipped,sku,missing key: sku,,'=cmd(),0,1"
    assert len(lines) == 6


def test_dry_run_counts_like_live_and_writes_nothing(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("p.csv", HEADER + "A,Shirt,10,1\nB,Hat,2,1\n,x,1,1\nB,dup,1,1\n")
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS)
    dry = run(profile, url, dry_run=True)
    assert not db.exists()  # no table, not even the file
    live = run(profile, url)
    assert dry.counts == live.counts
    assert dry.status == live.status == RunStatus.WARNING
    write("p.csv", HEADER + "A,Shirt,11,1\nB,Hat,2,1\nC,new,1,1\n")
    before = eng.rows_of(db, "select sku, price, _ferry_hash from products order by sku")
    dry = run(profile, url, dry_run=True)
    assert eng.rows_of(db, "select sku, price, _ferry_hash from products order by sku") == before
    live = run(profile, url)
    assert dry.counts == live.counts
    assert (live.counts.created, live.counts.updated, live.counts.unchanged) == (1, 1, 1)


def test_progress_after_each_batch_and_cancel(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("p.csv", HEADER + "".join(f"S{i},n,1,1\n" for i in range(25)))
    seen = []
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS, batch_size=10)
    result = run(profile, url, on_progress=lambda c: seen.append(c.created))
    assert seen == [10, 20, 25, 25]
    calls = []

    def cancel_after_two() -> bool:
        calls.append(1)
        return len(calls) > 2

    other = eng.csv_profile(
        path, eng.PRODUCT_FIELDS, batch_size=10, target={"table": "products_cancel"}
    )
    result = run(other, url, should_cancel=cancel_after_two)
    assert result.status == RunStatus.CANCELLED
    assert result.counts.created == 20
    assert eng.rows_of(db, "select count(*) from products_cancel") == [(20,)]


def test_forward_fill_and_filters(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write(
        "v.csv",
        "Handle,Title,SKU,Type,Price\n"
        "shirt,Shirt,S-1,variant,10\n"
        "shirt,,S-2,variant,11\n"
        "shirt,,,image,\n"
        "hat,Hat,H-1,gift,5\n",
    )
    fields = [
        {"target": "sku", "source": "SKU"},
        {"target": "name", "source": "Title"},
        {"target": "handle", "source": "Handle"},
        {"target": "price", "source": "Price", "transforms": [{"name": "decimal"}]},
    ]
    profile = eng.csv_profile(
        path,
        fields,
        forward_fill={"group_column": "Handle", "columns": ["Title"]},
        filters=[{"column": "Type", "equals_any": ["gift"], "negate": True}],
    )
    result = run(profile, url)
    assert result.counts.created == 2
    assert (result.counts.skipped, result.counts.filtered) == (1, 1)
    assert [(r.row, r.message) for r in result.rejected_rows] == [(3, "missing key: sku")]
    assert eng.rows_of(db, "select sku, name from products order by sku") == [
        ("S-1", "Shirt"),
        ("S-2", "Shirt"),
    ]


def test_rows_filtered_out_on_purpose_are_counted_and_the_run_completes(
    write, sqlite_target, eng
):
    url, db = sqlite_target
    # Batches of two: the middle batch holds only rows the filter drops.
    body = HEADER.replace("\n", ",Type\n") + "A,n,1,1,keep\nB,n,1,1,keep\n"
    body += "C,n,1,1,drop\nD,n,1,1,drop\nE,n,1,1,keep\n"
    path = write("f.csv", body)
    profile = eng.csv_profile(
        path,
        eng.PRODUCT_FIELDS,
        batch_size=2,
        filters=[{"column": "Type", "equals_any": ["drop"], "negate": True}],
    )
    for dry_run in (True, False):
        result = run(profile, url, dry_run=dry_run)
        assert result.status is RunStatus.COMPLETED
        counts = result.counts
        assert (counts.rows_read, counts.created, counts.skipped, counts.filtered) == (5, 3, 0, 2)
        assert result.first_skip_reason == "" and result.rejected_rows == []
    assert eng.rows_of(db, "select sku from products order by sku") == [("A",), ("B",), ("E",)]


def test_defaults_constants_concat_and_lists(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("c.csv", 'Email,First,Last,Tags,Opt\n Ada@Example.com ,Ada,Lovelace,"a, b",\n')
    profile = eng.make_profile(
        {
            "entity_type": "customers",
            "source": {"kind": "SOURCE_KIND_FILE", "location": str(path)},
            "mapping": {
                "fields": [
                    {"target": "email", "source": "Email"},
                    {
                        "target": "first_name",
                        "sources": ["First", "Last"],
                        "transforms": [{"name": "concat"}],
                    },
                    {"target": "tags", "source": "Tags", "transforms": [{"name": "split"}]},
                    {"target": "accepts_marketing", "source": "Opt", "default_value": "no"},
                    {
                        "target": "country",
                        "transforms": [{"name": "constant", "args": {"value": "GB"}}],
                    },
                ],
            },
        }
    )
    result = run(profile, url)
    assert result.counts.created == 1
    assert eng.rows_of(
        db, "select email, first_name, tags, accepts_marketing, country from customers"
    ) == [("ada@example.com", "Ada Lovelace", '["a", "b"]', 0, "GB")]


def test_shape_check_missing_and_new_columns(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("p.csv", "sku,name,cost,qty,colour\nA,n,1,1,red\n")
    with pytest.raises(SourceShapeError) as info:
        run(eng.csv_profile(path, eng.PRODUCT_FIELDS), url)
    assert str(info.value).endswith("source changed shape: missing 'price', new 'cost', 'colour'")
    assert info.value.error_class == ErrorClass.SOURCE_SHAPE
    assert info.value.fingerprint.startswith("cols1:")
    assert not db.exists()
    path = write("q.csv", "sku,name,price,qty,colour\nA,n,1,1,red\n")
    result = run(eng.csv_profile(path, eng.PRODUCT_FIELDS), url)
    assert result.status == RunStatus.COMPLETED
    assert result.warnings == [f"{path}: 1 source columns are not mapped: 'colour'"]
    reordered = write("r.csv", "qty,colour,price,name,sku\n1,red,1,n,A\n")
    again = run(eng.csv_profile(reordered, eng.PRODUCT_FIELDS), url)
    assert again.shape_fingerprint == result.shape_fingerprint
    assert (again.counts.unchanged, again.counts.updated) == (1, 0)
    # A mapped column with a default may be absent.
    fields = [
        *eng.PRODUCT_FIELDS[:3],
        {"target": "quantity", "source": "qty", "default_value": "0"},
    ]
    no_qty = write("s.csv", "sku,name,price\nB,n,1\n")
    assert run(eng.csv_profile(no_qty, fields), url).counts.created == 1


def test_mapping_that_cannot_work_is_rejected_before_reading(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("p.csv", HEADER + "A,n,1,1\n")
    fields = [*eng.PRODUCT_FIELDS, {"target": "price2", "source": "price"}]
    with pytest.raises(MappingError, match="mapping.fields\\[4\\].target"):
        run(eng.csv_profile(path, fields), url)
    assert not db.exists()


def test_each_file_of_a_glob_in_order_and_newest(tmp_path, sqlite_target, eng):
    import os

    url, db = sqlite_target
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, price in enumerate(["1", "2", "3"]):
        f = inbox / f"p{i}.csv"
        f.write_text(HEADER + f"A,n,{price},1\n")
        os.utime(f, (1_700_000_000 + i, 1_700_000_000 + i))
    each = eng.csv_profile(inbox / "*.csv", eng.PRODUCT_FIELDS)
    each.source.selection = 3  # FILE_SELECTION_EACH
    result = run(each, url)
    assert [p.rsplit("/", 1)[-1] for p in result.source_paths] == ["p0.csv", "p1.csv", "p2.csv"]
    assert (result.counts.created, result.counts.updated) == (1, 2)
    assert eng.rows_of(db, "select price from products") == [(3,)]
    newest = eng.csv_profile(inbox / "*.csv", eng.PRODUCT_FIELDS, target={"table": "newest"})
    result = run(newest, url)
    assert [p.rsplit("/", 1)[-1] for p in result.source_paths] == ["p2.csv"]


def test_json_xlsx_and_ndjson_import_the_same_records(tmp_path, sqlite_target, eng):
    import json

    from openpyxl import Workbook

    url, db = sqlite_target
    records = [
        {"sku": "A", "name": "Shirt", "price": "10.5", "qty": 2},
        {"sku": "B", "name": "Hat", "price": 3, "qty": None},
    ]
    (tmp_path / "p.json").write_text(json.dumps({"items": records}))
    (tmp_path / "p.ndjson").write_text("\n".join(json.dumps(r) for r in records))
    book = Workbook()
    book.active.append(["sku", "name", "price", "qty"])
    for r in records:
        book.active.append([r["sku"], r["name"], float(r["price"]), r["qty"]])
    book.save(tmp_path / "p.xlsx")
    results = {}
    for name, fmt in [("p.json", {"records_path": "items"}), ("p.ndjson", {}), ("p.xlsx", {})]:
        profile = eng.csv_profile(
            tmp_path / name,
            eng.PRODUCT_FIELDS,
            format=fmt,
            target={"table": name.replace(".", "_")},
        )
        result = run(profile, url)
        assert result.status == RunStatus.COMPLETED, result.first_error
        results[name] = eng.rows_of(
            db, f"select sku, name, price, quantity from {name.replace('.', '_')} order by sku"
        )
    assert (
        results["p.json"]
        == results["p.ndjson"]
        == results["p.xlsx"]
        == [("A", "Shirt", 10.5, 2), ("B", "Hat", 3, None)]
    )


def test_sql_source(tmp_path, sqlite_target, eng, monkeypatch):
    url, db = sqlite_target
    src = tmp_path / "shop.db"
    con = sqlite3.connect(src)
    con.execute("create table items (code text, title text, cost text, stock int)")
    con.executemany(
        "insert into items values (?,?,?,?)", [("A", "Shirt", "9.99", 3), ("B", "Hat", "1", 0)]
    )
    con.commit()
    con.close()
    monkeypatch.setenv("SHOP_DB", f"sqlite:///{src}")
    profile = eng.make_profile(
        {
            "source": {
                "kind": "SOURCE_KIND_SQL",
                "dsn_ref": "env:SHOP_DB",
                "location": "select code as sku, title as name, cost as price, "
                "stock as qty from items",
            },
            "mapping": {"fields": eng.PRODUCT_FIELDS},
        }
    )
    result = run(profile, url)
    assert result.counts.created == 2
    monkeypatch.delenv("SHOP_DB")
    from ferry_domain.engine import CredentialsError

    with pytest.raises(CredentialsError, match="env:SHOP_DB is not set"):
        run(profile, url)


def test_target_from_secret_reference(write, tmp_path, eng, monkeypatch):
    db = tmp_path / "secret.db"
    monkeypatch.setenv("FERRY_TEST_TARGET", f"sqlite:///{db}")
    path = write("p.csv", HEADER + "A,n,1,1\n")
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS, target={"dsn_ref": "env:FERRY_TEST_TARGET"})
    result = run_profile(profile, dry_run=False, default_target_url="sqlite:////nonexistent/x.db")
    assert result.counts.created == 1
    assert eng.rows_of(db, "select sku from products") == [("A",)]


def test_unchanged_rows_still_obey_first_row_wins_and_mapping_changes(write, sqlite_target, eng):
    url, db = sqlite_target
    path = write("p.csv", HEADER + "A,Shirt,10,1\nB,Hat,2,1\n")
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS)
    run(profile, url)
    # B's second row is identical to what is stored, but the first B row wins.
    write("p.csv", HEADER + "A,Shirt,10,1\nB,Cap,3,1\nB,Hat,2,1\n")
    result = run(profile, url)
    c = result.counts
    assert (c.unchanged, c.updated, c.skipped) == (1, 1, 1)
    assert result.first_skip_reason == "row 3: duplicate key sku='B' in the same file"
    assert eng.rows_of(db, "select name from products where sku = 'B'") == [("Cap",)]
    # The same file through a changed mapping updates every row.
    changed = eng.csv_profile(
        path,
        [
            *eng.PRODUCT_FIELDS[:1],
            {"target": "name", "source": "name", "transforms": [{"name": "upper"}]},
            *eng.PRODUCT_FIELDS[2:],
        ],
    )
    result = run(changed, url, dry_run=True)
    assert (result.counts.updated, result.counts.unchanged) == (2, 0)
    assert run(changed, url).counts.updated == 2
    assert eng.rows_of(db, "select name from products order by sku") == [("SHIRT",), ("CAP",)]


def test_a_batch_larger_than_a_chunk_is_one_transaction(write, sqlite_target, eng):
    """Rows are mapped and upserted 1,000 at a time, but a batch commits
    whole: progress comes per batch, and a failure inside a batch's later
    chunk leaves none of that batch's rows."""
    url, db = sqlite_target
    path = write("p.csv", HEADER + "".join(f"S{i:05d},n,1,1\n" for i in range(5000)))
    seen = []
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS, batch_size=2500)
    result = run(profile, url, on_progress=lambda c: seen.append(c.created))
    assert result.status == RunStatus.COMPLETED
    assert seen == [2500, 5000, 5000]

    # A database error in the second chunk of the second batch.
    con = sqlite3.connect(db)
    con.execute("DELETE FROM products")
    con.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON products WHEN NEW.sku = 'S03700' "
        "BEGIN SELECT RAISE(ABORT, 'no S03700 here'); END"
    )
    con.commit()
    con.close()
    with pytest.raises(Exception, match="no S03700 here") as failed:
        run(profile, url)
    assert failed.value.counts.created == 2500
    assert eng.rows_of(db, "select count(*), max(sku) from products") == [(2500, "S02499")]


def test_threshold_crossed_in_a_later_chunk_rolls_back_the_whole_batch(
    write, sqlite_target, eng
):
    url, db = sqlite_target
    body = HEADER + "".join(f"S{i:05d},n,1,1\n" for i in range(4000))
    body += "X,n,bad,1\n" + "".join(f"T{i:05d},n,1,1\n" for i in range(100))
    path = write("p.csv", body)
    profile = eng.csv_profile(
        path, eng.PRODUCT_FIELDS, batch_size=2500, error_threshold={"max_errors": 0}
    )
    result = run(profile, url)
    assert result.status == RunStatus.FAILED
    assert result.counts.created == 2500
    assert eng.rows_of(db, "select count(*) from products") == [(2500,)]
    # The dry run stops at the same batch with the same counts.
    dry = run(profile, "sqlite:///" + str(db.with_name("empty.db")), dry_run=True)
    assert (dry.status, dry.counts.created, dry.counts.errors) == (RunStatus.FAILED, 2500, 1)


def test_many_rows_are_stored_exactly_whatever_the_statement_grouping(
    write, sqlite_target, eng
):
    """Rows go to SQLite in multi-row INSERTs plus a remainder; every value
    lands in its own row and column, on first import and on a re-import
    that changes every seventh row and adds a few."""
    url, db = sqlite_target

    def body(version: int, n: int) -> str:
        lines = [
            f"S{i:05d},name {i}{'*' if version and i % 7 == 0 else ''},{i}.{i % 100:02d},{i % 13}"
            for i in range(n)
        ]
        return HEADER + "\n".join(lines) + "\n"

    path = write("p.csv", body(0, 1234))
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS)
    first = run(profile, url)
    assert (first.counts.created, first.counts.updated) == (1234, 0)
    write("p.csv", body(1, 1240))
    second = run(profile, url)
    changed = len(range(0, 1234, 7))
    assert (second.counts.created, second.counts.updated, second.counts.unchanged) == (
        6,
        changed,
        1234 - changed,
    )
    stored = eng.rows_of(db, "select sku, name, price, quantity from products order by sku")
    assert len(stored) == 1240
    for i, (sku, name, price, quantity) in enumerate(stored):
        assert sku == f"S{i:05d}"
        assert name == f"name {i}{'*' if i % 7 == 0 else ''}"
        assert (price, quantity) == (float(f"{i}.{i % 100:02d}"), i % 13)


def test_progress_estimates_the_rows_a_file_holds(write, sqlite_target, eng):
    """Each progress report carries rows_total, the expected number of rows
    (for the watch's percentage and ETA): from the share of the file's bytes
    read, so it is close to the truth long before the end, and exact at it."""
    url, _ = sqlite_target
    path = write("p.csv", HEADER + "".join(f"S{i:06d},name,1.00,1\n" for i in range(30000)))
    totals: list[tuple[int, int]] = []
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS, batch_size=5000)
    result = run(profile, url, on_progress=lambda c: totals.append((c.rows_read, c.rows_total)))
    assert result.status == RunStatus.COMPLETED
    assert [read for read, _ in totals[:6]] == [5000, 10000, 15000, 20000, 25000, 30000]
    for read, total in totals:
        assert 0.9 * 30000 <= total <= 1.1 * 30000, (read, total)
    assert totals[-1] == (30000, 30000)
    # Outcome counts compare without it.
    assert result.counts == type(result.counts)(**{**result.counts.__dict__, "rows_total": 7})
