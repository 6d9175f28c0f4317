"""The run state machine: sets, conversions and transitions."""

from __future__ import annotations

import pytest
from ferry.v1 import execution_service_pb2, run_pb2
from ferry_domain.runs.states import (
    TERMINAL,
    AfterAttempt,
    CancelVerdict,
    ClaimVerdict,
    ErrorClass,
    RunStatus,
    advances_freshness,
    after_attempt,
    cancel_verdict,
    check_finish,
    claim_verdict,
    clears_dry_run_gate,
    finish_status,
)


def test_statuses_mirror_the_proto_enum() -> None:
    for name, number in run_pb2.RunStatus.items():
        assert RunStatus[name.removeprefix("RUN_STATUS_")] == number
    for name, number in run_pb2.ErrorClass.items():
        assert ErrorClass[name.removeprefix("ERROR_CLASS_")] == number
    for name, number in execution_service_pb2.ClaimOutcome.items():
        if name != "CLAIM_OUTCOME_UNSPECIFIED":
            assert ClaimVerdict[name.removeprefix("CLAIM_OUTCOME_")] == number


@pytest.mark.parametrize("text", ["COMPLETED", "completed", "RUN_STATUS_COMPLETED", 3])
def test_parse_status(text: object) -> None:
    assert RunStatus.parse(text) is RunStatus.COMPLETED


def test_parse_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown run status"):
        RunStatus.parse("DONE")
    with pytest.raises(ValueError, match="unknown error class"):
        ErrorClass.parse("OOPS")
    assert ErrorClass.parse("") is ErrorClass.UNSPECIFIED
    assert ErrorClass.parse("source_shape") is ErrorClass.SOURCE_SHAPE


def test_terminal_statuses() -> None:
    assert {s for s in RunStatus if s.terminal} == TERMINAL
    assert not RunStatus.QUEUED.terminal and not RunStatus.RUNNING.terminal
    for status in RunStatus:
        if status.terminal:
            check_finish(status)
        else:
            with pytest.raises(ValueError):
                check_finish(status)


def test_only_live_completed_or_warning_advance_freshness() -> None:
    advancing = {s for s in RunStatus if advances_freshness(s, dry_run=False)}
    assert advancing == {RunStatus.COMPLETED, RunStatus.WARNING}
    assert not any(advances_freshness(s, dry_run=True) for s in RunStatus)
    assert clears_dry_run_gate(RunStatus.WARNING, dry_run=True)
    assert not clears_dry_run_gate(RunStatus.FAILED, dry_run=True)
    assert not clears_dry_run_gate(RunStatus.COMPLETED, dry_run=False)


@pytest.mark.parametrize(("status", "asked", "verdict"), [
    (RunStatus.QUEUED, 0, ClaimVerdict.CLAIMED),
    (RunStatus.QUEUED, 2, ClaimVerdict.CLAIMED),
    (RunStatus.QUEUED, 1, ClaimVerdict.STALE),
    (RunStatus.RUNNING, 2, ClaimVerdict.ALREADY_CLAIMED),
    (RunStatus.FAILED, 2, ClaimVerdict.FINISHED),
    (RunStatus.UNCHANGED, 0, ClaimVerdict.FINISHED),
])
def test_claim_verdict(status: RunStatus, asked: int, verdict: ClaimVerdict) -> None:
    assert claim_verdict(status, current_attempt=2, asked_attempt=asked) is verdict


def test_after_attempt_requeues_while_attempts_are_left() -> None:
    step = after_attempt(attempt=1, max_attempts=3, cancel_requested=False)
    assert (step.outcome, step.attempt, step.status) == (AfterAttempt.REQUEUE, 2,
                                                         RunStatus.QUEUED)
    last = after_attempt(attempt=3, max_attempts=3, cancel_requested=False)
    assert (last.outcome, last.status, last.error_class) == (
        AfterAttempt.EXHAUSTED, RunStatus.FAILED, ErrorClass.ATTEMPTS_EXHAUSTED)


def test_after_attempt_unused_attempt_is_tried_again_and_cancel_wins() -> None:
    unused = after_attempt(attempt=3, max_attempts=3, cancel_requested=False,
                           attempt_used=False)
    assert (unused.outcome, unused.attempt) == (AfterAttempt.REQUEUE, 3)
    cancelled = after_attempt(attempt=1, max_attempts=3, cancel_requested=True)
    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.error_class is ErrorClass.UNSPECIFIED


def test_cancel_verdict() -> None:
    assert cancel_verdict(RunStatus.QUEUED) is CancelVerdict.CANCEL_NOW
    assert cancel_verdict(RunStatus.RUNNING) is CancelVerdict.ASK_RUNNER
    assert all(cancel_verdict(s) is CancelVerdict.REFUSE for s in TERMINAL)


def test_failures_that_repeat_until_fixed() -> None:
    assert {c for c in ErrorClass if c.repeats_until_fixed} == {
        ErrorClass.PERMANENT, ErrorClass.CREDENTIALS, ErrorClass.SOURCE_SHAPE,
        ErrorClass.MAPPING}


def test_finish_status_from_counts_ignores_filtered_and_unchanged_rows():
    assert finish_status(errors=0, skipped=0, over_threshold=False) is RunStatus.COMPLETED
    assert finish_status(errors=0, skipped=1, over_threshold=False) is RunStatus.WARNING
    assert finish_status(errors=2, skipped=0, over_threshold=False) is RunStatus.WARNING
    assert finish_status(errors=2, skipped=0, over_threshold=True) is RunStatus.FAILED
