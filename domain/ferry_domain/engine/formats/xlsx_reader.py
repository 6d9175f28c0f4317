"""XLSX rows through python-calamine (Rust), sheet by name.

calamine loads the sheet whole, so ``xlsx_guard.check_workbook`` first
checks the zip headers and the sheet's extent against the source limits.
Rows are then converted to Python one at a time. Cells read as openpyxl
read them before: empty cells are None, whole numbers int, other numbers
Decimal, dates datetime (midnight for a date alone), booleans bool; only
cached formula values are read (nothing is evaluated). Rows start at the
sheet's first row and column (A1), whatever its first used cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from python_calamine import CalamineError, CalamineWorkbook

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.csv_reader import column_names
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.formats.xlsx_guard import check_workbook

# Cell types passed through as they are (str is handled inline: "" is empty).
_KEPT = frozenset({int, bool, datetime, time, timedelta})


def _cell(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if value else None
    if kind is float:
        if value.is_integer():
            return int(value)
        return Decimal(repr(value))
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def read_xlsx(raw: BinaryIO, name: str, sheet: str = "", header: bool = True) -> RecordStream:
    extent = check_workbook(raw, name, sheet)
    raw.seek(0)
    try:
        book = CalamineWorkbook.from_filelike(raw)
        ws = book.get_sheet_by_name(extent.sheet)
    except CalamineError as exc:
        raise PermanentSourceError(f"{name}: not a readable XLSX workbook ({exc})") from None
    # Rows come from the first row on; cells from the first used column.
    start = ws.start
    pad = start[1] if start else 0
    rows = ws.iter_rows()
    first = next(rows, None)
    if first is None:
        book.close()
        return RecordStream(name, [], iter(()), "list")
    end = ws.end
    total = max((end[0] + 1 if end else 0) - (1 if header else 0), 0)
    first_row = _convert(first, pad, pad + len(first))
    if header:
        columns = column_names(["" if c is None else str(c) for c in first_row])
        pending: list[list[Any]] = []
    else:
        columns = [f"column_{i}" for i in range(1, len(first_row) + 1)]
        pending = [first_row]
    stream = RecordStream(name, columns, _rows(rows, pending, pad, len(columns)), "list", total)
    stream.closers.append(book)
    return stream


def _rows(rows, pending, pad: int, width: int) -> Iterator[list[Any]]:
    yield from pending
    for row in rows:
        out = _convert(row, pad, width)
        if out.count(None) == width:
            continue
        yield out


def _convert(row: list[Any], pad: int, width: int) -> list[Any]:
    kept = _KEPT
    out = [
        (c or None) if type(c) is str else c if type(c) in kept else _cell(c) for c in row
    ]
    if pad:
        out[:0] = [None] * pad
    if len(out) < width:
        out.extend([None] * (width - len(out)))
    return out[:width] if len(out) > width else out
