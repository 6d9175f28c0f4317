"""The run state machine: statuses, error classes and every transition rule.

A run is created QUEUED, is claimed RUNNING by one runner, and ends in one
terminal status. A RUNNING run that loses its runner (handed back, or its
lease expired) goes back to QUEUED as its next attempt, or ends FAILED with
ATTEMPTS_EXHAUSTED when its attempts are used up, or CANCELLED when a cancel
was asked::

    QUEUED --claim--> RUNNING --finish--> COMPLETED | WARNING | FAILED
      |  ^                |                CANCELLED | UNCHANGED
      |  +--requeue-------+  (attempt lost, attempts left)
      +--cancel--> CANCELLED

``RunStatus`` and ``ErrorClass`` carry the numbers of ``ferry.v1.RunStatus``
and ``ferry.v1.ErrorClass`` (IntEnum): a stored or wire value converts with
``RunStatus(value)`` and compares equal to the proto constant. Everything
here is pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from ferry.v1 import execution_service_pb2, run_pb2

E = TypeVar("E", bound=enum.IntEnum)


class RunStatus(enum.IntEnum):
    UNSPECIFIED = run_pb2.RUN_STATUS_UNSPECIFIED
    QUEUED = run_pb2.RUN_STATUS_QUEUED
    RUNNING = run_pb2.RUN_STATUS_RUNNING
    COMPLETED = run_pb2.RUN_STATUS_COMPLETED
    WARNING = run_pb2.RUN_STATUS_WARNING
    FAILED = run_pb2.RUN_STATUS_FAILED
    CANCELLED = run_pb2.RUN_STATUS_CANCELLED
    UNCHANGED = run_pb2.RUN_STATUS_UNCHANGED

    @property
    def label(self) -> str:
        """``completed``: the name in logs, metrics labels and event routing keys."""
        return self.name.lower()

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @classmethod
    def parse(cls, value: object) -> RunStatus:
        """A status from its number, its name (``COMPLETED``, ``completed``) or its
        proto name (``RUN_STATUS_COMPLETED``); ValueError for anything else."""
        return _parse(cls, value, "RUN_STATUS_", "run status")


class ErrorClass(enum.IntEnum):
    """Why a run failed; decides whether it is retried and what the operator reads."""

    UNSPECIFIED = run_pb2.ERROR_CLASS_UNSPECIFIED
    TRANSIENT = run_pb2.ERROR_CLASS_TRANSIENT
    PERMANENT = run_pb2.ERROR_CLASS_PERMANENT
    CREDENTIALS = run_pb2.ERROR_CLASS_CREDENTIALS
    SOURCE_SHAPE = run_pb2.ERROR_CLASS_SOURCE_SHAPE
    MAPPING = run_pb2.ERROR_CLASS_MAPPING
    ATTEMPTS_EXHAUSTED = run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED

    @property
    def repeats_until_fixed(self) -> bool:
        """A failure that happens again on every run until someone acts: it counts
        towards a schedule's auto-pause. Transient failures (and attempts
        exhausted by them) do not."""
        return self in REPEATS_UNTIL_FIXED

    @classmethod
    def parse(cls, value: object) -> ErrorClass:
        """An error class from its number or name; empty means UNSPECIFIED."""
        return _parse(cls, value, "ERROR_CLASS_", "error class", empty=cls.UNSPECIFIED)


def _parse(cls: type[E], value: object, prefix: str, what: str, *, empty: E | None = None) -> E:
    """A member of ``cls`` from itself, its number, its name in any case, or its
    proto name (``prefix`` + name); ``empty`` for no value, when given."""
    if isinstance(value, cls):
        return value
    if isinstance(value, int):
        return cls(value)
    name = str(value or "").strip().upper().removeprefix(prefix)
    if not name and empty is not None:
        return empty
    try:
        return cls[name]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}") from None


# --- the status sets ------------------------------------------------------------

LIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.WARNING, RunStatus.FAILED,
                      RunStatus.CANCELLED, RunStatus.UNCHANGED})
# Nothing needs a person: the run did its job, or had nothing to do.
SUCCEEDED = frozenset({RunStatus.COMPLETED, RunStatus.UNCHANGED})
# A live run ending in one of these did work: it read changed input and wrote it.
# Its end is the profile's last change (ferry_domain.profiles.staleness).
DID_WORK = frozenset({RunStatus.COMPLETED, RunStatus.WARNING})
# A live run ending in one of these stores the source's new freshness token
# (in the same transaction as the terminal state; a dry run never does).
ADVANCES_FRESHNESS = DID_WORK
# A finished scheduled run in one of these ends its schedule's failure streak.
ENDS_FAILURE_STREAK = frozenset({RunStatus.COMPLETED, RunStatus.WARNING, RunStatus.UNCHANGED})
# A FAILED run keeps its evidence (source file, sample, rejected rows) until a
# later live run of its profile ends in one of these (invariant 12).
RELEASES_EVIDENCE = ADVANCES_FRESHNESS
RETRYABLE = frozenset({RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.WARNING})
REPEATS_UNTIL_FIXED = frozenset({ErrorClass.PERMANENT, ErrorClass.CREDENTIALS,
                                 ErrorClass.SOURCE_SHAPE, ErrorClass.MAPPING})


def finish_status(*, errors: int, skipped: int, over_threshold: bool) -> RunStatus:
    """The status a run that read its source to the end finishes with, from its
    row counts: FAILED above the error threshold, WARNING with rows skipped or
    in error, else COMPLETED. Rows left out on purpose by the profile's
    filters (``filtered``) and unchanged rows need nobody: they never count."""
    if over_threshold:
        return RunStatus.FAILED
    if errors or skipped:
        return RunStatus.WARNING
    return RunStatus.COMPLETED


def advances_freshness(status: RunStatus, *, dry_run: bool) -> bool:
    """Whether finishing in ``status`` stores the source's new freshness token."""
    return not dry_run and status in ADVANCES_FRESHNESS


