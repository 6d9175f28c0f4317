"""The lease reaper's store side: RUNNING runs whose lease expired (their
runner stopped heartbeating) are let go of as ``states.after_attempt`` rules,
so nothing stays RUNNING forever (invariant 4)."""

from __future__ import annotations

import logging

from ferry.clock import Clock
from ferry.metrics import FerryMetrics
from ferry.v1 import run_pb2
from ferry_domain.runs.states import AfterAttempt, after_attempt

from ferry_registry.db.engine import Database
from ferry_registry.store import events
from ferry_registry.store.statements import EXPIRED, EXPIRED_LOCKED
from ferry_registry.store.transitions import RunTransitions

REAP_LIMIT = 100


class LeaseExpiry:
    def __init__(self, db: Database, clock: Clock, transitions: RunTransitions,
                 metrics: FerryMetrics | None = None) -> None:
        self._db = db
        self._clock = clock
        self._transitions = transitions
        self._metrics = metrics

    def reap_expired(self, limit: int = REAP_LIMIT) -> int:
        """Re-queue (or end) RUNNING runs whose lease expired, oldest expiry
        first, at most ``limit``; returns how many."""
        now = self._clock.now()
        statement = EXPIRED_LOCKED if self._db.is_postgres else EXPIRED
        with self._db.write() as session:
            conn = session.connection()
            rows = conn.execute(statement, {"b_now": now, "b_limit": limit}).all()
            for row in rows:
                lost = (f"runner {row.lease_owner or row.runner_id} lost on attempt "
                        f"{row.attempt} of {row.max_attempts} (lease expired)")
                events.insert(conn, row, now, lost, type=run_pb2.RUN_EVENT_TYPE_LEASE_EXPIRED)
                step = after_attempt(attempt=row.attempt, max_attempts=row.max_attempts,
                                     cancel_requested=row.cancel_requested)
                if step.outcome is AfterAttempt.CANCELLED:
                    message = f"cancelled ({lost})"
                elif step.outcome is AfterAttempt.REQUEUE:
                    message = (f"{lost}; queued again as attempt {step.attempt} of "
                               f"{row.max_attempts}")
                else:
                    message = lost
                self._transitions.let_go(session, row.id, now, step, message,
                                         "run lease expired", level=logging.WARNING)
            if rows and self._metrics is not None:
                metrics, expired = self._metrics, len(rows)
                session.after_commit(lambda: metrics.lease_expired(expired))
            return len(rows)
