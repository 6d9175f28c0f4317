"""The masked sample a run stores with itself in the registry.

The runner masks the first source rows of a run (``sample_step``) and sends
them with FinishRun; the registry keeps them with the run (table
``run_samples``) and deletes them with the run's history. A sample is small by
rule: at most ``STORED_SAMPLE_ROWS`` rows and ``STORED_SAMPLE_BYTES`` of cell text
(UTF-8). Rows past either cap are left out whole, counted in ``omitted_rows``
and named in ``note`` (the rows kept are the first ones, in source order).
``cap_sample`` is the one rule; the runner applies it before sending and the
registry again before storing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ferry_domain.cells import cell_text
from ferry_domain.masking import Masker

STORED_SAMPLE_ROWS = 50
STORED_SAMPLE_BYTES = 256 * 1024


@dataclass(frozen=True)
class StoredSample:
    """Sample rows as text, aligned with ``columns``."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    omitted_rows: int = 0

    @property
    def note(self) -> str:
        return omitted_note(self.omitted_rows)


def omitted_note(omitted_rows: int) -> str:
    """Why a sample has fewer rows than were read; empty when none were left out."""
    if omitted_rows <= 0:
        return ""
    return (f"{omitted_rows} rows left out: a stored sample keeps at most "
            f"{STORED_SAMPLE_ROWS} rows and {STORED_SAMPLE_BYTES // 1024} KiB")


def sample_from_records(masked: Iterable[Mapping[str, Any]]) -> StoredSample:
    """Masked records (``{column: value}``) as a capped sample; the columns are
    the union of the records' keys in order of first appearance."""
    records = list(masked)
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    names = tuple(columns)
    rows = [tuple(cell_text(record.get(name)) for name in names) for record in records]
    return cap_sample(names, rows)


def cap_sample(columns: Sequence[str], rows: Sequence[Sequence[str]],
               omitted: int = 0) -> StoredSample:
    """The first rows within ``STORED_SAMPLE_ROWS`` and ``STORED_SAMPLE_BYTES``;
    ``omitted`` counts rows already left out upstream."""
    kept: list[tuple[str, ...]] = []
    size = sum(len(name.encode()) for name in columns)
    for row in rows[:STORED_SAMPLE_ROWS]:
        size += sum(len(cell.encode()) for cell in row)
        if size > STORED_SAMPLE_BYTES:
            break
        kept.append(tuple(row))
    return StoredSample(tuple(columns), tuple(kept), omitted + len(rows) - len(kept))


def mask_sample(masker: Masker, sample: StoredSample) -> StoredSample:
    """``sample`` masked again by ``masker`` (a masked value masks to itself)."""
    rows = tuple(tuple(cell_text(value) for value in
                       masker.mask_row(dict(zip(sample.columns, row, strict=False))).values())
                 for row in sample.rows)
    return StoredSample(sample.columns, rows, sample.omitted_rows)
