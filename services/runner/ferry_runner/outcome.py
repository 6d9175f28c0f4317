"""What to do with a claim outcome and how a run ends (pure: no grpc or pika).

- ``decide_claim``: the registry's ClaimOutcome name -> what the delivery handler does.
- ``finish_from_result``: an engine ``RunResult`` -> the FinishRun fields.
- ``finish_from_failure``: a classified permanent failure -> the FinishRun fields.
- ``Ending``: the one way a run ends here: finish, release (hand back), or abandon.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

from ferry_runner.classify import HINTS, TRANSIENT, Classification

TERMINAL_STATUSES = ("COMPLETED", "WARNING", "FAILED", "CANCELLED", "UNCHANGED")
COUNT_FIELDS = ("rows_read", "created", "updated", "unchanged", "skipped", "errors", "written")


class ClaimDecision(enum.Enum):
    RUN = "run"              # CLAIMED: ack, then execute under the lease
    DUPLICATE = "duplicate"  # ALREADY_CLAIMED / FINISHED / STALE: ack and drop
    DEFERRED = "deferred"    # another run of the profile is live: ack; republished later
    INVALID = "invalid"      # UNSPECIFIED or unknown: the registry misbehaves; requeue


_CLAIM_DECISIONS = {
    "CLAIM_OUTCOME_CLAIMED": ClaimDecision.RUN,
    "CLAIM_OUTCOME_ALREADY_CLAIMED": ClaimDecision.DUPLICATE,
    "CLAIM_OUTCOME_FINISHED": ClaimDecision.DUPLICATE,
    "CLAIM_OUTCOME_STALE": ClaimDecision.DUPLICATE,
    "CLAIM_OUTCOME_DEFERRED": ClaimDecision.DEFERRED,
}


def decide_claim(outcome_name: str) -> ClaimDecision:
    return _CLAIM_DECISIONS.get(outcome_name, ClaimDecision.INVALID)


def counts_dict(counts: Any) -> dict[str, int]:
    """Counts from an engine ``Counts`` (or None) as a plain dict."""
    if counts is None:
        return dict.fromkeys(COUNT_FIELDS, 0)
    if isinstance(counts, dict):
        return {name: int(counts.get(name, 0) or 0) for name in COUNT_FIELDS}
    return {name: int(getattr(counts, name, 0) or 0) for name in COUNT_FIELDS}


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Rejected:
    row: int
    outcome: str
    field: str
    message: str
    values: dict[str, str]


@dataclass(frozen=True)
class FinishPlan:
    """The fields of FinishRun, by name."""

    status: str
    counts: dict[str, int]
    first_error: RowProblem | None = None
    first_skip_reason: str = ""
    warnings: tuple[str, ...] = ()
    error_class: str = ""
    error_message: str = ""
    hint: str = ""
    rejected_rows: tuple[Rejected, ...] = ()
    rejected_columns: tuple[str, ...] = ()
    rows_total: int = 0
    # Freshness evidence (a ferry.v1.FreshnessEvidence) and the token the
    # registry stores when a live run ends COMPLETED or WARNING.
    freshness: Any = None
    new_freshness_token: str = ""
    # Files the run read (retention acts on them) and what retention did
    # (ferry.v1.RetentionAction messages).
    source_paths: tuple[str, ...] = ()
    retention_actions: tuple[Any, ...] = ()
    # Where the masked sample of the first source rows was saved (sample_step).
    sample_location: str = ""


class EndingKind(enum.Enum):
    FINISH = "finish"    # FinishRun with a terminal status
    RELEASE = "release"  # ReleaseRun: queued again as the next attempt (or fails)
    ABANDON = "abandon"  # lease lost: another runner may own the run; touch nothing


@dataclass(frozen=True)
class Ending:
    kind: EndingKind
    finish: FinishPlan | None = None
    reason: str = ""
    error_class: str = ""
    attempt_used: bool = False
    events: tuple[str, ...] = field(default=())

    @classmethod
    def finished(cls, plan: FinishPlan) -> Ending:
        return cls(EndingKind.FINISH, finish=plan)

    @classmethod
    def released(cls, reason: str, *, attempt_used: bool, error_class: str = "") -> Ending:
        return cls(EndingKind.RELEASE, reason=reason, attempt_used=attempt_used,
                   error_class=error_class)

    @classmethod
    def abandoned(cls, reason: str) -> Ending:
        return cls(EndingKind.ABANDON, reason=reason)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def finish_from_result(result: Any) -> FinishPlan:
    """FinishRun fields from an engine ``RunResult``."""
    status = str(result.status).upper()
    if status not in TERMINAL_STATUSES:
        raise ValueError(f"engine returned unknown status {result.status!r}")
    first = getattr(result, "first_error", None)
    error_class = _text(getattr(result, "error_class", "")).upper()
    hint = HINTS.get(error_class, "") if status == "FAILED" else ""
    if status == "FAILED" and first is not None:
        # Failed on the error threshold: the rows are the problem, not the source.
        hint = (f"rows were rejected above the profile's error threshold (first: row "
                f"{first.row}, field {_text(first.field) or '-'}); list them with `ferry runs "
                f"errors RUN_ID`, fix the source data or the mapping, or raise error_threshold")
    return FinishPlan(
        status=status,
        counts=counts_dict(getattr(result, "counts", None)),
        first_error=RowProblem(int(first.row), _text(first.field), _text(first.message))
        if first is not None else None,
        first_skip_reason=_text(getattr(result, "first_skip_reason", "")),
        warnings=tuple(_text(w) for w in getattr(result, "warnings", []) or []),
        error_class=error_class,
        error_message=_text(getattr(result, "error_message", "")),
        hint=hint,
        rejected_rows=tuple(
            Rejected(int(r.row), _text(r.outcome), _text(r.field), _text(r.message),
                     {str(k): _text(v) for k, v in (r.values or {}).items()})
            for r in getattr(result, "rejected_rows", []) or []),
        rejected_columns=tuple(_text(c) for c in getattr(result, "rejected_columns", []) or []),
        rows_total=int(getattr(result, "rows_total", 0) or 0),
        source_paths=tuple(str(p) for p in getattr(result, "source_paths", []) or []),
    )


def finish_from_failure(failure: Classification, counts: Any = None,
                        source_paths: Any = ()) -> FinishPlan:
    """FinishRun fields for a run that failed for good (not transient)."""
    if failure.error_class == TRANSIENT:
        raise ValueError("transient failures are released, not finished")
    return FinishPlan(status="FAILED", counts=counts_dict(counts),
                      error_class=failure.error_class, error_message=failure.message,
                      hint=failure.hint,
                      source_paths=tuple(str(p) for p in source_paths or ()))


ADVANCES_FRESHNESS = ("COMPLETED", "WARNING")


def with_freshness(plan: FinishPlan, evidence: Any, current_token: str, *,
                   dry_run: bool) -> FinishPlan:
    """Attach the gate's evidence; the token only for a live COMPLETED/WARNING run."""
    advance = plan.status in ADVANCES_FRESHNESS and not dry_run
    return replace(plan, freshness=evidence,
                   new_freshness_token=current_token if advance else "")


def unchanged_plan(evidence: Any) -> FinishPlan:
    """The run ends UNCHANGED: the gate found the source as it was; nothing read."""
    return FinishPlan(status="UNCHANGED", counts=counts_dict(None), freshness=evidence)


def result_is_transient_failure(result: Any) -> bool:
    """An engine result that reports a transient failure instead of raising it."""
    return str(getattr(result, "status", "")).upper() == "FAILED" and \
        _text(getattr(result, "error_class", "")).upper() == TRANSIENT
