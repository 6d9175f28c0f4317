"""The one place a run's status change is recorded.

``RunTransitions.record`` is called, inside the write transaction, right after
a statement changed a run's status (creation included), with the run's
columns as that statement left them. It writes and announces the change
together:

- the STATUS event on the run's timeline (its sequence orders the change);
- the run lifecycle event, handed to the relay once the transaction commits;
- ``ferry_runs_total`` (and, for a terminal status, ``ferry_runs_finished_total``,
  the attempt's duration and ``ferry_rows_total``), counted after commit;
- the structured log line (``run_id``, ``profile``, ``status``, ``attempt``),
  written after commit;
- the wake-up of ``WatchRun`` streams and, for a QUEUED run, its hand-over to
  one ``StreamQueuedRuns`` subscriber, after commit;
- the webhook notices of a finished live run (``failed``, ``recovered``),
  written to the outbox in the same transaction (``store.outbox``).

``RunTransitions.apply_auto_pause`` moves a finished run's schedule streak
(``store.auto_pause``); a pause is recorded as a profile event with its
``auto_paused`` notices.

``RunTransitions.let_go`` applies ``states.after_attempt`` to a RUNNING run
whose runner let go of it (ReleaseRun, or the reaper on an expired lease).
"""

from __future__ import annotations

import logging
from datetime import datetime

from ferry.metrics import FerryMetrics
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.notifications import Notice
from ferry_domain.runs.states import TERMINAL, AfterAttempt, Next, RunStatus

from ferry_registry.convert import run_to_proto
from ferry_registry.notify import Notifications, record_status_change
from ferry_registry.store import auto_pause, events, profile_events
from ferry_registry.store.outbox import Outbox
from ferry_registry.store.statements import PROFILE_BY_NAME, run_update

log = logging.getLogger("ferry_registry.runs")

_COUNT_COLUMNS = ("created", "updated", "unchanged", "written", "skipped", "errors",
                  "filtered", "deleted")


class RunTransitions:
    def __init__(self, notes: Notifications, metrics: FerryMetrics | None = None,
                 outbox: Outbox | None = None) -> None:
        self._notes = notes
        self._metrics = metrics
        self._outbox = outbox or Outbox()

    def record(self, session, run, when: datetime, message: str, log_message: str, *,
               level: int = logging.INFO, **log_fields: object) -> run_pb2.Run:
        """Record that ``run`` (its columns after the change) entered its status
        at ``when``; ``message`` is the timeline's, ``log_message`` the log's.
        Returns the run as a message."""
        status = run.status
        sequence = events.insert(session.connection(), run, when,
                                 message or RunStatus(status).label,
                                 type=run_pb2.RUN_EVENT_TYPE_STATUS)
        proto = run_to_proto(run)
        record_status_change(session, proto, when, sequence)
        if self._metrics is not None:
            self._count(session, run)
        log_after_commit(session, log_message, run, level=level, **log_fields)
        self._outbox.for_run(session, run, when)
        self._notes.run_changed(session)
        if status == RunStatus.QUEUED:
            self._notes.run_queued(session, proto)
        return proto

    def _count(self, session, run) -> None:
        metrics = self._metrics
        status = run.status
        if status not in TERMINAL:
            session.after_commit(lambda: metrics.run_entered(status))
            return
        entity, operation = run.entity_type, run.operation
        duration = ((run.end_time - run.start_time).total_seconds()
                    if run.end_time is not None and run.start_time is not None else None)
        counts = {column: getattr(run, column) or 0 for column in _COUNT_COLUMNS}

        def finished() -> None:
            metrics.run_finished(status, entity, operation, duration)
            metrics.row_counts(counts)

        session.after_commit(finished)

    def let_go(self, session, run_id: str, when: datetime, step: Next, message: str,
               log_message: str, *, level: int = logging.INFO,
               **log_fields: object) -> run_pb2.Run:
        """A RUNNING run its runner let go of, moved as ``step`` says: QUEUED
        again (lease and publish time cleared, so the scheduler sends it again),
        or ended (CANCELLED, or FAILED as exhausted) with ``message`` as its
        error; an ended scheduled run moves its schedule's failure streak."""
        if step.outcome is AfterAttempt.REQUEUE:
            values = {"status": RunStatus.QUEUED, "attempt": step.attempt,
                      "lease_owner": None, "lease_expires_at": None,
                      "published_time": None, "update_time": when}
        else:
            values = {"status": step.status, "error_class": step.error_class,
                      "error_message": message, "end_time": when, "update_time": when,
                      "lease_owner": None, "lease_expires_at": None}
        run = update_run(session, run_id, values)
        proto = self.record(session, run, when, message, log_message, level=level,
                            **log_fields)
        if step.outcome is not AfterAttempt.REQUEUE:
            self.apply_auto_pause(session, run, when)
        return proto

    def apply_auto_pause(self, session, run, when: datetime) -> None:
        """Move the streak of the finished ``run``'s schedule; a pause is put on
        the profile's events and sent to its ``auto_paused`` webhooks."""
        paused = auto_pause.apply(session, run, when)
        if paused is None:
            return
        conn = session.connection()
        profile_events.insert(conn, run.profile, when, profile_pb2.PROFILE_EVENT_TYPE_AUTO_PAUSED,
                              f"schedule {paused.schedule_id} {paused.reason}",
                              {"schedule_id": paused.schedule_id, "run_id": run.id})
        row = conn.execute(PROFILE_BY_NAME, {"name": run.profile}).first()
        if row is not None:
            self._outbox.for_profile(
                session, profile_pb2.Profile.FromString(row.spec), Notice.AUTO_PAUSED,
                f"schedule {paused.schedule_id} {paused.reason}", when,
                {"schedule_id": paused.schedule_id, "run_id": run.id})


def log_after_commit(session, message: str, run, *, level: int = logging.INFO,
                     **fields: object) -> None:
    """The structured log line of a run (``run_id``, ``profile``, ``status``,
    ``attempt`` and ``fields``), written once the transaction committed."""
    values = {"run_id": run.id, "profile": run.profile, "status": RunStatus(run.status).name,
              "attempt": run.attempt, **fields}
    session.after_commit(lambda: log.log(level, message, extra={"fields": values}))


def update_run(session, run_id: str, values: dict[str, object]):
    """Set ``values`` on run ``run_id``; returns the run's columns after it."""
    params = {f"v_{name}": value for name, value in values.items()}
    params["b_run_id"] = run_id
    return session.connection().execute(run_update(tuple(values)), params).one()
