"""Generators of malformed and hostile source files, and a runner for one case.

Every generator takes a folder and returns ``(path, format_kind, options)``
where ``options`` may hold ``encoding``, ``records_path``, ``selection``.
Big files are made cheaply: sparse files with ``os.truncate``, bombs from
one compressed block repeated (gzip members; deflate blocks after a full
flush are byte-aligned and independent, so they can be concatenated).

``run_case(name, folder, target_url)`` runs the engine on one case and
returns a JSON-able outcome; ``python -m tests.faults.hostile_files NAME
FOLDER TARGET`` does it in a child process and adds its peak RSS, so
memory-heavy cases are measured alone.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ferry.v1 import profile_pb2

from tests.faults import hostile_workbooks

HEADER = "sku,name,price,quantity\n"
MIB = 1 << 20
GIB = 1 << 30

Case = tuple[Path, int, dict[str, str]]
CSV = profile_pb2.FORMAT_KIND_CSV
JSON = profile_pb2.FORMAT_KIND_JSON
NDJSON = profile_pb2.FORMAT_KIND_NDJSON
XLSX = profile_pb2.FORMAT_KIND_XLSX
ANY = profile_pb2.FORMAT_KIND_UNSPECIFIED


def rows(n: int, start: int = 1) -> str:
    return "".join(f"SKU-{i:06d},Product {i},{i}.50,{i % 50}\n" for i in range(start, start + n))


def good_csv(d: Path, n: int = 20) -> Case:
    path = d / "good.csv"
    path.write_text(HEADER + rows(n))
    return path, CSV, {}


# -- text and CSV ---------------------------------------------------------------------

def empty(d: Path) -> Case:
    (d / "empty.csv").write_bytes(b"")
    return d / "empty.csv", CSV, {}


def header_only(d: Path) -> Case:
    (d / "header.csv").write_text(HEADER)
    return d / "header.csv", CSV, {}


def binary_garbage(d: Path) -> Case:
    (d / "garbage.csv").write_bytes(os.urandom(256 * 1024))
    return d / "garbage.csv", CSV, {}


def cp1252_declared_utf8(d: Path) -> Case:
    # The bad byte after the 64 KB detection sample and after two batches.
    text = HEADER + rows(3000) + "SKU-X,Caf\xe9 cr\xe8me,1.00,1\n" + rows(10, 5000)
    (d / "cp1252.csv").write_bytes(text.encode("cp1252"))
    return d / "cp1252.csv", CSV, {"encoding": "utf-8"}


def utf8_declared_cp1252(d: Path) -> Case:
    (d / "utf8.csv").write_bytes((HEADER + "SKU-1,Café,1.00,1\n").encode("utf-8"))
    return d / "utf8.csv", CSV, {"encoding": "cp1252"}


def invalid_utf8(d: Path) -> Case:
    data = (HEADER + rows(3000)).encode() + b"SKU-Y,bad \xff\xfe bytes,1,1\n"
    (d / "invalid.csv").write_bytes(data)
    return d / "invalid.csv", CSV, {"encoding": "utf-8"}


def unbalanced_quote(d: Path) -> Case:
    (d / "quote.csv").write_text(HEADER + rows(3) + 'SKU-Q,"never closed,1,1\n' + rows(3, 10))
    return d / "quote.csv", CSV, {}


def single_line_100mb(d: Path) -> Case:
    path = d / "oneline.csv"
    with path.open("wb") as out:
        out.write(b"sku,name,price,quantity,")
        chunk = b"x" * MIB
        for _ in range(100):
            out.write(chunk)
    return path, CSV, {}


def huge_field(d: Path) -> Case:
    field = "y" * (5 * MIB)
    (d / "field.csv").write_text(HEADER + rows(2) + f'SKU-F,"{field}",1,1\n')
    return d / "field.csv", CSV, {}


def duplicate_headers(d: Path) -> Case:
    (d / "dup.csv").write_text("sku,name,price,quantity,name\n" +
                               "".join(f"SKU-{i},N{i},1,1,Other{i}\n" for i in range(5)))
    return d / "dup.csv", CSV, {}


def ten_thousand_columns(d: Path) -> Case:
    header = ["sku", "name", "price", "quantity"] + [f"c{i}" for i in range(9996)]
    (d / "wide.csv").write_text(",".join(header) + "\n" + ",".join(["S1", "N", "1", "1"] +
                                                                   ["v"] * 9996) + "\n")
    return d / "wide.csv", CSV, {}


def blank_header_names(d: Path) -> Case:
    (d / "blank.csv").write_text("sku,name,,price,quantity, \nS1,N1,x,1,1,y\nS2,N2,x,2,2,y\n")
    return d / "blank.csv", CSV, {}


def ragged_rows(d: Path) -> Case:
    (d / "ragged.csv").write_text(HEADER + "S1,N1,1,1,extra,cells\nS2,N2\nS3,N3,3,3\nS4\n")
    return d / "ragged.csv", CSV, {}


def nul_bytes(d: Path) -> Case:
    data = (HEADER + rows(3000)).encode() + b"SKU-N,na\x00me,1,1\n"
    (d / "nul.csv").write_bytes(data)
    return d / "nul.csv", CSV, {}


def bom_in_the_middle(d: Path) -> Case:
    (d / "bom.csv").write_text("\ufeff" + HEADER + "S1,N1,1,1\n\ufeffS2,N2,2,2\n",
                               encoding="utf-8")
    return d / "bom.csv", CSV, {}


def mixed_line_endings(d: Path) -> Case:
    (d / "endings.csv").write_bytes(b"sku,name,price,quantity\r\nS1,N1,1,1\nS2,N2,2,2\r"
                                    b"S3,N3,3,3\r\nS4,N4,4,4")
    return d / "endings.csv", CSV, {}


def csv_injection(d: Path) -> Case:
    (d / "inject.csv").write_text(HEADER + "S1,=cmd|' /C calc'!A0,1,1\nS2,+SUM(A1:A9),2,2\n"
                                  "S3,@HYPERLINK(\"http://x\"),3,3\nS4,-2+3,4,4\n")
    return d / "inject.csv", CSV, {}


def sparse_6gib(d: Path) -> Case:
    path = d / "huge.csv"
    path.write_text(HEADER)
    os.truncate(path, 6 * GIB)
    return path, CSV, {}


# -- compression ----------------------------------------------------------------------

def truncated_gzip(d: Path) -> Case:
    data = gzip.compress((HEADER + rows(20000)).encode())
    (d / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    return d / "cut.csv.gz", CSV, {}


def corrupt_gzip(d: Path) -> Case:
    data = bytearray(gzip.compress((HEADER + rows(20000)).encode()))
    data[200:260] = b"\x00" * 60
    (d / "corrupt.csv.gz").write_bytes(bytes(data))
    return d / "corrupt.csv.gz", CSV, {}


def gzip_bomb(d: Path) -> Case:
    """~6 MB of gzip members inflating to 2 GiB of 1 MB lines."""
    member = gzip.compress((b"a" * (MIB - 1) + b"\n") * 64, compresslevel=9)
    path = d / "bomb.csv.gz"
    with path.open("wb") as out:
        out.write(gzip.compress(HEADER.encode()))
        for _ in range(32):
            out.write(member)
    return path, CSV, {}


def _deflate_repeated(block_bytes: int, copies: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``copies`` x ``block_bytes`` of b"a", and its length."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(b"a" * block_bytes) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return block * copies + end, block_bytes * copies


def _zip_one(path: Path, name: str, deflated: bytes, size: int, crc: int = 0) -> None:
    """A zip with one deflated member written by hand (no 2 GiB pass to make it)."""
    fname = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated),
                        size, len(fname), 0) + fname
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(deflated), size, len(fname), 0, 0, 0, 0, 0, 0) + fname
    with path.open("wb") as out:
        out.write(local)
        out.write(deflated)
        offset = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0))


def zip_bomb(d: Path) -> Case:
    deflated, size = _deflate_repeated(64 * MIB, 32)  # 2 GiB from ~4 MB
    path = d / "bomb.zip"
    _zip_one(path, "products.csv", deflated, size)
    return path, CSV, {}


def zip_bomb_small_declared(d: Path) -> Case:
    """The header claims 1 MB; the data would inflate to 2 GiB."""
    deflated, _size = _deflate_repeated(64 * MIB, 32)
    path = d / "liar.zip"
    _zip_one(path, "products.csv", deflated, MIB)
    return path, CSV, {}


def zip_many_members(d: Path) -> Case:
    path = d / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(2000):
            archive.writestr(f"part-{i}.csv", HEADER)
    return path, CSV, {}


def zip_no_members(d: Path) -> Case:
    path = d / "none.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("folder/", "")
    return path, ANY, {"format": "csv", "compression": "zip"}


def zip_not_a_zip(d: Path) -> Case:
    (d / "fake.zip").write_bytes(b"PK\x03\x04" + os.urandom(1000))
    return d / "fake.zip", CSV, {}


# -- spreadsheets ---------------------------------------------------------------------

def xlsx_formulas(d: Path) -> Case:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "name", "price", "quantity"])
    sheet.append(["S1", "Formula row", "=1+1", 3])
    sheet.append(["S2", '=HYPERLINK("http://evil.example","click")', 5, "=A1"])
    path = d / "formulas.xlsx"
    book.save(path)
    return path, XLSX, {}


def xlsx_not_a_zip(d: Path) -> Case:
    (d / "fake.xlsx").write_text(HEADER + rows(3))
    return d / "fake.xlsx", XLSX, {}


# -- JSON, NDJSON, XML ----------------------------------------------------------------

def json_deep(d: Path) -> Case:
    (d / "deep.json").write_text('[{"sku": "S1", "name": ' + "[" * 10000 + "]" * 10000 + "}]")
    return d / "deep.json", JSON, {}


def json_huge_string(d: Path) -> Case:
    path = d / "string.json"
    with path.open("w") as out:
        out.write('[{"sku": "S1", "name": "')
        chunk = "z" * MIB
        for _ in range(50):
            out.write(chunk)
        out.write('", "price": "1", "quantity": "1"}]')
    return path, JSON, {}


def json_truncated(d: Path) -> Case:
    text = json.dumps([{"sku": f"S{i}", "name": f"N{i}", "price": "1", "quantity": 1}
                       for i in range(100)])
    (d / "cut.json").write_text(text[: len(text) - 40])
    return d / "cut.json", JSON, {}


def ndjson_bad_line(d: Path) -> Case:
    lines = [json.dumps({"sku": f"S{i}", "name": f"N{i}", "price": "1", "quantity": 1})
             for i in range(5)]
    lines.insert(3, '{"sku": "S-bad", "name": ')
    (d / "bad.ndjson").write_text("\n".join(lines) + "\n")
    return d / "bad.ndjson", NDJSON, {}


def json_records_path_missing(d: Path) -> Case:
    (d / "wrapped.json").write_text(json.dumps(
        {"data": {"items": [{"sku": "S1", "name": "N1", "price": "1", "quantity": 1}]}}))
    return d / "wrapped.json", JSON, {"records_path": "data.products"}


def xml_external_entity(d: Path) -> Case:
    secret = d / "secret.txt"
    secret.write_text("TOP-SECRET-XXE-CONTENT\n")
    (d / "xxe.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE items [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<items><item><sku>S1</sku><name>&xxe;</name><price>1</price>"
        "<quantity>1</quantity></item></items>\n")
    return d / "xxe.xml", ANY, {"format": "xml"}


def xml_billion_laughs(d: Path) -> Case:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    (d / "laughs.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE items [' + "".join(entities) + "]>\n"
        "<items><item><sku>S1</sku><name>&l9;</name><price>1</price>"
        "<quantity>1</quantity></item></items>\n")
    return d / "laughs.xml", ANY, {"format": "xml"}


# -- the file system ------------------------------------------------------------------

def directory_single(d: Path) -> Case:
    folder = d / "folder.csv"
    folder.mkdir()
    return folder, CSV, {"selection": "single"}


def empty_directory(d: Path) -> Case:
    folder = d / "nothing"
    folder.mkdir()
    return folder, CSV, {}


def fifo(d: Path) -> Case:
    path = d / "pipe.csv"
    os.mkfifo(path)
    return path, CSV, {}


def unreadable(d: Path) -> Case:
    path = d / "locked.csv"
    path.write_text(HEADER + rows(3))
    path.chmod(0)
    return path, CSV, {}


def missing_file(d: Path) -> Case:
    return d / "does-not-exist.csv", CSV, {}


GENERATORS: dict[str, Callable[[Path], Case]] = {
    fn.__name__: fn for fn in (
        empty, header_only, binary_garbage, cp1252_declared_utf8, utf8_declared_cp1252,
        invalid_utf8, unbalanced_quote, single_line_100mb, huge_field, duplicate_headers,
        ten_thousand_columns, blank_header_names, ragged_rows, nul_bytes, bom_in_the_middle,
        mixed_line_endings, csv_injection, sparse_6gib, truncated_gzip, corrupt_gzip,
        gzip_bomb, zip_bomb, zip_bomb_small_declared, zip_many_members, zip_no_members,
        zip_not_a_zip, xlsx_formulas, xlsx_not_a_zip, json_deep, json_huge_string,
        json_truncated, ndjson_bad_line, json_records_path_missing, xml_external_entity,
        xml_billion_laughs, directory_single, empty_directory, fifo, unreadable,
        missing_file)
}
GENERATORS.update(hostile_workbooks.GENERATORS)


def profile_for(name: str, path: Path, kind: int, options: dict[str, str],
                batch_size: int = 1000) -> profile_pb2.Profile:
    fmt = profile_pb2.Format(kind=kind, encoding=options.get("encoding", ""),
                             records_path=options.get("records_path", ""))
    if options.get("compression") == "zip":
        fmt.compression = profile_pb2.COMPRESSION_ZIP
    source = profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location=str(path),
                                format=fmt)
    if "format" in options:
        source.options["format"] = options["format"]
    if options.get("selection") == "single":
        source.selection = profile_pb2.FILE_SELECTION_SINGLE
    return profile_pb2.Profile(
        name=name, entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=source,
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target=c, source=c)
            for c in ("sku", "name", "price", "quantity")]),
        target=profile_pb2.Target(kind=profile_pb2.TARGET_KIND_SQL),
        error_threshold=profile_pb2.ErrorThreshold(max_errors=-1),
        batch_size=batch_size)


def target_count(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("products"):
                return 0
            return int(conn.execute(sa.text("SELECT count(*) FROM products")).scalar_one())
    finally:
        engine.dispose()


def run_case(name: str, folder: Path, target_url: str) -> dict[str, Any]:
    """Run the engine on one generated case; never raises for engine errors."""
    from ferry_domain.engine import EngineError, run_profile

    folder.mkdir(parents=True, exist_ok=True)
    path, kind, options = GENERATORS[name](folder)
    profile = profile_for(name, path, kind, options)
    outcome: dict[str, Any] = {"case": name}
    try:
        result = run_profile(profile, dry_run=False, default_target_url=target_url)
    except EngineError as exc:
        counts = exc.counts
        outcome.update(raised=type(exc).__name__, error_class=exc.error_class.name,
                       message=exc.message,
                       committed=(counts.created + counts.updated + counts.unchanged)
                       if counts is not None else 0)
    else:
        outcome.update(status=result.status.name, rows_read=result.counts.rows_read,
                       created=result.counts.created, errors=result.counts.errors,
                       skipped=result.counts.skipped, warnings=list(result.warnings),
                       first_error=str(result.first_error.message) if result.first_error
                       else "", first_skip=result.first_skip_reason,
                       committed=result.counts.created + result.counts.updated
                       + result.counts.unchanged)
    outcome["target_rows"] = target_count(target_url)
    return outcome


def main(argv: list[str]) -> int:
    name, folder, target = argv
    outcome = run_case(name, Path(folder), target)
    outcome["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.write(json.dumps(outcome) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
