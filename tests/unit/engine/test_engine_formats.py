"""Every source format and encoding, read through a real import into SQLite."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from ferry.v1 import profile_pb2
from ferry_domain.engine import PermanentSourceError, run_profile
from ferry_domain.engine.formats.dispatch import open_records
from ferry_domain.engine.formats.encoding import detect_encoding
from ferry_domain.runs.states import ErrorClass
from openpyxl import Workbook

from tests.support import SAMPLES


def _read(path: Path, **fmt) -> tuple[list[str], list]:
    with open(path, "rb") as handle:
        options = fmt.pop("options", {})
        stream = open_records(handle, str(path), profile_pb2.Format(**fmt), options)
        try:
            return stream.columns, [list(r) if isinstance(r, list) else r for r in stream.rows]
        finally:
            stream.close()


def test_csv_quoting_embedded_newlines_and_short_rows(write):
    path = write(
        "a.csv",
        'sku,name,price\n1,"Shirt, blue",10\n2,"Two\nlines ""quoted""",\n3,short\n\n',
    )
    columns, rows = _read(path)
    assert columns == ["sku", "name", "price"]
    assert rows == [
        ["1", "Shirt, blue", "10"],
        ["2", 'Two\nlines "quoted"', ""],
        ["3", "short", ""],
    ]


def test_csv_delimiter_guessed_and_given_and_no_header(write):
    path = write("semi.csv", "sku;name\nA;x\n")
    assert _read(path) == (["sku", "name"], [["A", "x"]])
    path = write("pipe.txt", "A|x\nB|y\n")
    cols, rows = _read(path, kind=profile_pb2.FORMAT_KIND_CSV, delimiter="|", header=False)
    assert cols == ["column_1", "column_2"]
    assert rows == [["A", "x"], ["B", "y"]]


def test_tsv_and_custom_quote(write):
    path = write("a.tsv", "sku\tname\nA\t'x\ty'\n")
    cols, rows = _read(path, quote_char="'")
    assert rows == [["A", "x\ty"]]


def test_utf8_bom_is_stripped_from_first_header(write):
    path = write("bom.csv", "\ufeffsku,name\nA,Café\n")
    cols, rows = _read(path)
    assert cols == ["sku", "name"]
    assert rows == [["A", "Café"]]


def test_windows_1252_is_detected(write):
    text = "sku,name\n" + "".join(f"S{i},Café crème – 5 €\n" for i in range(20))
    path = write("win.csv", text, encoding="cp1252")
    assert detect_encoding(path.read_bytes()) == "cp1252"
    cols, rows = _read(path)
    assert rows[0] == ["S0", "Café crème – 5 €"]


def test_declared_encoding_is_used(write):
    path = write("l1.csv", "sku,name\nA,Ä\n", encoding="latin-1")
    assert _read(path, encoding="latin-1")[1] == [["A", "Ä"]]


def test_json_array_and_records_path_flatten_nested(write):
    path = write("a.json", json.dumps([{"sku": "A", "stock": {"qty": 3}}, {"sku": "B"}]))
    cols, rows = _read(path)
    assert cols == ["sku", "stock.qty"]
    assert rows == [{"sku": "A", "stock.qty": 3}, {"sku": "B"}]
    path = write("b.json", json.dumps({"data": {"items": [{"sku": "C"}]}}))
    assert _read(path, records_path="data.items")[1] == [{"sku": "C"}]


def test_ndjson_skips_blank_lines(write):
    path = write("a.ndjson", '{"sku": "A"}\n\n{"sku": "B", "x": 1}\n')
    cols, rows = _read(path)
    assert cols == ["sku", "x"]
    assert [r["sku"] for r in rows] == ["A", "B"]


def test_xlsx_sheet_by_name(tmp_path):
    book = Workbook()
    book.active.title = "Other"
    book.active.append(["ignored"])
    sheet = book.create_sheet("Products")
    sheet.append(["sku", "price", "qty"])
    sheet.append(["A", 1.5, 3])
    sheet.append([None, None, None])
    sheet.append(["B", 2, None])
    path = tmp_path / "p.xlsx"
    book.save(path)
    cols, rows = _read(path, sheet="Products")
    assert cols == ["sku", "price", "qty"]
    assert [r[0] for r in rows] == ["A", "B"]
    assert str(rows[0][1]) == "1.5" and rows[0][2] == 3
    with pytest.raises(PermanentSourceError, match="no sheet named 'Missing'"):
        _read(path, sheet="Missing")


def test_gzip_and_zip(tmp_path):
    gz = tmp_path / "a.csv.gz"
    gz.write_bytes(gzip.compress(b"sku,name\nA,x\n"))
    assert _read(gz) == (["sku", "name"], [["A", "x"]])
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as archive:
        archive.writestr("export/products.csv", "sku,name\nB,y\n")
        archive.writestr("readme.txt", "hello")
    assert _read(zpath, member="*.csv")[1] == [["B", "y"]]
    with pytest.raises(PermanentSourceError, match="zip has 2 members"):
        _read(zpath)


