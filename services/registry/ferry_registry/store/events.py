"""Appending run events (the run's timeline) inside a write transaction.

Events are inserted at once with SQLAlchemy Core on the transaction's
connection, so a write path's events keep the order it wrote them in (the
event id is the timeline sequence). ``run`` is anything with the run's
``id``, ``status`` and ``attempt`` (a row read or returned by a statement).
STATUS events are written by ``transitions.RunTransitions`` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from ferry.v1 import run_pb2

from ferry_registry.store.reports import ReportedEvent
from ferry_registry.store.statements import INSERT_EVENT


def insert(conn, run, when: datetime, message: str, *, type: int,
           attributes: Mapping[str, str] | None = None) -> int:
    """One event of the run's current status and attempt; returns its sequence."""
    result = conn.execute(INSERT_EVENT, {
        "run_id": run.id, "event_time": when, "type": type, "status": run.status,
        "attempt": run.attempt, "message": message, "attributes": dict(attributes or {})})
    return int(result.inserted_primary_key[0])


def insert_reported(conn, run, when: datetime, events: Sequence[ReportedEvent]) -> None:
    """Events sent by a runner, in one statement; what they leave out is taken
    from the run (``when``, LOG, its status and attempt)."""
    if not events:
        return
    conn.execute(INSERT_EVENT, [{
        "run_id": run.id, "event_time": event.event_time or when,
        "type": event.type or run_pb2.RUN_EVENT_TYPE_LOG,
        "status": event.status or run.status, "attempt": event.attempt or run.attempt,
        "message": event.message, "attributes": dict(event.attributes)} for event in events])
