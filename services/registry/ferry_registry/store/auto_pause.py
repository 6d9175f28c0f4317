"""The registry's side of auto-pause: a finished run's effect on the schedule
that started it, as ``ferry_domain.runs.auto_pause.decide`` rules it, written
in the run's finishing transaction.

WARNED puts a WARNING event on the run ("one more and it auto-pauses");
PAUSED pauses the schedule with a reason naming the run and its error, also
put on the run as a WARNING event; ``RunTransitions.apply_auto_pause`` then
records it on the profile and writes its ``auto_paused`` webhook notices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ferry.v1 import run_pb2, schedule_pb2
from ferry_domain.runs.auto_pause import FinishedRun, Streak, StreakOutcome, decide, touches_streak
from ferry_domain.runs.states import ErrorClass, RunStatus

from ferry_registry.store import events
from ferry_registry.store.statements import SCHEDULE_STREAK, schedule_update

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paused:
    """A schedule this run's failure paused."""

    schedule_id: str
    reason: str


def apply(session, run, now: datetime) -> Paused | None:
    """Move the failure streak of ``run``'s schedule (``run``: the finished
    run's columns); a run not started by a schedule costs no query. Returns
    the pause when the run paused its schedule."""
    finished = FinishedRun(RunStatus(run.status), ErrorClass(run.error_class),
                           scheduled=bool(run.schedule_id) and
                           run.trigger == run_pb2.RUN_TRIGGER_SCHEDULE,
                           dry_run=run.dry_run)
    if not touches_streak(finished):
        return None
    conn = session.connection()
    schedule = conn.execute(SCHEDULE_STREAK, {"id": run.schedule_id}).first()
    if schedule is None:
        return None
    limit = schedule_pb2.Schedule.FromString(schedule.spec).auto_pause_after
    decision = decide(finished, Streak(schedule.consecutive_failures, limit, schedule.paused))
    if decision.outcome is StreakOutcome.UNTOUCHED:
        return None
    paused = None
    values: dict[str, object] = {"consecutive_failures": decision.consecutive_failures,
                                 "update_time": now}
    if decision.outcome is StreakOutcome.PAUSED:
        reason = (f"auto-paused after {decision.consecutive_failures} consecutive permanent "
                  f"failures (last: run {run.id}: {run.error_message[:200]})")
        values.update(paused=True, next_fire_time=None, pause_reason=reason)
        paused = Paused(schedule.id, reason)
        events.insert(conn, run, now, reason, type=run_pb2.RUN_EVENT_TYPE_WARNING,
                      attributes={"schedule_id": schedule.id, "auto_paused": "true"})
        fields = {"schedule_id": schedule.id, "profile": schedule.profile}
        session.after_commit(lambda: log.warning("schedule auto-paused",
                                                 extra={"fields": fields}))
    elif decision.outcome is StreakOutcome.WARNED:
        events.insert(conn, run, now,
                      f"schedule {schedule.id} has failed {limit - 1} times in a row with "
                      f"permanent errors; one more and it auto-pauses",
                      type=run_pb2.RUN_EVENT_TYPE_WARNING,
                      attributes={"schedule_id": schedule.id,
                                  "consecutive_failures": str(limit - 1)})
    params = {f"v_{name}": value for name, value in values.items()}
    params["b_id"] = schedule.id
    conn.execute(schedule_update(tuple(values)), params)
    return paused
