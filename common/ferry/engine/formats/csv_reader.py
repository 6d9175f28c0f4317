"""CSV/TSV rows: delimiter (given or guessed from the header line), quoting,
header row, encodings; multi-line quoted cells; malformed quoting raises an
error naming the row and line."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import chain
from typing import BinaryIO

from ferry.engine.errors import PermanentSourceError
from ferry.engine.formats.encoding import open_lines
from ferry.engine.formats.stream import RecordStream

FIELD_LIMIT = 4 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)
_CANDIDATES = (",", ";", "\t", "|")


def guess_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _CANDIDATES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def column_names(header: list[str]) -> list[str]:
    """Trim names, name blank ones column_N, make duplicates unique (_2, _3)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(header, start=1):
        name = raw.strip() or f"column_{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def read_csv(
    raw: BinaryIO,
    name: str,
    *,
    delimiter: str = "",
    quote_char: str = "",
    header: bool = True,
    encoding: str = "",
) -> RecordStream:
    lines, _used = open_lines(raw, encoding, name)
    first = next(lines, None)
    if first is None:
        return RecordStream(name, [], iter(()), "list")
    delim = delimiter or guess_delimiter(first)
    reader = csv.reader(
        chain([first], lines), delimiter=delim, quotechar=quote_char or '"', strict=True
    )
    head = _next_row(reader, name, 0)
    if head is None:
        return RecordStream(name, [], iter(()), "list")
    if header:
        columns = column_names(head)
        pending: list[list[str]] = []
    else:
        columns = [f"column_{i}" for i in range(1, len(head) + 1)]
        pending = [head]
    return RecordStream(name, columns, _rows(reader, name, len(columns), pending), "list")


def _next_row(reader, name: str, data_row: int) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise _error(exc, reader, name, data_row + 1) from None


def _error(exc: csv.Error, reader, name: str, row: int) -> PermanentSourceError:
    text = str(exc)
    where = f"{name}: row {row} (line {reader.line_num})"
    if "end of data" in text:
        return PermanentSourceError(
            f"{where}: unbalanced quote: a quoted field is never closed before the end of the file"
        )
    if "field larger than field limit" in text:
        return PermanentSourceError(
            f"{where}: a field is longer than {FIELD_LIMIT} characters (unbalanced quote?)"
        )
    return PermanentSourceError(f"{where}: malformed CSV: {text}")


def _rows(reader, name: str, width: int, pending: list[list[str]]) -> Iterator[list[str]]:
    yield from pending
    count = len(pending)
    pad = [""] * width
    try:
        for row in reader:
            if len(row) != width:
                if not row or (len(row) == 1 and not row[0]):
                    continue  # blank line
                if len(row) < width:
                    row = row + pad[len(row) :]
            count += 1
            yield row
    except csv.Error as exc:
        raise _error(exc, reader, name, count + 1) from None
