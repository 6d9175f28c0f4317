"""What a runner reports about the run it holds, as the run stores take it.

The ExecutionService servicer turns each request into one of these (frozen
dataclasses, no gRPC messages), so the stores never read a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ferry.v1 import run_pb2
from ferry_domain.engine.results import RejectedRow, RowError
from ferry_domain.masking import Masker, mask_evidence
from ferry_domain.runs.states import ErrorClass, RunStatus
from ferry_domain.samples import StoredSample, mask_sample

from ferry_registry.store.freshness import ImportedFile

# Rejected rows kept per run (ListRejectedRows); the rest are only counted.
MAX_REJECTED_ROWS = 1000


@dataclass(frozen=True)
class Holder:
    """Who calls: the runner and the fencing token it got from ClaimRun."""

    run_id: str
    runner_id: str
    fencing_token: int


@dataclass(frozen=True)
class ReportedEvent:
    """A timeline event sent by a runner; what it leaves out (zero, empty)
    is taken from the run: now, LOG, the run's status and attempt."""

    message: str
    type: int = 0
    event_time: datetime | None = None
    status: int = 0
    attempt: int = 0
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    counts: Mapping[str, int]  # runs column -> value (rows_read, created, ...)
    rows_total: int = 0        # 0: not known
    events: tuple[ReportedEvent, ...] = ()


@dataclass(frozen=True)
class Finish:
    """A run's result, written with its terminal status in one transaction."""

    status: RunStatus
    counts: Mapping[str, int]
    details: bytes  # first error, skip reason, warnings, freshness evidence, ... (serialized)
    error_class: ErrorClass = ErrorClass.UNSPECIFIED
    error_message: str = ""
    hint: str = ""
    rejected_rows: tuple[RejectedRow, ...] = ()  # at most MAX_REJECTED_ROWS
    rejected_columns: tuple[str, ...] = ()
    events: tuple[ReportedEvent, ...] = ()
    new_freshness_token: str = ""
    freshness_method: int = 0
    imported_files: tuple[ImportedFile, ...] = ()  # drop-folder files read, with checksums
    profile_digest: str = ""
    more_input_waiting: bool = False
    # The source's shape as the run read it (a ferry.v1.SourceShape), or None.
    source_shape: Any = None
    # The masked sample of the first source rows, capped, or None.
    sample: StoredSample | None = None


def has_evidence(finish: Finish) -> bool:
    """Whether ``finish`` carries anything to mask: rejected rows, a sample, an
    error, a first error or skip reason, warnings. Most finishes carry none."""
    if finish.rejected_rows or finish.sample is not None or finish.error_message:
        return True
    details = run_pb2.Run.FromString(finish.details)
    return details.HasField("first_error") or bool(details.first_skip_reason) \
        or bool(details.warnings)


def masked_finish(masker: Masker, finish: Finish) -> Finish:
    """``finish`` with its evidence masked again (``masking.mask_evidence``, which
    keeps what the runner masked): rejected rows, first error, skip reason,
    error message, warnings and the sample rows."""
    details = run_pb2.Run.FromString(finish.details)
    first = None
    if details.HasField("first_error"):
        e = details.first_error
        first = RowError(row=e.row, field=e.field, message=e.message)
    rows, first, (skip, error, *warnings) = mask_evidence(
        masker, finish.rejected_rows, first,
        (details.first_skip_reason, finish.error_message, *details.warnings))
    if first is not None:
        details.first_error.message = first.message
    details.first_skip_reason = skip
    del details.warnings[:]
    details.warnings.extend(warnings)
    sample = mask_sample(masker, finish.sample) if finish.sample is not None else None
    return replace(finish, rejected_rows=tuple(rows), error_message=error, sample=sample,
                   details=details.SerializeToString(deterministic=True))


@dataclass(frozen=True)
class Release:
    """A run handed back by its runner (ReleaseRun)."""

    reason: str
    error_class: ErrorClass = ErrorClass.UNSPECIFIED
    attempt_used: bool = True
