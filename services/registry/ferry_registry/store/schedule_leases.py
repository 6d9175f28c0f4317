"""Schedule leases: due schedules acquired by schedulers, and released with
their next fire time.

They follow APScheduler 4: ``lease_owner`` + ``lease_expires_at`` on the row,
taken with one compare-and-set UPDATE per due schedule whose row count says
who won (correct on SQLite and PostgreSQL; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL so replicas do not wait on each other). The release writes the
next and last fire time and the missed fires and drops the lease in one
transaction guarded by ``lease_owner = :me``: a scheduler that lost its lease
writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.errors import InvalidArgumentError, Violation
from ferry.v1 import schedule_pb2

from ferry_registry import convert
from ferry_registry.db.engine import Database
from ferry_registry.db.models import MissedFireRow, ScheduleRow

DEFAULT_SCHEDULE_LEASE = timedelta(seconds=30)
DEFAULT_ACQUIRE_LIMIT = 10
MAX_ACQUIRE_LIMIT = 500


@dataclass(frozen=True)
class MissedFire:
    """A fire a scheduler did not run, as it reports it on release."""

    fire_time: datetime
    reason: int = 0                     # ferry.v1.MissedFireReason; 0: MISFIRE
    record_time: datetime | None = None  # None: when the registry records it


class ScheduleLeaseStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def acquire(self, scheduler_id: str, limit: int, lease: timedelta
                ) -> list[schedule_pb2.Schedule]:
        """Lease up to ``limit`` due schedules (earliest fire first) to ``scheduler_id``."""
        if not scheduler_id:
            raise InvalidArgumentError("scheduler_id is required",
                                       [Violation("scheduler_id", "is required")])
        limit = min(limit or DEFAULT_ACQUIRE_LIMIT, MAX_ACQUIRE_LIMIT)
        now = self._clock.now()
        free = sa.or_(ScheduleRow.lease_expires_at.is_(None), ScheduleRow.lease_expires_at < now)
        due = sa.and_(ScheduleRow.paused.is_(False), ScheduleRow.next_fire_time.is_not(None),
                      ScheduleRow.next_fire_time <= now, ScheduleRow.trigger_kind != "manual")
        acquired: list[str] = []
        with self._db.write() as session:
            candidates = sa.select(ScheduleRow.id).where(due, free).order_by(
                ScheduleRow.next_fire_time, ScheduleRow.id).limit(limit)
            if self._db.is_postgres:
                candidates = candidates.with_for_update(skip_locked=True)
            for schedule_id in list(session.scalars(candidates)):
                result = session.execute(
                    sa.update(ScheduleRow).where(ScheduleRow.id == schedule_id, due, free)
                    .values(lease_owner=scheduler_id, lease_expires_at=now + lease),
                    execution_options={"synchronize_session": False})
                if result.rowcount == 1:
                    acquired.append(schedule_id)
            rows = session.scalars(sa.select(ScheduleRow).where(ScheduleRow.id.in_(acquired))
                                   .order_by(ScheduleRow.next_fire_time, ScheduleRow.id)
                                   .execution_options(populate_existing=True))
            return [convert.schedule_to_proto(r) for r in rows]

    def release(self, schedule_id: str, scheduler_id: str, next_fire_time: datetime | None,
                last_fire_time: datetime | None, missed: Sequence[MissedFire]) -> bool:
        """Drop the lease with the schedule's new fire times and missed fires;
        False (nothing written) when ``scheduler_id`` no longer holds it. A
        schedule paused meanwhile stays without a next fire."""
        now = self._clock.now()
        next_value = sa.literal(next_fire_time, ScheduleRow.next_fire_time.type)
        values: dict[str, object] = {
            "next_fire_time": sa.case((ScheduleRow.paused.is_(True), None), else_=next_value),
            "lease_owner": None, "lease_expires_at": None, "update_time": now}
        if last_fire_time is not None:
            values["last_fire_time"] = last_fire_time
        with self._db.write() as session:
            result = session.execute(
                sa.update(ScheduleRow).where(ScheduleRow.id == schedule_id,
                                             ScheduleRow.lease_owner == scheduler_id)
                .values(**values), execution_options={"synchronize_session": False})
            if result.rowcount != 1:
                return False
            for fire in missed:
                session.add(MissedFireRow(
                    schedule_id=schedule_id, fire_time=fire.fire_time,
                    reason=fire.reason or schedule_pb2.MISSED_FIRE_REASON_MISFIRE,
                    record_time=fire.record_time or now))
            return True
