"""XLSX rows through openpyxl's read-only mode (streamed), sheet by name."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl import load_workbook

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.csv_reader import column_names
from ferry_domain.engine.formats.stream import RecordStream


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return Decimal(repr(value))
    if isinstance(value, datetime) and value.hour == value.minute == value.second == 0:
        return value
    return value


def read_xlsx(raw: BinaryIO, name: str, sheet: str = "", header: bool = True) -> RecordStream:
    try:
        book = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise PermanentSourceError(f"{name}: not a readable XLSX workbook ({exc})") from None
    if sheet and sheet not in book.sheetnames:
        book.close()
        raise PermanentSourceError(
            f"{name}: no sheet named {sheet!r}; sheets: {', '.join(book.sheetnames)}"
        )
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        book.close()
        return RecordStream(name, [], iter(()), "list")
    total = max((ws.max_row or 0) - (1 if header else 0), 0)
    if header:
        columns = column_names(["" if c is None else str(c) for c in first])
        pending: list[tuple] = []
    else:
        columns = [f"column_{i}" for i in range(1, len(first) + 1)]
        pending = [first]
    stream = RecordStream(name, columns, _rows(rows, pending, len(columns)), "list", total)
    stream.closers.append(book)
    return stream


def _rows(rows, pending, width: int) -> Iterator[list[Any]]:
    for row in [*pending]:
        yield _convert(row, width)
    for row in rows:
        if all(c is None for c in row):
            continue
        yield _convert(row, width)


def _convert(row, width: int) -> list[Any]:
    out = [_cell(c) for c in row[:width]]
    if len(out) < width:
        out.extend([None] * (width - len(out)))
    return out
