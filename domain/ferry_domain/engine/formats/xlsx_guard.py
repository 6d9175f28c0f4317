"""Checks on an XLSX workbook before its sheet is loaded whole.

The XLSX reader (python-calamine) holds a whole sheet in memory, as a grid
from its first to its last used cell. Before it opens the workbook:

- every zip header is checked against the decompression limits
  (``max_decompressed_bytes`` for the members' total, ``max_compression_ratio``
  per member), so a zip bomb is refused unopened;
- the sheet is found by name in ``xl/workbook.xml`` and its relationships;
- the other XML parts it reads (shared strings, styles) are inflated once,
  so none inflates past the size its header declares;
- its worksheet XML is streamed once (inflated bytes counted against the
  same limits, whatever the headers declared): the ``<dimension ref=...>``
  it declares and the row and column of every cell reference give the
  grid's extent, refused above ``max_sheet_cells`` as soon as it is known
  (a declared dimension before any cell is read).
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from xml.etree import ElementTree

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.xlsx_extent import fast_extent, parsed_extent, tag_pieces

_CHUNK = 1 << 20
_SMALL_PART = 16 << 20  # workbook.xml and its relationships are read whole
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class SheetExtent:
    """The sheet to read and how far its cells reach (1-based)."""

    sheet: str
    rows: int
    columns: int

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def check_workbook(raw: BinaryIO, name: str, sheet: str = "") -> SheetExtent:
    """Check ``raw`` (seekable) before it is loaded; the extent of the sheet
    named ``sheet`` (the first worksheet when empty). Raises
    PermanentSourceError for a workbook that is not readable or too large."""
    try:
        archive = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PermanentSourceError(f"{name}: not a readable XLSX workbook ({exc})") from None
    try:
        _check_headers(archive, name)
        title, part = _find_sheet(archive, name, sheet)
        rows, columns = _scan_extent(archive, part, name, title)
        _verify_parts(archive, name)
    except (zipfile.BadZipFile, KeyError, zlib.error, EOFError, ElementTree.ParseError,
            NotImplementedError, RuntimeError) as exc:
        raise PermanentSourceError(f"{name}: not a readable XLSX workbook ({exc})") from None
    finally:
        archive.close()
    return SheetExtent(title, rows, columns)


def _check_headers(archive: zipfile.ZipFile, name: str) -> None:
    limits = source_limits.current()
    total_out = total_in = 0
    for info in archive.infolist():
        why = limits.inflated_too_much(info.file_size, info.compress_size)
        if why:
            raise PermanentSourceError(f"{name}: zip member {info.filename!r} declares {why}")
        total_out += info.file_size
        total_in += info.compress_size
    if limits.max_decompressed_bytes and total_out > limits.max_decompressed_bytes:
        raise PermanentSourceError(
            f"{name}: the workbook's members declare {total_out} bytes in all, above the "
            f"limit of {limits.max_decompressed_bytes} (FERRY_MAX_DECOMPRESSED_BYTES)")


def _small_part(archive: zipfile.ZipFile, path: str) -> ElementTree.Element:
    info = archive.getinfo(path)
    if info.file_size > _SMALL_PART:
        raise PermanentSourceError(f"{path}: {info.file_size} bytes, too large for a workbook part")
    with archive.open(info) as member:
        data = member.read(_SMALL_PART + 1)
    if len(data) > _SMALL_PART:
        raise PermanentSourceError(f"{path}: larger than its zip header declares")
    return ElementTree.fromstring(data)


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target path in the zip) of ``part``."""
    folder, base = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels_path not in archive.NameToInfo:
        return {}
    out = {}
    for rel in _small_part(archive, rels_path).iter(f"{_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return out


def _find_sheet(archive: zipfile.ZipFile, name: str, sheet: str) -> tuple[str, str]:
    """(sheet title, worksheet part) of the sheet named ``sheet``, or of the
    first worksheet."""
    book_part = next((path for kind, path in _relationships(archive, "").values()
                      if kind.endswith("/officeDocument")), "xl/workbook.xml")
    rels = _relationships(archive, book_part)
    sheets: list[tuple[str, str, bool]] = []  # title, part, is a worksheet
    for element in _small_part(archive, book_part).iter(f"{_MAIN}sheet"):
        kind, part = rels.get(element.get(f"{_REL_NS}id", ""), ("", ""))
        sheets.append((element.get("name", ""), part, kind.endswith("/worksheet")))
    titles = [title for title, _, _ in sheets]
    if sheet:
        found = [(title, part) for title, part, is_ws in sheets if title == sheet and is_ws]
        if not found:
            raise PermanentSourceError(
                f"{name}: no sheet named {sheet!r}; sheets: {', '.join(titles)}")
        return found[0]
    first = next(((title, part) for title, part, is_ws in sheets if is_ws), None)
    if first is None:
        raise PermanentSourceError(f"{name}: the workbook has no worksheet")
    return first


def _scan_extent(archive: zipfile.ZipFile, part: str, name: str, title: str
                 ) -> tuple[int, int]:
    """The last row and column the sheet's cells reach, refused as soon as
    they exceed the cell limit (or the sheet's XML the decompression limits)."""
    info = archive.getinfo(part)

    def check(rows: int, columns: int, verb: str) -> None:
        _check_cells(name, title, rows, columns, verb)

    what = f"sheet {title!r}"
    extent = fast_extent(tag_pieces(_inflate(archive, info, name, what)), check)
    if extent is None:
        extent = parsed_extent(tag_pieces(_inflate(archive, info, name, what)), check)
    return extent


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, what: str
             ) -> Iterator[bytes]:
    """The member's bytes in chunks, counted against the decompression limits."""
    limits = source_limits.current()
    out = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            out += len(chunk)
            why = limits.inflated_too_much(out, info.compress_size)
            if why:
                raise PermanentSourceError(f"{name}: {what}: {why}")
            yield chunk


def _verify_parts(archive: zipfile.ZipFile, name: str) -> None:
    """Inflate the parts the reader reads besides the sheet (shared strings,
    styles, the workbook; not the other sheets, not media): zipfile stops at
    the size a header declares and checks the CRC, so a part inflating past
    what its (checked) header declares is refused here, not in the reader."""
    for info in archive.infolist():
        path = info.filename
        if path.startswith(("xl/worksheets/", "xl/chartsheets/", "xl/media/")):
            continue
        if path.endswith((".xml", ".rels")):
            for _chunk in _inflate(archive, info, name, f"part {path!r}"):
                pass


def _check_cells(name: str, title: str, rows: int, columns: int, verb: str) -> None:
    limit = source_limits.current().max_sheet_cells
    if limit and rows * columns > limit:
        raise PermanentSourceError(
            f"{name}: sheet {title!r} {verb} {rows} rows x {columns} columns = "
            f"{rows * columns} cells, above the limit of {limit} (FERRY_MAX_SHEET_CELLS); "
            "it would be loaded whole")
