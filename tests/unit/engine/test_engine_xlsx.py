"""The XLSX reader (python-calamine): cell types, positions, the sheet's
extent checked before it is loaded, and the cell limit."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from ferry.v1 import profile_pb2
from ferry_domain.engine import PermanentSourceError, run_profile
from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.formats.dispatch import open_records
from ferry_domain.engine.formats.xlsx_guard import check_workbook
from ferry_domain.engine.limits import SourceLimits
from openpyxl import Workbook

from tests.faults import hostile_files as hf
from tests.faults import hostile_workbooks as hw
from tests.faults.hostile_files import MIB


def _read(path: Path, **fmt):  # type: ignore[no-untyped-def]
    with open(path, "rb") as handle:
        stream = open_records(handle, str(path), profile_pb2.Format(**fmt), {})
        try:
            return stream.columns, list(stream.rows), stream.rows_total
        finally:
            stream.close()


def test_cells_have_the_types_the_engine_expects(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "price", "qty", "day", "at", "active", "opens", "note"])
    sheet.append(["A", 1.5, 3, date(2024, 5, 6), datetime(2024, 5, 6, 7, 8, 9), True,
                  time(9, 30), None])
    sheet.append(["B", 2.0, -4, None, None, False, None, "x"])
    path = tmp_path / "types.xlsx"
    book.save(path)
    columns, rows, total = _read(path)
    assert columns == ["sku", "price", "qty", "day", "at", "active", "opens", "note"]
    assert rows == [
        ["A", Decimal("1.5"), 3, datetime(2024, 5, 6), datetime(2024, 5, 6, 7, 8, 9), True,
         time(9, 30), None],
        ["B", 2, -4, None, None, False, None, "x"],
    ]
    assert type(rows[1][1]) is int and type(rows[0][5]) is bool
    assert total == 2


def test_positions_start_at_a1_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet["B1"], sheet["C1"] = "sku", "name"
    sheet["B2"], sheet["C2"] = "S1", "Shirt"
    sheet["B4"] = "S2"
    path = tmp_path / "offset.xlsx"
    book.save(path)
    columns, rows, total = _read(path)
    assert columns == ["column_1", "sku", "name"]
    assert rows == [[None, "S1", "Shirt"], [None, "S2", None]]
    assert total == 3  # rows 2 to 4, the blank one included (progress estimate)
    columns, rows, _ = _read(path, header=False)
    assert columns == ["column_1", "column_2", "column_3"]
    assert rows[0] == [None, "sku", "name"] and len(rows) == 3


def test_empty_sheet_and_first_worksheet(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Empty"
    book.create_sheet("Second").append(["sku"])
    path = tmp_path / "empty.xlsx"
    book.save(path)
    assert _read(path) == ([], [], 0)
    assert _read(path, sheet="Second") == (["sku"], [], 0)


def test_the_cell_limit_counts_rows_times_columns(tmp_path: Path) -> None:
    book = Workbook()
    for i in range(3):
        book.active.append([f"S{i}", "n", 1, 2])
    path = tmp_path / "small.xlsx"
    book.save(path)
    with source_limits.using(SourceLimits(max_sheet_cells=12)):
        assert len(_read(path)[1]) == 2
    with source_limits.using(SourceLimits(max_sheet_cells=11)), pytest.raises(
            PermanentSourceError,
            match=r"small.xlsx: sheet 'Sheet' declares 3 rows x 4 columns = 12 cells, above "
                  r"the limit of 11 \(FERRY_MAX_SHEET_CELLS\)"):
        _read(path)
    with source_limits.using(SourceLimits(max_sheet_cells=0)):  # 0: unlimited
        assert len(_read(path)[1]) == 2


def test_the_cell_limit_comes_from_run_profile(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["sku", "name", "price", "quantity"])
    book.active.append(["S1", "Shirt", 10, 3])
    path = tmp_path / "p.xlsx"
    book.save(path)
    profile = hf.profile_for("p", path, hf.XLSX, {})
    target = f"sqlite:///{tmp_path / 't.db'}"
    assert run_profile(profile, dry_run=True, default_target_url=target).counts.rows_read == 1
    with pytest.raises(PermanentSourceError, match="FERRY_MAX_SHEET_CELLS"):
        run_profile(profile, dry_run=True, default_target_url=target,
                    limits=SourceLimits(max_sheet_cells=7))


def test_hostile_workbooks_are_refused_before_loading(tmp_path: Path) -> None:
    for make, message in [
        (hw.xlsx_huge_dimension, "declares 1048576 rows x 16384 columns = 17179869184 cells"),
        (hw.xlsx_far_cells, "reaches 1048576 rows x 16384 columns"),
        (hw.xlsx_bomb, "declares compression ratio above 200:1"),
    ]:
        path, _kind, _options = make(tmp_path)
        with pytest.raises(PermanentSourceError, match=message):
            _read(path)


def test_a_part_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    # The shared strings are read by calamine itself: they are inflated once
    # before, so a header that understates them cannot hide a bomb.
    strings = b'<sst xmlns="' + hw.MAIN.encode() + b'">' + b" " * MIB + b"</sst>"
    path = hw.write_workbook(tmp_path / "liar.xlsx", hw.sheet_xml(hw.HEADER + hw.ONE_ROW),
                             extra={"xl/sharedStrings.xml": strings})
    assert len(_read(path)[1]) == 1
    hw.declare_size(path, "xl/sharedStrings.xml", 1000)
    with pytest.raises(PermanentSourceError,
                       match=r"not a readable XLSX workbook \(Bad CRC-32 for file "
                             r"'xl/sharedStrings.xml'\)"):
        _read(path)


def test_decompressed_size_limit_applies_to_the_workbook(tmp_path: Path) -> None:
    rows = "".join(hw.cells(i, [f"S{i}", "name " * 50]) for i in range(2, 2000))
    path = hw.write_workbook(tmp_path / "big.xlsx", hw.sheet_xml(hw.HEADER + rows))
    assert len(_read(path)[1]) == 1998
    with source_limits.using(SourceLimits(max_decompressed_bytes=100_000)), pytest.raises(
            PermanentSourceError, match="FERRY_MAX_DECOMPRESSED_BYTES"):
        _read(path)


def _unreferenced(values: list[str]) -> str:
    """A row without r=, its cells without r= (placed one after another)."""
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' if v else "<c/>"
                    for v in values)
    return f"<row>{cells}</row>"


def _prefixed(xml: bytes) -> bytes:
    for tag in (b"worksheet", b"dimension", b"sheetData", b"row", b"c", b"is", b"t"):
        for opening in (b" ", b">", b"/>"):
            xml = xml.replace(b"<" + tag + opening, b"<x:" + tag + opening)
        xml = xml.replace(b"</" + tag + b">", b"</x:" + tag + b">")
    return xml.replace(b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x=")


FAR_ROW = hw.cells(5, ["S2", "", "", "", "", "far"])  # reaches F5
SHEETS = {
    "other attribute order": (hw.sheet_xml(
        (hw.HEADER + FAR_ROW).replace('<c r="', '<c t="inlineStr" r="').replace(
            '" t="inlineStr"><is>', '"><is>')), 5, 6, 1),
    "rows and cells without r=": (hw.sheet_xml(
        hw.HEADER + _unreferenced(["S2", "", "x"]) + _unreferenced(["S3", "", "", "", "far"])),
        3, 5, 2),
    "prefixed tags": (_prefixed(hw.sheet_xml(hw.HEADER + FAR_ROW, dimension="A1:F5")), 5, 6, 1),
}


@pytest.mark.parametrize("variant", list(SHEETS))
def test_extent_of_sheets_the_fast_scan_does_not_read(tmp_path: Path, variant: str) -> None:
    xml, rows, columns, data_rows = SHEETS[variant]
    path = hw.write_workbook(tmp_path / "odd.xlsx", xml)
    with open(path, "rb") as handle:
        extent = check_workbook(handle, "odd.xlsx")
    assert (extent.sheet, extent.rows, extent.columns) == ("Products", rows, columns)
    assert len(_read(path)[1]) == data_rows
    with source_limits.using(SourceLimits(max_sheet_cells=rows * columns - 1)), \
            pytest.raises(PermanentSourceError, match="FERRY_MAX_SHEET_CELLS"):
        _read(path)


def test_a_workbook_inside_a_zip(tmp_path: Path) -> None:
    import zipfile

    book = Workbook()
    book.active.append(["sku", "qty"])
    book.active.append(["A", 1])
    book.save(tmp_path / "p.xlsx")
    wrapped = tmp_path / "delivery.zip"
    with zipfile.ZipFile(wrapped, "w") as archive:
        archive.write(tmp_path / "p.xlsx", "export/p.xlsx")
        archive.writestr("readme.txt", "hello")
    assert _read(wrapped, member="*.xlsx") == (["sku", "qty"], [["A", 1]], 1)
