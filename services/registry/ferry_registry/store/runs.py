"""Runs: the one creation path (manual, scheduled, retry), reads, listing,
cancel, the outbox and summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError, Violation
from ferry.metrics import FerryMetrics
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2, schedule_pb2
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ferry_registry import convert, dry_run_gate
from ferry_registry.db.engine import Database
from ferry_registry.db.models import (
    MissedFireRow,
    ProfileRow,
    RejectedRowRow,
    RunEventRow,
    RunRow,
    ScheduleRow,
)
from ferry_registry.ids import new_id
from ferry_registry.notify import Notifications
from ferry_registry.store import events, filters, pagination
from ferry_registry.store.schedules import overlap_policy

FILTER_FIELDS = {
    "status": filters.Field(RunRow.status, "enum", run_pb2.RunStatus, "RUN_STATUS_"),
    "entity_type": filters.Field(RunRow.entity_type, "string"),
    "operation": filters.Field(RunRow.operation, "enum", profile_pb2.Operation, "OPERATION_"),
    "profile": filters.Field(RunRow.profile, "string"),
    "schedule_id": filters.Field(RunRow.schedule_id, "string"),
    "trigger": filters.Field(RunRow.trigger, "enum", run_pb2.RunTrigger, "RUN_TRIGGER_"),
    "dry_run": filters.Field(RunRow.dry_run, "bool"),
    "queue_time": filters.Field(RunRow.queue_time, "time"),
}
NEWEST_FIRST = pagination.Order(((RunRow.queue_time, True), (RunRow.id, True)))
EVENTS_ORDER = pagination.Order(((RunEventRow.id, False),))
REJECTED_ORDER = pagination.Order(((RejectedRowRow.id, False),))
RETRYABLE = frozenset({run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_CANCELLED,
                       run_pb2.RUN_STATUS_WARNING})
# Core statements of the creation path (no ORM unit of work).
RUNS = RunRow.__table__
INSERT_RUN = RUNS.insert()
RUN_BY_REQUEST = sa.select(RUNS).where(RUNS.c.request_id == sa.bindparam("request_id"))
RUN_BY_FIRE = sa.select(RUNS).where(RUNS.c.schedule_id == sa.bindparam("schedule_id"),
                                    RUNS.c.fire_time == sa.bindparam("fire_time"))
PROFILE_BY_NAME = sa.select(ProfileRow.__table__).where(
    ProfileRow.__table__.c.name == sa.bindparam("name"))
# Built once: a statement made per call (even when cached by SQLAlchemy) has its
# result metadata adapted on every execution.
PROFILE_BY_NAME_LOCKED = PROFILE_BY_NAME.with_for_update()
SCHEDULE_SPEC = sa.select(ScheduleRow.__table__.c.spec).where(
    ScheduleRow.__table__.c.id == sa.bindparam("id"))
LIVE_RUN_OF_PROFILE = sa.select(RUNS.c.id).where(
    RUNS.c.profile == sa.bindparam("profile"), RUNS.c.status.in_(sorted(convert.LIVE))).limit(1)
RUN_BY_ID = sa.select(RUNS).where(RUNS.c.id == sa.bindparam("run_id"))
MARK_PUBLISHED = (sa.update(RUNS).where(RUNS.c.id.in_(sa.bindparam("ids", expanding=True)))
                  .values(published_time=sa.bindparam("b_now"),
                          publish_count=RUNS.c.publish_count + 1))
DEFAULT_PUBLISH_LIMIT = 100
MAX_PUBLISH_LIMIT = 1000


@dataclass(frozen=True)
class NewRun:
    """What a run is created from (every trigger goes through ``RunStore.create``)."""

    profile: str
    trigger: int
    schedule_id: str = ""
    fire_time: datetime | None = None
    dry_run: bool = False
    force: bool = False
    request_id: str = ""
    retry_of: str = ""


@dataclass(frozen=True)
class Created:
    run: run_pb2.Run | None
    created: bool


def trigger_name(trigger: int) -> str:
    return run_pb2.RunTrigger.Name(trigger).removeprefix("RUN_TRIGGER_").lower()


def get_row(session, run_id: str, *, for_update: bool = False) -> RunRow:
    row = session.get(RunRow, run_id, with_for_update=for_update) if run_id else None
    if row is None:
        raise NotFoundError(f'run "{run_id}" not found')
    return row


class RunStore:
    def __init__(self, db: Database, clock: Clock, notes: Notifications,
                 default_max_attempts: int = 3, metrics: FerryMetrics | None = None) -> None:
        self._db = db
        self._clock = clock
        self._notes = notes
        self._default_max_attempts = default_max_attempts
        self._metrics = metrics
        self._attempts: dict[tuple[str, int], int] = {}
        insert = postgresql.insert if db.is_postgres else sqlite.insert
        self._insert_if_new = insert(RUNS).on_conflict_do_nothing().returning(RUNS.c.id)

    # --- creation ---------------------------------------------------------

    def create(self, new: NewRun) -> Created:
        """Create a QUEUED run once: idempotent by request_id and unique per
        (schedule_id, fire_time); a scheduled run of a profile with a live run
        and overlap policy SKIP records a missed fire instead. One write
        transaction of Core statements (a retried call finds its run in it)."""
        try:
            return self._db.run_write(lambda session: self._create_in(session, new))
        except IntegrityError:
            existing = self._existing(new)
            if existing is None:
                raise
            return Created(existing, False)

    def _existing(self, new: NewRun) -> run_pb2.Run | None:
        with self._db.read() as session:
            row = self._find_existing(session.connection(), new)
            return convert.run_to_proto(row) if row is not None else None

    @staticmethod
    def _find_existing(conn, new: NewRun):
        if new.request_id:
            row = conn.execute(RUN_BY_REQUEST, {"request_id": new.request_id}).first()
            if row is not None:
                return row
        if new.schedule_id and new.fire_time is not None:
            return conn.execute(RUN_BY_FIRE, {"schedule_id": new.schedule_id,
                                              "fire_time": new.fire_time}).first()
        return None

    def _max_attempts(self, name: str, revision: int, spec: bytes) -> int:
        """``retry.max_attempts`` of a profile version, else the registry default."""
        key = (name, revision)
        found = self._attempts.get(key)
        if found is None:
            found = (profile_pb2.Profile.FromString(spec).retry.max_attempts
                     or self._default_max_attempts)
            if len(self._attempts) >= 4096:
                self._attempts.clear()
            self._attempts[key] = found
        return found

    def _create_in(self, session, new: NewRun) -> Created:
        now = self._clock.now()
        conn = session.connection()
        # A scheduled fire looks for its run first (its overlap check must not
        # see it); a request id alone is checked by the INSERT itself (ON
        # CONFLICT DO NOTHING), one statement less on the common path.
        insert_first = bool(new.request_id) and not (new.schedule_id and
                                                     new.fire_time is not None)
        if not insert_first:
            row = self._find_existing(conn, new)
            if row is not None:
                return Created(convert.run_to_proto(row), False)
        statement = PROFILE_BY_NAME_LOCKED if self._db.is_postgres else PROFILE_BY_NAME
        profile_row = conn.execute(statement, {"name": new.profile}).first()
        gated = profile_row is not None and new.trigger != run_pb2.RUN_TRIGGER_SCHEDULE and \
            dry_run_gate.blocks(dry_run=new.dry_run, force=new.force,
                                dry_run_required=profile_row.dry_run_required)
        if profile_row is None or gated:
            row = self._find_existing(conn, new) if insert_first else None
            if row is not None:
                return Created(convert.run_to_proto(row), False)
            if profile_row is None:
                raise NotFoundError(f'profile "{new.profile}" not found')
            raise FailedPreconditionError(dry_run_gate.refusal(new.profile))
        if new.schedule_id:
            schedule_spec = conn.execute(SCHEDULE_SPEC, {"id": new.schedule_id}).scalar()
            if schedule_spec is None and new.trigger == run_pb2.RUN_TRIGGER_SCHEDULE:
                raise NotFoundError(f'schedule "{new.schedule_id}" not found')
            if new.trigger == run_pb2.RUN_TRIGGER_SCHEDULE and overlap_policy(
                    profile_pb2.Profile.FromString(profile_row.spec),
                    schedule_pb2.Schedule.FromString(schedule_spec)
            ) == profile_pb2.OVERLAP_POLICY_SKIP:
                live = conn.execute(LIVE_RUN_OF_PROFILE, {"profile": new.profile}).scalar()
                if live is not None:
                    self._record_overlap(session, new, now)
                    session.after_commit(lambda: events.log.info(
                        "scheduled run skipped: a run of the profile is live (overlap skip)",
                        extra={"fields": {"profile": new.profile,
                                          "schedule_id": new.schedule_id,
                                          "live_run_id": live}}))
                    return Created(None, False)
        values = dict(
            id=new_id(), profile=new.profile, schedule_id=new.schedule_id or None,
            fire_time=new.fire_time, status=run_pb2.RUN_STATUS_QUEUED,
            entity_type=profile_row.entity_type, operation=profile_row.operation,
            trigger=new.trigger, dry_run=new.dry_run, force=new.force, attempt=1,
            max_attempts=self._max_attempts(profile_row.name, profile_row.revision,
                                            profile_row.spec),
            queue_time=now, update_time=now, details=b"", rejected_columns=[],
            request_id=new.request_id or None, retry_of=new.retry_of,
            profile_revision=profile_row.revision, mapping_digest=profile_row.mapping_digest,
            rows_read=0, created=0, updated=0, unchanged=0, skipped=0, errors=0, written=0,
            rows_total=0, runner_id="", error_class=0, error_message="", hint="",
            cancel_requested=False, fencing_token=0, publish_count=0, lease_seconds=30.0,
            start_time=None, end_time=None, lease_owner=None, lease_expires_at=None,
            published_time=None)
        if insert_first:
            if conn.execute(self._insert_if_new, values).first() is None:
                row = self._find_existing(conn, new)
                if row is None:  # pragma: no cover - another unique key, cannot happen
                    raise RuntimeError(f"run {values['id']} could not be inserted")
                return Created(convert.run_to_proto(row), False)
        else:
            conn.execute(INSERT_RUN, values)
        row = SimpleNamespace(**values)
        kind = "dry run" if new.dry_run else "run"
        detail = f" (retry of {new.retry_of})" if new.retry_of else ""
        run = events.status_changed_core(
            session, conn, row, now, f"queued {trigger_name(new.trigger)} {kind}{detail}, "
                                     f"attempt 1 of {row.max_attempts}")
        events.log_after_commit(session, "run queued", row, trigger=trigger_name(new.trigger),
                                dry_run=new.dry_run)
        events.count_entered(session, self._metrics, run_pb2.RUN_STATUS_QUEUED)
        self._notes.run_changed(session)
        self._notes.run_queued(session, run)
        return Created(run, True)

    @staticmethod
    def _record_overlap(session, new: NewRun, now: datetime) -> None:
        reason = schedule_pb2.MISSED_FIRE_REASON_OVERLAP
        fire_time = new.fire_time or now
        exists = session.scalar(sa.select(MissedFireRow.id).where(
            MissedFireRow.schedule_id == new.schedule_id, MissedFireRow.fire_time == fire_time,
            MissedFireRow.reason == reason))
        if exists is None:
            session.add(MissedFireRow(schedule_id=new.schedule_id, fire_time=fire_time,
                                      reason=reason, record_time=now))

    def retry(self, run_id: str, request_id: str) -> run_pb2.Run:
        if request_id:
            existing = self._existing(NewRun(profile="", trigger=0, request_id=request_id))
            if existing is not None:
                return existing
        original = self.get(run_id)
        if original.status not in RETRYABLE:
            raise FailedPreconditionError(
                f"run {run_id} is {convert.status_name(original.status)}; only FAILED, "
                "CANCELLED or WARNING runs can be retried")
        created = self.create(NewRun(
            profile=original.profile, trigger=run_pb2.RUN_TRIGGER_RETRY,
            schedule_id=original.schedule_id, dry_run=original.dry_run, force=original.force,
            request_id=request_id, retry_of=original.id))
        assert created.run is not None
        return created.run

    # --- reads --------------------------------------------------------------

    def get(self, run_id: str) -> run_pb2.Run:
        with self._db.read() as session:
            row = session.connection().execute(RUN_BY_ID, {"run_id": run_id}).first() \
                if run_id else None
            if row is None:
                raise NotFoundError(f'run "{run_id}" not found')
            return convert.run_to_proto(row)

    def snapshot(self, run_id: str, after_sequence: int
                 ) -> tuple[run_pb2.Run, list[run_pb2.RunEvent]]:
        """The run and its events after ``after_sequence`` (for WatchRun)."""
        with self._db.read() as session:
            row = get_row(session, run_id)
            found = session.scalars(sa.select(RunEventRow).where(
                RunEventRow.run_id == run_id, RunEventRow.id > after_sequence
            ).order_by(RunEventRow.id))
            return convert.run_to_proto(row), [convert.event_to_proto(e) for e in found]

    def list(self, *, page_size: int, page_token: str, filter: str
             ) -> tuple[list[run_pb2.Run], str]:
        size = pagination.page_size(page_size)
        comparisons = filters.parse(filter, FILTER_FIELDS)
        statement = sa.select(RunRow).where(*filters.clauses(comparisons, FILTER_FIELDS))
        with self._db.read() as session:
            page = pagination.fetch_page(session, statement, NEWEST_FIRST, kind="runs",
                                         query=filters.canonical(comparisons), token=page_token,
                                         size=size, key_of=lambda r: [r.queue_time, r.id])
            return [convert.run_to_proto(r) for r in page.rows], page.next_token

    def list_events(self, run_id: str, *, page_size: int, page_token: str
                    ) -> tuple[list[run_pb2.RunEvent], str]:
        size = pagination.page_size(page_size, default=100, maximum=1000)
        with self._db.read() as session:
            get_row(session, run_id)
            statement = sa.select(RunEventRow).where(RunEventRow.run_id == run_id)
            page = pagination.fetch_page(session, statement, EVENTS_ORDER, kind="run_events",
                                         query=run_id, token=page_token, size=size,
                                         key_of=lambda r: [r.id])
            return [convert.event_to_proto(r) for r in page.rows], page.next_token

    def list_rejected(self, run_id: str, *, page_size: int, page_token: str
                      ) -> tuple[list[run_service_pb2.RejectedRow], str, list[str]]:
        size = pagination.page_size(page_size, default=100, maximum=1000)
        with self._db.read() as session:
            run = get_row(session, run_id)
            statement = sa.select(RejectedRowRow).where(RejectedRowRow.run_id == run_id)
            page = pagination.fetch_page(session, statement, REJECTED_ORDER,
                                         kind="rejected_rows", query=run_id, token=page_token,
                                         size=size, key_of=lambda r: [r.id])
            return ([convert.rejected_to_proto(r) for r in page.rows], page.next_token,
                    list(run.rejected_columns or []))

    def summarize(self, window: timedelta) -> list[tuple[int, int]]:
        since = self._clock.now() - window
        with self._db.read() as session:
            found = dict(session.execute(
                sa.select(RunRow.status, sa.func.count()).where(RunRow.queue_time >= since)
                .group_by(RunRow.status)).all())
        return [(status, int(found.get(status, 0)))
                for status in run_pb2.RunStatus.values() if status]

    # --- control ------------------------------------------------------------

    def cancel(self, run_id: str, reason: str) -> run_pb2.Run:
        now = self._clock.now()
        why = reason or "cancelled by an operator"
        with self._db.write() as session:
            row = get_row(session, run_id, for_update=self._db.is_postgres)
            if row.status == run_pb2.RUN_STATUS_QUEUED:
                row.status = run_pb2.RUN_STATUS_CANCELLED
                row.end_time = now
                row.error_message = why
                row.update_time = now
                events.status_changed(session, row, now, f"cancelled while queued: {why}")
                events.count_finished(session, self._metrics, row)
            elif row.status == run_pb2.RUN_STATUS_RUNNING:
                if not row.cancel_requested:
                    row.cancel_requested = True
                    row.error_message = why
                    row.update_time = now
                    events.append(session, row, now,
                                  f"cancel requested: {why}; the runner stops at its next "
                                  "batch boundary", type=run_pb2.RUN_EVENT_TYPE_LOG)
            else:
                raise FailedPreconditionError(
                    f"run {run_id} is already {convert.status_name(row.status)}; "
                    "only QUEUED or RUNNING runs can be cancelled")
            events.log_after_commit(session, "run cancel asked", row, reason=why)
            self._notes.run_changed(session)
            return convert.run_to_proto(row)

    # --- outbox -------------------------------------------------------------

    def to_publish(self, published_before: datetime | None, limit: int) -> list[run_pb2.Run]:
        if limit < 0:
            raise InvalidArgumentError("limit must not be negative",
                                       [Violation("limit", "must not be negative")])
        limit = min(limit or DEFAULT_PUBLISH_LIMIT, MAX_PUBLISH_LIMIT)
        unpublished = RunRow.published_time.is_(None)
        if published_before is not None:
            unpublished = sa.or_(unpublished, RunRow.published_time < published_before)
        with self._db.read() as session:
            rows = session.scalars(sa.select(RunRow).where(
                RunRow.status == run_pb2.RUN_STATUS_QUEUED, unpublished
            ).order_by(RunRow.queue_time, RunRow.id).limit(limit))
            return [convert.run_to_proto(r) for r in rows]

    def mark_published(self, run_ids: list[str]) -> None:
        if not run_ids:
            return
        now = self._clock.now()
        params = {"ids": list(run_ids), "b_now": now}
        self._db.run_write(lambda session: session.connection().execute(MARK_PUBLISHED, params))