def test_xml_rss_items_with_namespaces(tmp_path):
    sample = SAMPLES / "google_merchant_feed.xml"
    cols, rows = _read(sample)
    assert "g:id" in cols and "g:shipping.g:price" in cols
    assert rows[0]["g:price"] == "39.99 PLN"
    assert rows[0]["g:shipping.g:price"] == "12 PLN"
    assert rows[0]["g:additional_image_link"] == [
        "https://www.google.pl/1/2.jpg",
        "https://www.google.pl/1/3.jpg",
    ]
    assert "g:sale_price" not in rows[1]
    assert rows[1]["g:material"] == "skóra ekologiczna"


def test_xml_chosen_by_option_with_records_path(write):
    path = write("feed.data", "<root><p><sku>A</sku></p><p><sku>B</sku></p></root>")
    cols, rows = _read(path, options={"format": "xml"}, records_path="p")
    assert rows == [{"sku": "A"}, {"sku": "B"}]


# -- malformed files: a clear error naming the row, line or byte ---------------


def test_unbalanced_quote_names_row_and_line(write):
    path = write("bad.csv", 'sku,name\nA,ok\nB,"never closed\nC,x\n')
    with pytest.raises(PermanentSourceError, match=r"row 2 \(line \d+\): unbalanced quote"):
        _read(path)


def test_wrong_encoding_names_byte_offset(write):
    body = ("sku,name\n" + "A,plain\n" * 3).encode() + "B,Café\n".encode("cp1252")
    path = write("enc.csv", body)
    offset = body.index(b"\xe9")
    with pytest.raises(PermanentSourceError, match=f"byte 0xe9 at byte offset {offset}"):
        _read(path, encoding="utf-8")


def test_wrong_encoding_beyond_the_detection_sample(write):
    head = b"sku,name\n" + b"A,plain ascii row\n" * 5000
    body = head + "B,Café\n".encode("cp1252")
    path = write("late.csv", body)
    with pytest.raises(PermanentSourceError, match=f"0xe9 at byte offset {len(head) + 5} "):
        _read(path)


def test_binary_file_names_nul_offset(write):
    path = write("img.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(PermanentSourceError, match="NUL byte at byte offset 8"):
        _read(path)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(b"sku,name\n" + b"A,xxxxxxxx\n" * 20000)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PermanentSourceError, match="gzip data is truncated"):
        _read(path)


def test_invalid_json_and_ndjson(write):
    with pytest.raises(PermanentSourceError, match="invalid JSON after record 1"):
        _read(write("bad.json", '[{"sku": "A"}, {"sku": '))
    with pytest.raises(PermanentSourceError, match=r"line 2 \(byte offset 21\)"):
        _read(write("bad.ndjson", '{"sku": "A"}\n{"sku": B}\n'))


def test_not_a_workbook(write):
    with pytest.raises(PermanentSourceError, match="not a readable XLSX"):
        _read(write("x.xlsx", b"PK\x03\x04 not really"))


def test_malformed_file_mid_run_keeps_only_committed_batches(write, sqlite_target, eng):
    url, db = sqlite_target
    good = "".join(f"S{i},n,1,1\n" for i in range(25))
    path = write("mid.csv", "sku,name,price,qty\n" + good + 'S99,"open\n')
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS, batch_size=10)
    with pytest.raises(PermanentSourceError, match="row 26") as info:
        run_profile(profile, dry_run=False, default_target_url=url)
    assert info.value.counts.created == 20  # two committed batches of 10
    assert eng.rows_of(db, "select count(*) from products") == [(20,)]
    assert info.value.error_class == ErrorClass.PERMANENT


def test_unknown_format_is_a_clear_error(write, sqlite_target, eng):
    url, _ = sqlite_target
    path = write("data.bin", "sku\nA\n")
    profile = eng.csv_profile(path, eng.PRODUCT_FIELDS[:2])
    with pytest.raises(PermanentSourceError, match="cannot tell the format"):
        run_profile(profile, dry_run=True, default_target_url=url)


def test_gzip_stream_reader_is_streaming(tmp_path):
    # A large gzip member decodes lazily: reading the header needs no full pass.
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"sku,name\n")
        for i in range(200000):
            out.write(b"S%d,name\n" % i)
    with open(path, "rb") as handle:
        stream = open_records(handle, str(path), profile_pb2.Format(), {})
        assert stream.columns == ["sku", "name"]
        first = next(iter(stream.batches(5)))
        assert first[0] == ["S0", "name"]
        stream.close()


def test_malformed_xml_names_line_and_column(write):
    path = write("bad.xml", "<rss><channel>\n<item><id>1</id></item>\n<item><id>2</id>\n</rss>")
    with pytest.raises(PermanentSourceError, match=r"malformed XML at line 4, column 2"):
        _read(path)
