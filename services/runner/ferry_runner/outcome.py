"""What to do with a claim outcome and how a run ends (pure: no grpc or pika).

- ``decide_claim``: the registry's ClaimOutcome -> what the delivery handler does.
- ``finish_from_result``: an engine ``RunResult`` -> the FinishRun fields.
- ``finish_from_failure``: a classified permanent failure -> the FinishRun fields.
- ``Ending``: the one way a run ends here: finish, release (hand back), or abandon.

Statuses and error classes are the run state machine's enums
(``ferry_domain.runs.states``) from the engine's result to the registry call.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ferry_domain.engine.fingerprint import to_proto
from ferry_domain.engine.results import Counts, RejectedRow, RowError, RunResult
from ferry_domain.engine.run_io import RunInput, RunOutput
from ferry_domain.masking import Masker, mask_evidence
from ferry_domain.runs.states import (
    ClaimVerdict,
    ErrorClass,
    RunStatus,
    advances_freshness,
    check_finish,
)

from ferry_runner.classify import HINTS, Classification

# A run that ended in one of these read its source (to the end, or until it
# failed on it): the masked sample and retention act on its source.
READ_THE_SOURCE = frozenset({RunStatus.COMPLETED, RunStatus.WARNING, RunStatus.FAILED})


class ClaimDecision(enum.Enum):
    RUN = "run"              # CLAIMED: ack, then execute under the lease
    DUPLICATE = "duplicate"  # ALREADY_CLAIMED / FINISHED / STALE: ack and drop
    DEFERRED = "deferred"    # another run of the profile is live: ack; republished later
    INVALID = "invalid"      # UNSPECIFIED or unknown: the registry misbehaves; requeue


_CLAIM_DECISIONS = {
    ClaimVerdict.CLAIMED: ClaimDecision.RUN,
    ClaimVerdict.ALREADY_CLAIMED: ClaimDecision.DUPLICATE,
    ClaimVerdict.FINISHED: ClaimDecision.DUPLICATE,
    ClaimVerdict.STALE: ClaimDecision.DUPLICATE,
    ClaimVerdict.DEFERRED: ClaimDecision.DEFERRED,
}


def decide_claim(outcome: int) -> ClaimDecision:
    """What to do with the ``ferry.v1.ClaimOutcome`` number the registry answered."""
    try:
        return _CLAIM_DECISIONS[ClaimVerdict(outcome)]
    except ValueError:  # UNSPECIFIED, or a number this runner does not know
        return ClaimDecision.INVALID


def counts_dict(counts: Counts | None) -> dict[str, int]:
    """The fields of ``ferry.v1.RunCounts`` from an engine ``Counts`` (None: zeros)."""
    c = counts if counts is not None else Counts()
    return {"rows_read": c.rows_read, "created": c.created, "updated": c.updated,
            "unchanged": c.unchanged, "skipped": c.skipped, "errors": c.errors,
            "written": c.written, "filtered": c.filtered, "deleted": c.deleted}


@dataclass(frozen=True)
class FinishPlan:
    """The fields of FinishRun, by name."""

    status: RunStatus
    counts: dict[str, int]
    first_error: RowError | None = None
    first_skip_reason: str = ""
    warnings: tuple[str, ...] = ()
    error_class: ErrorClass = ErrorClass.UNSPECIFIED
    error_message: str = ""
    hint: str = ""
    rejected_rows: tuple[RejectedRow, ...] = ()
    rejected_columns: tuple[str, ...] = ()
    rows_total: int = 0
    # Freshness evidence (a ferry.v1.FreshnessEvidence) and the token the
    # registry stores when a live run ends COMPLETED or WARNING.
    freshness: Any = None
    new_freshness_token: str = ""
    # Drop folders: the files read with their checksums ((path, checksum)),
    # recorded under profile_digest by a live run ending COMPLETED or WARNING;
    # more_input_waiting asks the registry for a follow-up run then.
    imported_files: tuple[tuple[str, str], ...] = ()
    profile_digest: str = ""
    more_input_waiting: bool = False
    # Files the run read (retention acts on them) and what retention did
    # (ferry.v1.RetentionAction messages).
    source_paths: tuple[str, ...] = ()
    retention_actions: tuple[Any, ...] = ()
    # Where the masked sample of the first source rows was saved (sample_step).
    sample_location: str = ""
    # The same sample, capped, to store with the run (a ferry_domain.samples.StoredSample).
    sample: Any = None
    # The source's columns and sampled types (a ferry.v1.SourceShape).
    source_shape: Any = None
    # What the run read and wrote (ferry_domain.engine.run_io).
    inputs: tuple[RunInput, ...] = ()
    outputs: tuple[RunOutput, ...] = ()


class EndingKind(enum.Enum):
    FINISH = "finish"    # FinishRun with a terminal status
    RELEASE = "release"  # ReleaseRun: queued again as the next attempt (or fails)
    ABANDON = "abandon"  # lease lost: another runner may own the run; touch nothing


@dataclass(frozen=True)
class Ending:
    kind: EndingKind
    finish: FinishPlan | None = None
    reason: str = ""
    error_class: ErrorClass = ErrorClass.UNSPECIFIED
    attempt_used: bool = False
    events: tuple[str, ...] = field(default=())

    @classmethod
    def finished(cls, plan: FinishPlan) -> Ending:
        return cls(EndingKind.FINISH, finish=plan)

    @classmethod
    def released(cls, reason: str, *, attempt_used: bool,
                 error_class: ErrorClass = ErrorClass.UNSPECIFIED) -> Ending:
        return cls(EndingKind.RELEASE, reason=reason, attempt_used=attempt_used,
                   error_class=error_class)

    @classmethod
    def abandoned(cls, reason: str) -> Ending:
        return cls(EndingKind.ABANDON, reason=reason)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def finish_from_result(result: RunResult) -> FinishPlan:
    """FinishRun fields from an engine ``RunResult`` (ValueError for a status
    a run cannot finish with)."""
    status = result.status
    check_finish(status)
    first = result.first_error
    failed = status is RunStatus.FAILED
    hint = HINTS.get(result.error_class, "") if failed else ""
    if failed and first is not None:
        # Failed on the error threshold: the rows are the problem, not the source.
        hint = (f"rows were rejected above the profile's error threshold (first: row "
                f"{first.row}, field {first.field or '-'}); list them with `ferry runs "
                f"errors RUN_ID`, fix the source data or the mapping, or raise error_threshold")
    return FinishPlan(
        status=status,
        counts=counts_dict(result.counts),
        first_error=first,
        first_skip_reason=result.first_skip_reason,
        warnings=tuple(result.warnings),
        error_class=result.error_class,
        error_message=result.error_message,
        hint=hint,
        # Source values may be numbers, lists or None: the wire carries text.
        rejected_rows=tuple(
            replace(r, values={str(k): _text(v) for k, v in r.values.items()})
            for r in result.rejected_rows),
        rejected_columns=tuple(result.rejected_columns),
        rows_total=result.rows_total,
        source_paths=tuple(result.source_paths),
        source_shape=to_proto(result.source_shape) if result.source_shape is not None else None,
        inputs=tuple(result.inputs),
        outputs=tuple(result.outputs),
    )


def finish_from_failure(failure: Classification, counts: Counts | None = None,
                        source_paths: Sequence[str] = ()) -> FinishPlan:
    """FinishRun fields for a run that failed for good (not transient)."""
    if failure.transient:
        raise ValueError("transient failures are released, not finished")
    return FinishPlan(status=RunStatus.FAILED, counts=counts_dict(counts),
                      error_class=failure.error_class, error_message=failure.message,
                      hint=failure.hint, source_paths=tuple(str(p) for p in source_paths))


def with_freshness(plan: FinishPlan, evidence: Any, current_token: str, *,
                   dry_run: bool, imported_files: tuple[tuple[str, str], ...] = (),
                   profile_digest: str = "", more_input_waiting: bool = False) -> FinishPlan:
    """Attach the gate's evidence; the token, the drop-folder files read and
    the follow-up wish only when the run's end advances the source's
    freshness (``states.advances_freshness``)."""
    advance = advances_freshness(plan.status, dry_run=dry_run)
    if not advance:
        return replace(plan, freshness=evidence)
    return replace(plan, freshness=evidence, new_freshness_token=current_token,
                   imported_files=imported_files, profile_digest=profile_digest,
                   more_input_waiting=more_input_waiting)


def unchanged_plan(evidence: Any) -> FinishPlan:
    """The run ends UNCHANGED: the gate found the source as it was; nothing read."""
    return FinishPlan(status=RunStatus.UNCHANGED, counts=counts_dict(None), freshness=evidence)


def masked_plan(plan: FinishPlan, masker: Masker) -> FinishPlan:
    """The plan with its evidence masked (``masking.mask_evidence``): rejected
    rows, first error, skip reason, error message and warnings."""
    rows, first, (skip, error, *warnings) = mask_evidence(
        masker, plan.rejected_rows, plan.first_error,
        (plan.first_skip_reason, plan.error_message, *plan.warnings))
    return replace(plan, rejected_rows=tuple(rows), first_error=first, first_skip_reason=skip,
                   error_message=error, warnings=tuple(warnings))


def result_is_transient_failure(result: RunResult) -> bool:
    """An engine result that reports a transient failure instead of raising it."""
    return result.status is RunStatus.FAILED and result.error_class is ErrorClass.TRANSIENT
