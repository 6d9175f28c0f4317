"""Auto-pause: a schedule whose runs keep failing for a reason that needs a
person stops firing. Pure: no I/O, no clock.

Each finished scheduled live run moves its schedule's failure streak:

- FAILED with an error class that repeats until fixed (PERMANENT,
  CREDENTIALS, SOURCE_SHAPE, MAPPING) adds one to the streak. One failure
  before ``auto_pause_after`` the run gets a warning; at ``auto_pause_after``
  the schedule is paused (unless it already is);
- COMPLETED, WARNING and UNCHANGED end the streak;
- anything else (a transient failure, attempts exhausted by transient
  failures, a cancel) leaves it as it is.

Dry runs and runs not started by a schedule never touch a streak. A run the
dry-run gate ended is not a finished run here: the registry does not ask.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ferry_domain.runs.states import ENDS_FAILURE_STREAK, ErrorClass, RunStatus


class StreakOutcome(enum.Enum):
    """What a finished run does to its schedule."""

    UNTOUCHED = "untouched"  # nothing to write
    RESET = "reset"          # the streak ends (back to 0)
    COUNTED = "counted"      # one more failure, the limit still some way off
    WARNED = "warned"        # one more failure; the next one pauses the schedule
    PAUSED = "paused"        # the limit is reached: the schedule is paused


@dataclass(frozen=True)
class FinishedRun:
    status: RunStatus
    error_class: ErrorClass
    scheduled: bool  # started by a schedule fire (trigger SCHEDULE)
    dry_run: bool


@dataclass(frozen=True)
class Streak:
    """The schedule as the run finds it."""

    consecutive_failures: int
    auto_pause_after: int  # 0: never auto-pause
    paused: bool


@dataclass(frozen=True)
class StreakDecision:
    outcome: StreakOutcome
    consecutive_failures: int  # the schedule's streak after the run


def touches_streak(run: FinishedRun) -> bool:
    """Whether ``run`` can move a streak at all: a live run started by a schedule."""
    return run.scheduled and not run.dry_run


def decide(run: FinishedRun, streak: Streak) -> StreakDecision:
    """How ``run`` moves the failure streak of the schedule that started it."""
    if not touches_streak(run):
        return StreakDecision(StreakOutcome.UNTOUCHED, streak.consecutive_failures)
    if run.status == RunStatus.FAILED and run.error_class.repeats_until_fixed:
        failures = streak.consecutive_failures + 1
        limit = streak.auto_pause_after
        if limit > 0 and failures >= limit and not streak.paused:
            return StreakDecision(StreakOutcome.PAUSED, failures)
        if limit > 1 and failures == limit - 1:
            return StreakDecision(StreakOutcome.WARNED, failures)
        return StreakDecision(StreakOutcome.COUNTED, failures)
    if run.status in ENDS_FAILURE_STREAK and streak.consecutive_failures:
        return StreakDecision(StreakOutcome.RESET, 0)
    return StreakDecision(StreakOutcome.UNTOUCHED, streak.consecutive_failures)
