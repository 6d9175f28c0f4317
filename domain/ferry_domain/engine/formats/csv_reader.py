"""CSV/TSV rows: delimiter (given or guessed from the header line), quoting,
header row, encodings; multi-line quoted cells; malformed quoting or bytes
that do not decode raise an error naming the row, line or byte."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import chain, islice
from typing import BinaryIO

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.formats.encoding import TextSource
from ferry_domain.engine.formats.stream import RecordStream

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


class CsvRows:
    def __init__(self, source: TextSource, reader, name: str, width: int, pending: list) -> None:
        self.source = source
        self.reader = reader
        self.name = name
        self.width = width
        self.pending = pending
        self.count = 0  # data rows handed out

    def _error(self, exc: Exception) -> PermanentSourceError:
        row = self.count + 1
        line = self.reader.line_num
        if isinstance(exc, UnicodeDecodeError):
            return self.source.decode_error(exc, line)
        text = str(exc)
        where = f"{self.name}: row {row} (line {line})"
        if "end of data" in text:
            return PermanentSourceError(
                f"{where}: unbalanced quote: a quoted field is never closed before the end "
                "of the file"
            )
        if "field larger than field limit" in text:
            return PermanentSourceError(
                f"{where}: a field is longer than {csv.field_size_limit()} characters "
                "(unbalanced quote? limit FERRY_MAX_FIELD_BYTES)"
            )
        return PermanentSourceError(f"{where}: malformed CSV: {text}")

    def _fix(self, batch: list[list[str]]) -> list[list[str]]:
        width = self.width
        out = []
        for row in batch:
            n = len(row)
            if n != width:
                if n == 0 or (n == 1 and not row[0]):
                    continue  # blank line
                if n < width:
                    row = row + [""] * (width - n)
            out.append(row)
        return out

    def batches(self, size: int) -> Iterator[list[list[str]]]:
        if self.pending:
            self.count += len(self.pending)
            yield self.pending
            self.pending = []
        reader = self.reader
        width = self.width
        while True:
            batch: list[list[str]] = []
            try:
                # extend keeps the rows read before an error (for its row number)
                batch.extend(islice(reader, size))
            except (csv.Error, UnicodeDecodeError) as exc:
                self.count += len(batch)
                raise self._error(exc) from None
            if not batch:
                return
            widths = set(map(len, batch))
            if len(widths) != 1 or width not in widths:
                batch = self._fix(batch)
            self.count += len(batch)
            if batch:
                yield batch

    def rows(self) -> Iterator[list[str]]:
        for batch in self.batches(1000):
            yield from batch


def read_csv(
    raw: BinaryIO,
    name: str,
    *,
    delimiter: str = "",
    quote_char: str = "",
    header: bool = True,
    encoding: str = "",
) -> RecordStream:
    limits = source_limits.current()
    if limits.max_field_bytes and csv.field_size_limit() != limits.max_field_bytes:
        csv.field_size_limit(limits.max_field_bytes)  # process-wide; one setting per runner
    source = TextSource(raw, encoding, name)
    try:
        first = source.text.readline()
    except UnicodeDecodeError as exc:
        raise source.decode_error(exc, 0) from None
    if not first:
        return RecordStream(name, [], iter(()), "list")
    delim = delimiter or guess_delimiter(first)
    reader = csv.reader(
        chain([first], source.text), delimiter=delim, quotechar=quote_char or '"', strict=True
    )
    try:
        head = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CsvRows(source, reader, name, 0, [])._error(exc) from None
    if head is None:
        return RecordStream(name, [], iter(()), "list")
    if limits.max_columns and len(head) > limits.max_columns:
        raise PermanentSourceError(
            f"{name}: row 1 has {len(head)} columns, above the limit of {limits.max_columns} "
            "(FERRY_MAX_COLUMNS)")
    if header:
        columns = column_names(head)
        pending: list[list[str]] = []
    else:
        columns = [f"column_{i}" for i in range(1, len(head) + 1)]
        pending = [head]
    rows = CsvRows(source, reader, name, len(columns), pending)
    return RecordStream(name, columns, rows.rows(), "list", batcher=rows.batches, text_rows=True)
