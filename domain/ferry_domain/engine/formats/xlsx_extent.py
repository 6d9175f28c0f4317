"""How far a worksheet's cells reach, from its XML, before it is loaded.

A reader that loads a sheet whole allocates a grid up to its last row and
column: two cells at A1 and XFD1048576 make 17 billion. ``scan_extent``
streams the worksheet XML once and returns (last row, last column),
calling ``check(rows, columns)`` as soon as each chunk moves them, so a
sheet too large is refused early. The ``<dimension ref=...>`` a sheet
declares is checked first, before any cell.

The fast path reads ``<row r="N"`` and ``<c r="COL`` with byte searches:
what nearly every writer produces. A chunk that holds anything else (cells
or rows without ``r=``, another attribute order, prefixed tags) makes the
whole sheet be scanned again with an XML pull parser, which places cells
as a reader does (a cell without ``r`` follows the one before it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from xml.etree import ElementTree

Check = Callable[[int, int, str], None]

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]*)(\d*)(?::([A-Z]+)(\d+))?"')
_ROW_REF = re.compile(rb'<row r="(\d+)"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})\d')
_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_PREFIXED = re.compile(rb"<\w+:worksheet\b")


def column_number(letters: bytes | str) -> int:
    """``A`` is 1, ``Z`` 26, ``AA`` 27, ``XFD`` 16384."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


def _beyond(columns: int) -> re.Pattern[bytes]:
    """A pattern for a cell reference whose column lies after ``columns``."""
    current = _letters(columns)
    options = [f"[A-Z]{{{len(current) + 1},3}}"] if len(current) < 3 else []
    for i, ch in enumerate(current):
        if ch != "Z":
            rest = len(current) - i - 1
            options.append(f"{current[:i]}[{chr(ord(ch) + 1)}-Z][A-Z]{{{rest}}}")
    return re.compile(f'<c r="(?:{"|".join(options)})\\d'.encode())


def tag_pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks re-cut before a ``<``, so no tag is split between two."""
    pending = b""
    for chunk in chunks:
        buf = pending + chunk
        cut = buf.rfind(b"<")
        if cut <= 0:
            pending = buf
            continue
        pending = buf[cut:]
        yield buf[:cut]
    if pending:
        yield pending


def declared(head: bytes) -> tuple[int, int] | None:
    """(rows, columns) of the ``<dimension ref=...>`` in the XML's head."""
    found = _DIMENSION.search(head)
    if not found or not found.group(3):
        return None
    return int(found.group(4)), column_number(found.group(3))


def fast_extent(pieces: Iterator[bytes], check: Check) -> tuple[int, int] | None:
    """(rows, columns) by byte search, or None when the XML needs parsing."""
    rows = columns = 0
    beyond = None
    first = True
    for piece in pieces:
        if first:
            size = declared(piece)
            if size:
                check(*size, "declares")
            if _PREFIXED.search(piece):
                return None
            first = False
        refs = _ROW_REF.findall(piece)
        cells = piece.count(b'<c r="')
        # "<c" and "<row" also begin tags outside the sheet's data (<cols>,
        # <rowBreaks>...): only when the counts differ is it looked at closer.
        if piece.count(b"<row") != len(refs) and (
                b"<row>" in piece or piece.count(b"<row ") != len(refs)):
            return None
        if piece.count(b"<c") != cells and (
                b"<c>" in piece or b"<c/>" in piece or piece.count(b"<c ") != cells):
            return None
        if refs:
            rows = max(rows, max(map(int, refs)))
        if beyond is None or beyond.search(piece):
            letters = set(_CELL_COLUMN.findall(piece))
            if letters:
                columns = max(columns, max(map(column_number, letters)))
            beyond = _beyond(columns) if columns else None
        check(rows, columns, "reaches")
    return rows, columns


def parsed_extent(pieces: Iterator[bytes], check: Check) -> tuple[int, int]:
    """(rows, columns) placing every row and cell as a reader does."""
    parser = ElementTree.XMLPullParser(events=("start", "end"))
    rows = columns = row = column = 0
    sheet_data = None
    for piece in pieces:
        parser.feed(piece)
        for event, element in parser.read_events():
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "end":
                if tag == "row" and sheet_data is not None:
                    sheet_data.clear()  # rows read are dropped: memory stays flat
                continue
            if tag == "sheetData":
                sheet_data = element
            elif tag == "row":
                r = element.get("r", "")
                row = int(r) if r.isdigit() else row + 1
                column = 0
                rows = max(rows, row)
            elif tag == "c":
                ref = _REF.match(element.get("r", ""))
                if ref:
                    column = column_number(ref.group(1))
                    rows = max(rows, int(ref.group(2)))
                else:
                    column += 1
                columns = max(columns, column)
        check(rows, columns, "reaches")
    parser.close()
    return rows, columns
