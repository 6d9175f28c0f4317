"""RecordStream: what every reader returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

from ferry_domain.engine.run_io import RunInput

PEEK_RECORDS = 100


@dataclass
class RecordStream:
    """Rows of one source part (one file, one response, one query).

    ``kind`` is "list" (rows are lists aligned with ``columns``) or "dict"
    (rows are mappings; ``columns`` is the union of the keys seen in the
    first records).
    """

    name: str
    columns: list[str]
    rows: Iterator[Any]
    kind: str = "list"
    rows_total: int = 0
    closers: list[Any] = field(default_factory=list)
    # Optional faster batching (CSV reads straight from csv.reader).
    batcher: Any = None
    # True when every cell is text (CSV): row hashes can use the raw text.
    text_rows: bool = False
    # The share (0 to 1) of the source's bytes read so far, when known.
    fraction: Callable[[], float] | None = None
    # What the part was read from (a file, a URL), for the run's record.
    input: RunInput | None = None

    def batches(self, size: int) -> Iterator[list[Any]]:
        if self.batcher is not None:
            yield from self.batcher(size)
            return
        rows = self.rows
        while True:
            batch = list(islice(rows, size))
            if not batch:
                return
            yield batch

    def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                closer.close()
            except Exception:  # noqa: BLE001 - closing must not hide the real error
                pass


def share_read(handle: Any, size: int) -> Callable[[], float] | None:
    """A ``fraction`` for a stream read from ``handle`` (``size`` bytes)."""
    if size <= 0:
        return None

    def fraction() -> float:
        try:
            return min(1.0, handle.tell() / size)
        except (OSError, ValueError):  # closed, or not seekable after all
            return 0.0

    return fraction


def dict_stream(name: str, records: Iterable[dict], rows_total: int = 0) -> RecordStream:
    """Peek the first records to learn the columns, then stream them all."""
    iterator = iter(records)
    head = list(islice(iterator, PEEK_RECORDS))
    columns: dict[str, None] = {}
    for record in head:
        for key in record:
            columns.setdefault(key, None)
    return RecordStream(name, list(columns), chain(head, iterator), "dict", rows_total)


def flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys; lists stay values."""
    if not isinstance(record, dict):
        return {prefix or "value": record}
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out
