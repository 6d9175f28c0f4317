"""Result types of a run: counts, row errors, rejected rows, the run result.

``RowError`` and ``RejectedRow`` are the one definition of a row's problem
and of a rejected row: the runner reports them and the registry stores them
as they are (each converts them to and from ``ferry.v1`` messages).

``RunResult.status`` is a ``RunStatus`` (COMPLETED, WARNING, FAILED or
CANCELLED: the engine never returns UNCHANGED, which is the freshness gate's)
and ``error_class`` an ``ErrorClass`` (UNSPECIFIED unless the run FAILED).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ferry_domain.engine.fingerprint import Fingerprint
from ferry_domain.engine.run_io import RunInput, RunOutput
from ferry_domain.runs.states import ErrorClass, RunStatus


@dataclass
class Counts:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    written: int = 0
    # Rows the profile's mapping.filters leave out on purpose (not a problem).
    filtered: int = 0
    # Rows a run removed from the target (a rollback of the run that created them).
    deleted: int = 0
    # In progress reports: the rows the source is expected to hold (XLSX
    # sheet size, or rows read so far scaled by the share of the file's
    # bytes read); 0 when unknown. Not an outcome: counts compare without it.
    rows_total: int = field(default=0, compare=False)

    def copy(self) -> Counts:
        return Counts(**self.__dict__)


@dataclass(frozen=True)
class RowError:
    """``row`` is the 1-based data row number in the source (header excluded)."""

    row: int
    field: str
    message: str


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not written, with its source values (the engine's own
    values; text once the runner reports them)."""

    row: int
    outcome: str  # "error" or "skipped"
    field: str
    message: str
    values: Mapping[str, Any]


@dataclass
class RunResult:
    status: RunStatus
    counts: Counts = field(default_factory=Counts)
    first_error: RowError | None = None
    first_skip_reason: str = ""
    warnings: list[str] = field(default_factory=list)
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    rejected_columns: list[str] = field(default_factory=list)
    error_class: ErrorClass = ErrorClass.UNSPECIFIED
    error_message: str = ""
    source_paths: list[str] = field(default_factory=list)
    output_path: str = ""
    # What the run read and wrote, for the run's record (run_io).
    inputs: list[RunInput] = field(default_factory=list)
    outputs: list[RunOutput] = field(default_factory=list)
    shape_fingerprint: str = ""
    # The first source part's columns and sampled types (shape drift).
    source_shape: Fingerprint | None = None
    rows_total: int = 0
