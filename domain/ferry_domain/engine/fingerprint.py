"""Source fingerprints and shape drift against the last good run.

A fingerprint is a source part's columns in order, each with a type inferred
from a bounded sample of its first rows (``SAMPLE_ROWS``): ``int``,
``decimal``, ``bool``, ``date``, ``datetime``, ``text``, or ``empty`` when the
sample holds no value. Each live run that ends COMPLETED or WARNING keeps its
fingerprint in the registry (the last good shape); the next run compares its
own with it (``compare``, pure) and reports each change: columns added,
removed, renamed (a column removed and another added at the same position,
with the same type), reordered (the columns both runs have, in another
order: two swapped columns are both named) and retyped.

Types come from a sample, so two changes are not drift: a column whose sample
is empty on either side (a sparse column), and a number column whose sample
has or lacks fractions (``int`` and ``decimal``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ferry.v1 import source_shape_pb2

SAMPLE_ROWS = 200
MAX_LISTED = 10

INT, DECIMAL, BOOL, DATE, DATETIME, TEXT, EMPTY = (
    "int", "decimal", "bool", "date", "datetime", "text", "empty")
NUMBERS = frozenset({INT, DECIMAL})
TIMES = frozenset({DATE, DATETIME})

_INT = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4})[T ]\d{1,2}:\d{2}.*")
_BOOLS = frozenset({"true", "false"})


def value_type(value: Any) -> str:
    """The type of one cell (``empty`` for None and blank text)."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float | Decimal):
        return DECIMAL
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if not isinstance(value, str):
        return TEXT
    text = value.strip()
    if not text:
        return EMPTY
    if _INT.fullmatch(text):
        return INT
    if _DECIMAL.fullmatch(text):
        return DECIMAL
    if text.lower() in _BOOLS:
        return BOOL
    if _DATE.fullmatch(text):
        return DATE
    if _DATETIME.fullmatch(text):
        return DATETIME
    return TEXT


def column_type(values: Iterable[Any]) -> str:
    """One type for a column's sampled values: theirs when they agree, a
    number or a time when they are all of those, else text."""
    seen = {value_type(v) for v in values} - {EMPTY}
    if not seen:
        return EMPTY
    if len(seen) == 1:
        return seen.pop()
    if seen <= NUMBERS:
        return DECIMAL
    if seen <= TIMES:
        return DATETIME
    return TEXT


@dataclass(frozen=True)
class Fingerprint:
    """A source part's columns in order, as (name, type) pairs."""

    columns: tuple[tuple[str, str], ...]
    sampled_rows: int = 0
    run_id: str = ""

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


def take(columns: Sequence[str], rows: Sequence[Any], kind: str) -> Fingerprint:
    """The fingerprint of a part with ``columns`` from its first ``rows``
    (lists aligned with the columns, or mappings when ``kind`` is "dict")."""
    sample = rows[:SAMPLE_ROWS]
    typed = []
    for i, name in enumerate(columns):
        if kind == "dict":
            values: Iterator[Any] = (row.get(name) for row in sample)
        else:
            values = (row[i] if i < len(row) else None for row in sample)
        typed.append((name, column_type(values)))
    return Fingerprint(tuple(typed), len(sample))


def head_rows(batches: Iterator[list[Any]], wanted: int = SAMPLE_ROWS
              ) -> tuple[list[Any], Iterator[list[Any]]]:
    """The first ``wanted`` rows of a stream of row batches (fewer when it is
    shorter), and the same stream, whole, to read on. An error met while
    reading ahead is raised by the returned stream where it happened, after
    the batches before it: a malformed row 26 fails the run after the rows
    before it were written, as without reading ahead."""
    taken: list[list[Any]] = []
    count = 0
    error: Exception | None = None
    try:
        for batch in batches:
            taken.append(batch)
            count += len(batch)
            if count >= wanted:
                break
    except Exception as exc:  # noqa: BLE001 - raised again in its place below
        error = exc
    head = [row for batch in taken for row in batch][:wanted]
    return head, _then(taken, batches, error)


def _then(taken: list[list[Any]], rest: Iterator[list[Any]], error: Exception | None
          ) -> Iterator[list[Any]]:
    yield from taken
    if error is not None:
        raise error
    yield from rest


# -- drift ---------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """One change: ``kind`` is added, removed, renamed, reordered or retyped;
    ``columns`` names the columns concerned; ``detail`` says it in words."""

    kind: str
    columns: tuple[str, ...]
    detail: str


def _quoted(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def compare(previous: Fingerprint, current: Fingerprint) -> list[Drift]:
    """The changes from ``previous`` (the last good run's) to ``current``."""
    old, new = previous.columns, current.columns
    old_at = {name: i for i, (name, _) in enumerate(old)}
    new_at = {name: i for i, (name, _) in enumerate(new)}
    removed = [name for name, _ in old if name not in new_at]
    added = [name for name, _ in new if name not in old_at]
    drifts: list[Drift] = []
    for name in list(removed):
        i = old_at[name]
        if i < len(new) and new[i][0] in added and new[i][1] == old[i][1]:
            removed.remove(name)
            added.remove(new[i][0])
            drifts.append(Drift("renamed", (name, new[i][0]),
                                f"renamed column {i + 1} from {name!r} to {new[i][0]!r}"))
    if removed:
        drifts.append(Drift("removed", tuple(removed), f"removed {_quoted(removed)}"))
    if added:
        drifts.append(Drift("added", tuple(added), f"added {_quoted(added)}"))
    before = [name for name, _ in old if name in new_at]
    after = [name for name, _ in new if name in old_at]
    moved = [a for a, b in zip(before, after, strict=True) if a != b]
    if moved:
        places = [f"{name!r} (column {old_at[name] + 1} -> {new_at[name] + 1})"
                  for name in moved[:MAX_LISTED]]
        more = len(moved) - MAX_LISTED
        what = ("swapped " if len(moved) == 2 else "reordered ") + ", ".join(places)
        drifts.append(Drift("reordered", tuple(moved),
                            what + (f" and {more} more" if more > 0 else "")))
    retyped = []
    for name, kind in new:
        was = old[old_at[name]][1] if name in old_at else kind
        if was != kind and EMPTY not in (was, kind) and {was, kind} != NUMBERS:
            retyped.append((name, was, kind))
    if retyped:
        drifts.append(Drift("retyped", tuple(n for n, _, _ in retyped), "retyped " + ", ".join(
            f"{n!r} from {was} to {kind}" for n, was, kind in retyped[:MAX_LISTED])))
    return drifts


def describe(drifts: Sequence[Drift], previous: Fingerprint) -> str:
    """One line for a list of changes: "source shape changed since the last
    good run (run ID): swapped 'a' (column 1 -> 2), ...; added 'x'"."""
    since = f" (run {previous.run_id})" if previous.run_id else ""
    return (f"source shape changed since the last good run{since}: "
            + "; ".join(d.detail for d in drifts))


# -- the wire ------------------------------------------------------------------


def to_proto(fingerprint: Fingerprint) -> source_shape_pb2.SourceShape:
    return source_shape_pb2.SourceShape(
        columns=[source_shape_pb2.SourceShapeColumn(name=n, type=t)
                 for n, t in fingerprint.columns],
        run_id=fingerprint.run_id, sampled_rows=fingerprint.sampled_rows)


def from_proto(shape: source_shape_pb2.SourceShape) -> Fingerprint | None:
    """None for an empty shape (no last good run)."""
    if not shape.columns:
        return None
    return Fingerprint(tuple((c.name, c.type) for c in shape.columns), shape.sampled_rows,
                       shape.run_id)
