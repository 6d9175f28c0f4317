"""The auto-pause decision: how a finished run moves its schedule's failure streak."""

from __future__ import annotations

import pytest
from ferry_domain.runs.auto_pause import (
    FinishedRun,
    Streak,
    StreakDecision,
    StreakOutcome,
    decide,
    touches_streak,
)
from ferry_domain.runs.states import ErrorClass, RunStatus


def failed(error_class: ErrorClass = ErrorClass.PERMANENT, *, scheduled: bool = True,
           dry_run: bool = False) -> FinishedRun:
    return FinishedRun(RunStatus.FAILED, error_class, scheduled=scheduled, dry_run=dry_run)


@pytest.mark.parametrize(("before", "outcome"), [
    (0, StreakOutcome.COUNTED),
    (2, StreakOutcome.COUNTED),
    (3, StreakOutcome.WARNED),   # the 4th of 5: one more and it pauses
    (4, StreakOutcome.PAUSED),
    (7, StreakOutcome.PAUSED),   # over the limit (the limit was lowered)
])
def test_failures_that_repeat_until_fixed_count_warn_then_pause(before, outcome) -> None:
    decision = decide(failed(), Streak(before, auto_pause_after=5, paused=False))
    assert decision == StreakDecision(outcome, before + 1)


@pytest.mark.parametrize("error_class", [ErrorClass.PERMANENT, ErrorClass.CREDENTIALS,
                                         ErrorClass.SOURCE_SHAPE, ErrorClass.MAPPING])
def test_each_class_that_needs_a_person_counts(error_class) -> None:
    assert decide(failed(error_class), Streak(0, 5, False)).outcome is StreakOutcome.COUNTED


@pytest.mark.parametrize("error_class", [ErrorClass.TRANSIENT, ErrorClass.ATTEMPTS_EXHAUSTED,
                                         ErrorClass.UNSPECIFIED])
def test_transient_failures_leave_the_streak_alone(error_class) -> None:
    assert decide(failed(error_class), Streak(3, 5, False)) == StreakDecision(
        StreakOutcome.UNTOUCHED, 3)


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.WARNING,
                                    RunStatus.UNCHANGED])
def test_a_run_that_did_its_job_ends_the_streak(status) -> None:
    run = FinishedRun(status, ErrorClass.UNSPECIFIED, scheduled=True, dry_run=False)
    assert decide(run, Streak(3, 5, False)) == StreakDecision(StreakOutcome.RESET, 0)
    assert decide(run, Streak(0, 5, False)).outcome is StreakOutcome.UNTOUCHED


def test_a_cancelled_run_leaves_the_streak_alone() -> None:
    run = FinishedRun(RunStatus.CANCELLED, ErrorClass.UNSPECIFIED, scheduled=True,
                      dry_run=False)
    assert decide(run, Streak(2, 5, False)).outcome is StreakOutcome.UNTOUCHED


def test_dry_and_unscheduled_runs_never_touch_a_streak() -> None:
    streak = Streak(4, 5, False)
    assert decide(failed(dry_run=True), streak).outcome is StreakOutcome.UNTOUCHED
    assert decide(failed(scheduled=False), streak).outcome is StreakOutcome.UNTOUCHED
    assert not touches_streak(failed(dry_run=True))
    assert not touches_streak(failed(scheduled=False))
    assert touches_streak(failed())


def test_a_paused_schedule_keeps_counting_and_a_zero_limit_never_pauses() -> None:
    assert decide(failed(), Streak(5, 5, paused=True)) == StreakDecision(
        StreakOutcome.COUNTED, 6)
    assert decide(failed(), Streak(40, 0, False)) == StreakDecision(
        StreakOutcome.COUNTED, 41)


def test_a_limit_of_one_pauses_at_the_first_failure_without_a_warning() -> None:
    assert decide(failed(), Streak(0, 1, False)).outcome is StreakOutcome.PAUSED
    assert decide(failed(), Streak(0, 2, False)).outcome is StreakOutcome.WARNED