def is_last_good_run(status: RunStatus, *, dry_run: bool) -> bool:
    """Whether a run finishing in ``status`` becomes its profile's last good
    run, whose source shape later runs are compared with (shape drift): a
    live run that ended COMPLETED or WARNING, as for freshness."""
    return not dry_run and status in ADVANCES_FRESHNESS


def clears_dry_run_gate(status: RunStatus, *, dry_run: bool) -> bool:
    """Whether finishing in ``status`` lets live runs of a changed mapping start."""
    return dry_run and status in ADVANCES_FRESHNESS


# --- transitions ------------------------------------------------------------------

class ClaimVerdict(enum.IntEnum):
    """What a claim on a run finds (numbers of ``ferry.v1.ClaimOutcome``)."""

    CLAIMED = execution_service_pb2.CLAIM_OUTCOME_CLAIMED
    ALREADY_CLAIMED = execution_service_pb2.CLAIM_OUTCOME_ALREADY_CLAIMED
    FINISHED = execution_service_pb2.CLAIM_OUTCOME_FINISHED
    DEFERRED = execution_service_pb2.CLAIM_OUTCOME_DEFERRED
    STALE = execution_service_pb2.CLAIM_OUTCOME_STALE


def claim_verdict(status: RunStatus, *, current_attempt: int, asked_attempt: int
                  ) -> ClaimVerdict:
    """Whether a run found in ``status`` may be claimed for ``asked_attempt``
    (0: whatever attempt it is on). CLAIMED means "try the compare-and-set";
    the other verdicts end the claim without a write."""
    if status in TERMINAL:
        return ClaimVerdict.FINISHED
    if status == RunStatus.RUNNING:
        return ClaimVerdict.ALREADY_CLAIMED
    if asked_attempt > 0 and asked_attempt != current_attempt:
        return ClaimVerdict.STALE
    return ClaimVerdict.CLAIMED


class AfterAttempt(enum.Enum):
    """What becomes of a RUNNING run whose runner let go of it."""

    REQUEUE = "requeue"      # QUEUED again (``Next.attempt`` says which attempt)
    EXHAUSTED = "exhausted"  # FAILED with ATTEMPTS_EXHAUSTED
    CANCELLED = "cancelled"  # a cancel was asked: CANCELLED


@dataclass(frozen=True)
class Next:
    outcome: AfterAttempt
    attempt: int

    @property
    def status(self) -> RunStatus:
        return {AfterAttempt.REQUEUE: RunStatus.QUEUED,
                AfterAttempt.EXHAUSTED: RunStatus.FAILED,
                AfterAttempt.CANCELLED: RunStatus.CANCELLED}[self.outcome]

    @property
    def error_class(self) -> ErrorClass:
        if self.outcome is AfterAttempt.EXHAUSTED:
            return ErrorClass.ATTEMPTS_EXHAUSTED
        return ErrorClass.UNSPECIFIED


def after_attempt(*, attempt: int, max_attempts: int, cancel_requested: bool,
                  attempt_used: bool = True) -> Next:
    """The one rule for a run its runner let go of (handed back, or lease
    expired): a cancel that was asked wins; an attempt that was not used is
    tried again as the same attempt; a used attempt is followed by the next
    one while attempts are left, else the run fails as exhausted."""
    if cancel_requested:
        return Next(AfterAttempt.CANCELLED, attempt)
    if not attempt_used:
        return Next(AfterAttempt.REQUEUE, attempt)
    if attempt < max_attempts:
        return Next(AfterAttempt.REQUEUE, attempt + 1)
    return Next(AfterAttempt.EXHAUSTED, attempt)


class CancelVerdict(enum.Enum):
    CANCEL_NOW = "cancel_now"  # QUEUED: ends CANCELLED at once
    ASK_RUNNER = "ask_runner"  # RUNNING: the runner stops at its next batch boundary
    REFUSE = "refuse"          # already terminal


def cancel_verdict(status: RunStatus) -> CancelVerdict:
    if status == RunStatus.QUEUED:
        return CancelVerdict.CANCEL_NOW
    if status == RunStatus.RUNNING:
        return CancelVerdict.ASK_RUNNER
    return CancelVerdict.REFUSE


def check_finish(status: RunStatus) -> None:
    """A runner finishes a run only with a terminal status (ValueError otherwise)."""
    if status not in TERMINAL:
        raise ValueError("status must be COMPLETED, WARNING, FAILED, CANCELLED or UNCHANGED")
