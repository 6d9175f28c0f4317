"""Appending run events (the run's timeline) inside a write transaction.

Two flavours: the ORM ones (``append``, ``status_changed``, ``append_reported``)
add ``RunEventRow`` objects to the session, flushed at commit; the ``*_core``
ones insert at once with a SQLAlchemy Core statement on the session's
connection (the hot paths: create, claim, progress, finish). Within one
transaction, Core inserts come before ORM-added events (flushed at commit), so
a write path keeps its events in timeline order by using one flavour, or Core
first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ferry.v1 import run_pb2
from sqlalchemy.orm import Session

from ferry_registry.convert import run_to_proto, status_name
from ferry_registry.db.models import RunEventRow, RunRow
from ferry_registry.notify import record_status_change

log = logging.getLogger("ferry_registry.runs")

RUN_EVENTS = RunEventRow.__table__
INSERT_EVENT = RUN_EVENTS.insert()


def log_after_commit(session: Session, message: str, run: RunRow, **fields: object) -> None:
    """Log a run state change once it is committed (with run_id and profile)."""
    values = {"run_id": run.id, "profile": run.profile, "status": status_name(run.status),
              "attempt": run.attempt, **fields}
    after_commit = getattr(session, "after_commit", None)
    if after_commit is not None:
        after_commit(lambda: log.info(message, extra={"fields": values}))


def append(session: Session, run: RunRow, when: datetime, message: str, *,
           type: int = run_pb2.RUN_EVENT_TYPE_STATUS, status: int | None = None,
           attributes: dict[str, str] | None = None) -> RunEventRow:
    event = RunEventRow(run_id=run.id, event_time=when, type=type,
                        status=run.status if status is None else status,
                        attempt=run.attempt, message=message,
                        attributes=dict(attributes or {}))
    session.add(event)
    return event


def count_entered(session: Session, metrics, status: int) -> None:
    """``ferry_runs_total`` once the transaction committed (no-op without metrics)."""
    if metrics is not None:
        session.after_commit(lambda: metrics.run_entered(status))  # type: ignore[attr-defined]


def count_finished(session: Session, metrics, run: RunRow) -> None:
    """``ferry_runs_total`` / ``ferry_runs_finished_total``, the attempt's duration and
    ``ferry_rows_total`` by outcome from the final counts."""
    if metrics is None:
        return
    status, entity, operation = run.status, run.entity_type, run.operation
    duration = ((run.end_time - run.start_time).total_seconds()
                if run.end_time is not None and run.start_time is not None else None)
    counts = {field: getattr(run, field) or 0 for field in
              ("created", "updated", "unchanged", "written", "skipped", "errors")}

    def record() -> None:
        metrics.run_finished(status, entity, operation, duration)
        metrics.row_counts(counts)

    session.after_commit(record)  # type: ignore[attr-defined]


def status_changed(session: Session, run: RunRow, when: datetime, message: str) -> None:
    """Record the run's current status (call after changing ``run.status``): a
    STATUS timeline event, and a run lifecycle event published after commit (the
    same transaction must call ``Notifications.run_changed`` or ``run_queued``)."""
    event = append(session, run, when, message or status_name(run.status).lower())
    # The timeline sequence is known once flushed, so it is read after commit.
    record_status_change(session, run_to_proto(run), when, lambda: event.id or 0)


def append_reported(session: Session, run: RunRow, when: datetime,
                    events: list[run_pb2.RunEvent]) -> None:
    """Events sent by a runner; missing times and attempts are filled in."""
    for event in events:
        session.add(RunEventRow(
            run_id=run.id,
            event_time=event.event_time.ToDatetime() if event.HasField("event_time") else when,
            type=event.type or run_pb2.RUN_EVENT_TYPE_LOG,
            status=event.status or run.status, attempt=event.attempt or run.attempt,
            message=event.message, attributes=dict(event.attributes)))


# --- Core (no ORM unit of work) ------------------------------------------------------

def insert_core(conn, run_id: str, when: datetime, message: str, *, type: int, status: int,
                attempt: int, attributes: dict[str, str] | None = None) -> int:
    """Insert one timeline event now; returns its sequence."""
    result = conn.execute(INSERT_EVENT, {
        "run_id": run_id, "event_time": when, "type": type, "status": status,
        "attempt": attempt, "message": message, "attributes": dict(attributes or {})})
    return int(result.inserted_primary_key[0])


def status_changed_core(session: Session, conn, run, when: datetime, message: str,
                        proto: run_pb2.Run | None = None) -> run_pb2.Run:
    """``status_changed`` for a run read with Core (a Row with the run's
    columns, after the change): the STATUS event is inserted at once. Returns
    the run as a message (``proto`` when the caller already built it)."""
    sequence = insert_core(conn, run.id, when, message or status_name(run.status).lower(),
                           type=run_pb2.RUN_EVENT_TYPE_STATUS, status=run.status,
                           attempt=run.attempt)
    proto = proto if proto is not None else run_to_proto(run)
    record_status_change(session, proto, when, lambda: sequence)
    return proto


def append_reported_core(conn, run, when: datetime, events: list[run_pb2.RunEvent]) -> None:
    """``append_reported`` with one Core insert (executemany)."""
    if not events:
        return
    conn.execute(INSERT_EVENT, [{
        "run_id": run.id,
        "event_time": event.event_time.ToDatetime() if event.HasField("event_time") else when,
        "type": event.type or run_pb2.RUN_EVENT_TYPE_LOG,
        "status": event.status or run.status, "attempt": event.attempt or run.attempt,
        "message": event.message, "attributes": dict(event.attributes)} for event in events])
