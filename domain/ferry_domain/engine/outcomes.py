"""Row outcomes of a run: counts, the first error, the first skip reason, a
bounded sample of rejected rows, and the error-threshold verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ferry.v1 import profile_pb2

from ferry_domain.engine.results import Counts, RejectedRow, RowError
from ferry_domain.runs.states import RunStatus, finish_status

DEFAULT_MAX_ERROR_PERCENT = 10.0


@dataclass(frozen=True)
class Threshold:
    """Fail when errors > max_errors (-1: no count limit) or when the error
    percentage of rows read > max_percent (0: no percentage limit)."""

    max_errors: int = -1
    max_percent: float = DEFAULT_MAX_ERROR_PERCENT

    @classmethod
    def from_profile(cls, profile: profile_pb2.Profile) -> Threshold:
        if not profile.HasField("error_threshold"):
            return cls()
        t = profile.error_threshold
        max_errors = t.max_errors
        if max_errors == 0 and t.max_error_percent > 0:
            max_errors = -1  # only a percentage was given
        return cls(max_errors, t.max_error_percent)

    def count_exceeded(self, errors: int) -> bool:
        return self.max_errors >= 0 and errors > self.max_errors

    def exceeded(self, errors: int, rows: int) -> bool:
        if self.count_exceeded(errors):
            return True
        return bool(self.max_percent > 0 and rows and errors * 100.0 / rows > self.max_percent)

    def describe(self, errors: int, rows: int) -> str:
        if self.count_exceeded(errors):
            return f"{errors} rows in error, more than the limit of {self.max_errors}"
        pct = errors * 100.0 / rows if rows else 0.0
        return f"{errors} of {rows} rows in error ({pct:.1f}%), more than {self.max_percent:g}%"


class Outcomes:
    def __init__(self, sample_size: int = 100) -> None:
        self.counts = Counts()
        self.first_error: RowError | None = None
        self.first_skip_reason = ""
        self.rejected: list[RejectedRow] = []
        self.sample_size = max(sample_size, 0)

    def _sample(self, row: int, outcome: str, field: str, message: str, values) -> None:
        if len(self.rejected) < self.sample_size:
            self.rejected.append(RejectedRow(row, outcome, field, message, values()))

    def skip(self, row: int, reason: str, field: str, values: Any) -> None:
        """``values`` is a callable returning the row as a dict (built lazily)."""
        self.counts.skipped += 1
        if not self.first_skip_reason:
            self.first_skip_reason = f"row {row}: {reason}"
        self._sample(row, "skipped", field, reason, values)

    def add_filtered(self, rows: int) -> None:
        """Rows the profile's ``mapping.filters`` leave out on purpose: counted,
        neither skipped nor a problem, and not kept among the rejected rows."""
        self.counts.filtered += rows

    def error(self, row: int, field: str, message: str, values: Any) -> None:
        self.counts.errors += 1
        if self.first_error is None:
            self.first_error = RowError(row, field, message)
        self._sample(row, "error", field, message, values)

    def add_written(self, created: int, updated: int, unchanged: int) -> None:
        self.counts.created += created
        self.counts.updated += updated
        self.counts.unchanged += unchanged

    def status(self, threshold: Threshold) -> RunStatus:
        """The run's status from its counts (``states.finish_status``)."""
        c = self.counts
        return finish_status(errors=c.errors, skipped=c.skipped,
                             over_threshold=threshold.exceeded(c.errors, c.rows_read))
