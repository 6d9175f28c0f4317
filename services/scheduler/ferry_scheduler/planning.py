"""Planning: which fires of a leased schedule run now, which are missed, and
when the schedule fires next. Pure: no I/O, no clock, no gRPC or AMQP.

Given the schedule's nominal ``next_fire_time`` and ``now``, every fire time
``t <= now`` starting at ``next_fire_time`` is *due*. A due fire is *late*
when ``now - t > misfire_grace``. The catch-up policy then decides:

* ``LATEST`` (the default): the due fires coalesce into one run, for the
  latest of them; every other due fire is recorded missed with reason
  ``COALESCED``.
* ``ALL``: every due fire runs, at most ``max_runs`` per pass (the next pass
  carries on from the first one not run).
* ``SKIP``: fires within the grace run; late fires are recorded missed with
  reason ``MISFIRE``.

At most ``max_scan`` due fires are looked at per pass: a schedule that was
down for a very long time catches up over several passes, each bounded.
Jitter delays the publish of a run by a stable pseudo-random amount (derived
from the schedule id and fire time, so every replica and every retry agree);
it never changes the nominal fire time, which is the run's identity.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ferry_domain.schedules.misfire import DEFAULT_MISFIRE_GRACE, misfire_grace

MAX_RUNS_PER_PASS = 100
MAX_SCAN_PER_PASS = 1000

FireTimes = Callable[[datetime, int], list[datetime]]
"""``(after, count) -> the next count fire times strictly after ``after``."""


class CatchUp(enum.Enum):
    LATEST = "latest"
    ALL = "all"
    SKIP = "skip"


class MissedReason(enum.Enum):
    MISFIRE = "misfire"
    COALESCED = "coalesced"


@dataclass(frozen=True)
class ScheduleState:
    """What planning needs to know about a leased schedule."""

    schedule_id: str
    next_fire_time: datetime | None
    last_fire_time: datetime | None = None
    misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE
    catch_up: CatchUp = CatchUp.LATEST
    jitter: timedelta = timedelta(0)
    paused: bool = False


@dataclass(frozen=True)
class Fire:
    """A fire to turn into a run: nominal time, and when to publish it."""

    fire_time: datetime
    publish_at: datetime

    @property
    def delay(self) -> timedelta:
        return self.publish_at - self.fire_time


@dataclass(frozen=True)
class MissedFire:
    fire_time: datetime
    reason: MissedReason


@dataclass(frozen=True)
class Plan:
    fires: list[Fire] = field(default_factory=list)
    missed: list[MissedFire] = field(default_factory=list)
    next_fire_time: datetime | None = None
    last_fire_time: datetime | None = None

    @property
    def changed(self) -> bool:
        return bool(self.fires or self.missed)


def jitter_delay(schedule_id: str, fire_time: datetime, jitter: timedelta) -> timedelta:
    """A stable delay in ``[0, jitter)`` for one fire of one schedule."""
    if jitter <= timedelta(0):
        return timedelta(0)
    key = f"{schedule_id}@{fire_time.isoformat()}".encode()
    fraction = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
    return timedelta(microseconds=int(jitter / timedelta(microseconds=1) * fraction))


def plan_fires(state: ScheduleState, now: datetime, fire_times: FireTimes, *,
               max_runs: int = MAX_RUNS_PER_PASS,
               max_scan: int = MAX_SCAN_PER_PASS) -> Plan:
    """Decide what a pass does with one leased schedule (see the module doc)."""
    if state.paused or state.next_fire_time is None or state.next_fire_time > now:
        # Not due (or paused: the registry recomputes next_fire_time on resume).
        return Plan(next_fire_time=state.next_fire_time, last_fire_time=state.last_fire_time)
    due, following = _due_fires(state.next_fire_time, now, fire_times, max_scan)
    grace = misfire_grace(state.misfire_grace)

    run: list[datetime]
    missed: list[MissedFire] = []
    if state.catch_up is CatchUp.ALL:
        run = due[:max_runs]
        if len(due) > max_runs:
            following = due[max_runs]
    elif state.catch_up is CatchUp.SKIP:
        late = [t for t in due if now - t > grace]
        timely = due[len(late):]
        run = timely[:max_runs]
        if len(timely) > max_runs:
            following = timely[max_runs]
        missed = [MissedFire(t, MissedReason.MISFIRE) for t in late]
    else:
        run = due[-1:]
        missed = [MissedFire(t, MissedReason.COALESCED) for t in due[:-1]]
        if following is not None and following <= now:
            # Only part of a long backlog was scanned: coalesce it, carry on next pass.
            run = []
            missed = [MissedFire(t, MissedReason.COALESCED) for t in due]

    fires = [Fire(t, max(now, t + jitter_delay(state.schedule_id, t, state.jitter)))
             for t in run]
    last = run[-1] if run else state.last_fire_time
    return Plan(fires=fires, missed=missed, next_fire_time=following, last_fire_time=last)


def _due_fires(first: datetime, now: datetime, fire_times: FireTimes,
               max_scan: int) -> tuple[list[datetime], datetime | None]:
    """Due fire times from ``first`` (inclusive, at most ``max_scan``), and the
    fire time after them (None when the schedule never fires again)."""
    due = [first]
    batch = 64
    while len(due) < max_scan:
        more = fire_times(due[-1], min(batch, max_scan - len(due) + 1))
        if not more:
            return due, None
        for moment in more:
            if moment > now or len(due) >= max_scan:
                return due, moment
            due.append(moment)
        batch = min(batch * 2, 512)
    more = fire_times(due[-1], 1)
    return due, (more[0] if more else None)
