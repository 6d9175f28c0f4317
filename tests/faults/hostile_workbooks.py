"""Hostile XLSX workbooks, written by hand as zip files (no spreadsheet
library would write them): a zip bomb sheet, a huge declared dimension,
two cells far apart under a small declared dimension, cells without
references."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from ferry.v1 import profile_pb2

MIB = 1 << 20
XLSX = profile_pb2.FORMAT_KIND_XLSX
Case = tuple[Path, int, dict[str, str]]

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_BOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
    '</Relationships>')


def _book(sheet: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
            f'xmlns:r="{_R}"><sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/>'
            '</sheets></workbook>')


def sheet_xml(data: str, dimension: str = "") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}'
            f"<sheetData>{data}</sheetData></worksheet>").encode()


def cells(row: int, values: list[str]) -> str:
    """One row of inline strings from column A (values may be empty: skipped)."""
    out = []
    for i, value in enumerate(values):
        if value:
            ref = f"{chr(65 + i)}{row}"
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
    return f'<row r="{row}">{"".join(out)}</row>'


def write_workbook(path: Path, sheet: bytes | list[bytes], name: str = "Products",
                   extra: dict[str, bytes] | None = None) -> Path:
    """An XLSX with one sheet; ``sheet`` as one XML or as chunks streamed in;
    ``extra`` parts as they are."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _book(name))
        archive.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for chunk in [sheet] if isinstance(sheet, bytes) else sheet:
                member.write(chunk)
        for part, data in (extra or {}).items():
            archive.writestr(part, data)
    return path


def declare_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size ``member``'s headers declare (local and
    central), as a hostile writer would."""
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(member).header_offset
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, offset + 22, size)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46:at + 46 + length] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 46)
    path.write_bytes(bytes(data))


HEADER = cells(1, ["sku", "name", "price", "quantity"])
ONE_ROW = cells(2, ["S1", "Shirt", "10", "3"])


def xlsx_bomb(d: Path) -> Case:
    """A sheet inflating to 80 MiB of blanks from about 80 KB."""
    head = sheet_xml(HEADER + ONE_ROW)
    at = head.index(b"<sheetData>")
    blanks = [b" " * MIB] * 80
    path = write_workbook(d / "bomb.xlsx", [head[:at], *blanks, head[at:]])
    return path, XLSX, {}


def xlsx_huge_dimension(d: Path) -> Case:
    """Declares every cell of a sheet (17 billion) and holds two rows."""
    xml = sheet_xml(HEADER + ONE_ROW, dimension="A1:XFD1048576")
    return write_workbook(d / "huge_dimension.xlsx", xml), XLSX, {}


def xlsx_far_cells(d: Path) -> Case:
    """Declares A1:D2, and hides one cell at XFD1048576: the grid from A1
    to it would hold 17 billion cells."""
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    xml = sheet_xml(HEADER + ONE_ROW + far, dimension="A1:D2")
    return write_workbook(d / "far_cells.xlsx", xml), XLSX, {}


GENERATORS = {fn.__name__: fn for fn in (xlsx_bomb, xlsx_huge_dimension, xlsx_far_cells)}
