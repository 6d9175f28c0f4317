"""Cell text for files people open in spreadsheets (exports, rejected rows).

The rule serves the engine's exports and the CLI's rejected-rows CSV; it sits
outside ``ferry_domain.engine`` so the CLI reads it without loading the engine.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
runs as a formula in Excel, LibreOffice or Google Sheets (CSV injection);
such text gets a leading quote, which the spreadsheet shows as text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TextIO

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula."""
    if text and text[0] in _FORMULA_START:
        return "'" + text
    return text


class RejectedRowLike(Protocol):
    """A rejected row as the engine holds it or as the API serves it."""

    row: int
    outcome: str
    field: str
    message: str
    values: Mapping[str, Any]


def cell_text(value: Any) -> str:
    """The text of one source value in a CSV cell (lists and objects as JSON)."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def write_rejected_csv(rows: Iterable[RejectedRowLike], columns: list[str], out: TextIO) -> None:
    """Write rejected rows as CSV: row, outcome, field, message, then the
    source columns. Cells that could run as spreadsheet formulas are
    neutralised, as in exports."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "outcome", "field", "message", *columns])
    for r in rows:
        writer.writerow(
            [r.row, r.outcome, r.field, neutralise_cell(r.message)]
            + [neutralise_cell(cell_text(r.values.get(c))) for c in columns]
        )
