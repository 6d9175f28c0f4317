"""Runs: the one creation path (manual, scheduled, retry), reads, listing,
cancel, the outbox and summaries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError, Violation
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2, schedule_pb2
from ferry_domain.runs.states import RETRYABLE, CancelVerdict, RunStatus, cancel_verdict
from sqlalchemy.exc import IntegrityError

from ferry_registry import convert, dry_run_gate
from ferry_registry.db.engine import Database
from ferry_registry.db.models import MissedFireRow, RejectedRowRow, RunEventRow, RunRow
from ferry_registry.ids import new_id
from ferry_registry.notify import Notifications
from ferry_registry.store import events, filters, pagination
from ferry_registry.store import statements as sql
from ferry_registry.store.samples import read_sample
from ferry_registry.store.schedules import overlap_policy
from ferry_registry.store.transitions import RunTransitions, log_after_commit, update_run

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
log = logging.getLogger("ferry_registry.runs")

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
    # Read instead of the profile's location (checked by the caller); like
    # force, it bypasses the freshness gate.
    source_override: str = ""
    # A ROLLBACK run undoing this run (checked by store.rollbacks; no dry-run gate).
    rollback_of: str = ""
    rollback_force: bool = False


@dataclass(frozen=True)
class Created:
    run: run_pb2.Run | None
    created: bool


def trigger_name(trigger: int) -> str:
    return run_pb2.RunTrigger.Name(trigger).removeprefix("RUN_TRIGGER_").lower()


def get_row(session, run_id: str) -> RunRow:
    row = session.get(RunRow, run_id) if run_id else None
    if row is None:
        raise NotFoundError(f'run "{run_id}" not found')
    return row


def replay_source(run: run_pb2.Run) -> str:
    """What a retry of ``run`` reads: where retention moved its file to
    ``failed_dir`` (the file is no longer where the profile looks), else the
    run's own override, else nothing (the profile's location)."""
    for action in run.retention_actions:
        if action.kind == run_pb2.RETENTION_ACTION_KIND_MOVED_TO_FAILED and action.path:
            return action.path
    return run.source_override


class RunStore:
    def __init__(self, db: Database, clock: Clock, notes: Notifications,
                 transitions: RunTransitions, default_max_attempts: int = 3) -> None:
        self._db = db
        self._clock = clock
        self._notes = notes
        self._transitions = transitions
        self._default_max_attempts = default_max_attempts
        self._attempts: dict[tuple[str, int], int] = {}
        self._insert_if_new = sql.INSERT_RUN_IF_NEW[db.dialect]

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

    def by_request_id(self, request_id: str) -> run_pb2.Run | None:
        return self._existing(NewRun(profile="", trigger=0, request_id=request_id)) \
            if request_id else None

    def _existing(self, new: NewRun) -> run_pb2.Run | None:
        with self._db.read() as session:
            row = self._find_existing(session.connection(), new)
            return convert.run_to_proto(row) if row is not None else None

    @staticmethod
    def _find_existing(conn, new: NewRun):
        if new.request_id:
            row = conn.execute(sql.RUN_BY_REQUEST, {"request_id": new.request_id}).first()
            if row is not None:
                return row
        if new.schedule_id and new.fire_time is not None:
            return conn.execute(sql.RUN_BY_FIRE, {"schedule_id": new.schedule_id,
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
        statement = sql.PROFILE_BY_NAME_LOCKED if self._db.is_postgres else sql.PROFILE_BY_NAME
        profile_row = conn.execute(statement, {"name": new.profile}).first()
        gated = profile_row is not None and new.trigger != run_pb2.RUN_TRIGGER_SCHEDULE and \
            not new.rollback_of and dry_run_gate.blocks(
                dry_run=new.dry_run, force=new.force, dry_run_required=profile_row.dry_run_required)
        if profile_row is None or gated:
            row = self._find_existing(conn, new) if insert_first else None
            if row is not None:
                return Created(convert.run_to_proto(row), False)
            if profile_row is None:
                raise NotFoundError(f'profile "{new.profile}" not found')
            raise FailedPreconditionError(dry_run_gate.refusal(new.profile))
        if new.schedule_id:
            schedule_spec = conn.execute(sql.SCHEDULE_SPEC, {"id": new.schedule_id}).scalar()
            if schedule_spec is None and new.trigger == run_pb2.RUN_TRIGGER_SCHEDULE:
                raise NotFoundError(f'schedule "{new.schedule_id}" not found')
            if new.trigger == run_pb2.RUN_TRIGGER_SCHEDULE and overlap_policy(
                    profile_pb2.Profile.FromString(profile_row.spec),
                    schedule_pb2.Schedule.FromString(schedule_spec)
            ) == profile_pb2.OVERLAP_POLICY_SKIP:
                live = conn.execute(sql.LIVE_RUN_OF_PROFILE, {"profile": new.profile}).scalar()
                if live is not None:
                    self._record_overlap(session, new, now)
                    session.after_commit(lambda: log.info(
                        "scheduled run skipped: a run of the profile is live (overlap skip)",
                        extra={"fields": {"profile": new.profile,
                                          "schedule_id": new.schedule_id,
                                          "live_run_id": live}}))
                    return Created(None, False)
        values = dict(
            id=new_id(), profile=new.profile, schedule_id=new.schedule_id or None,
            fire_time=new.fire_time, status=RunStatus.QUEUED,
            entity_type=profile_row.entity_type, rollback_of=new.rollback_of,
            operation=profile_pb2.OPERATION_ROLLBACK if new.rollback_of else profile_row.operation,
            trigger=new.trigger, dry_run=new.dry_run,
            force=new.force or bool(new.source_override), attempt=1,
            source_override=new.source_override, rollback_force=new.rollback_force,
            max_attempts=self._max_attempts(profile_row.name, profile_row.revision,
                                            profile_row.spec),
            queue_time=now, update_time=now, details=b"", rejected_columns=[],
            request_id=new.request_id or None, retry_of=new.retry_of,
            profile_revision=profile_row.revision, mapping_digest=profile_row.mapping_digest,
            rows_read=0, created=0, updated=0, unchanged=0, skipped=0, errors=0, written=0,
            filtered=0, deleted=0, rows_total=0, runner_id="", error_class=0, error_message="",
            hint="", cancel_requested=False, fencing_token=0, publish_count=0, lease_seconds=30.0,
            start_time=None, end_time=None, lease_owner=None, lease_expires_at=None,
            published_time=None)
        if insert_first:
            if conn.execute(self._insert_if_new, values).first() is None:
                row = self._find_existing(conn, new)
                if row is None:  # pragma: no cover - another unique key, cannot happen
                    raise RuntimeError(f"run {values['id']} could not be inserted")
                return Created(convert.run_to_proto(row), False)
        else:
            conn.execute(sql.INSERT_RUN, values)
        row = SimpleNamespace(**values)
        kind = ("dry run" if new.dry_run else "run") + (
            f" rolling back run {new.rollback_of}" if new.rollback_of else "")
        detail = f" (retry of {new.retry_of})" if new.retry_of else ""
        trigger = trigger_name(new.trigger)
        run = self._transitions.record(
            session, row, now, f"queued {trigger} {kind}{detail}, attempt 1 of "
                               f"{row.max_attempts}",
            "run queued", trigger=trigger, dry_run=new.dry_run)
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
        existing = self.by_request_id(request_id)
        if existing is not None:
            return existing
        original = self.get(run_id)
        if original.status not in RETRYABLE:
            raise FailedPreconditionError(
                f"run {run_id} is {RunStatus(original.status).name}; only FAILED, "
                "CANCELLED or WARNING runs can be retried")
        created = self.create(NewRun(
            profile=original.profile, trigger=run_pb2.RUN_TRIGGER_RETRY,
            schedule_id=original.schedule_id, dry_run=original.dry_run, force=original.force,
            request_id=request_id, retry_of=original.id, source_override=replay_source(original),
            rollback_of=original.rollback_of, rollback_force=original.rollback_force))
        assert created.run is not None
        return created.run

    def follow_up(self, finished: run_pb2.Run) -> run_pb2.Run | None:
        """Queue the next run of a drop folder whose live run imported one file
        while more new files waited (FinishRun's ``more_input_waiting``).
        Idempotent: one follow-up per finished run. None when the profile is
        gone or a mapping change wants a dry run first (the schedule's next
        tick takes the files then)."""
        try:
            created = self.create(NewRun(
                profile=finished.profile, trigger=run_pb2.RUN_TRIGGER_FOLLOW_UP,
                schedule_id=finished.schedule_id, request_id=f"follow-up-{finished.id}"))
        except (NotFoundError, FailedPreconditionError) as exc:
            log.info("no follow-up run: %s", exc, extra={"fields": {"run_id": finished.id}})
            return None
        return created.run

    # --- reads --------------------------------------------------------------

    def get(self, run_id: str) -> run_pb2.Run:
        with self._db.read() as session:
            row = session.connection().execute(sql.RUN_BY_ID, {"run_id": run_id}).first() \
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

    def sample(self, run_id: str) -> run_pb2.RunSample:
        """The masked sample stored with the run (NOT_FOUND when none)."""
        with self._db.read() as session:
            return read_sample(session, get_row(session, run_id))

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
        """``states.cancel_verdict``: a QUEUED run ends CANCELLED at once; a
        RUNNING one gets ``cancel_requested`` (its runner stops at its next batch
        boundary); a finished one is refused."""
        now = self._clock.now()
        why = reason or "cancelled by an operator"
        statement = sql.RUN_BY_ID_LOCKED if self._db.is_postgres else sql.RUN_BY_ID
        with self._db.write() as session:
            conn = session.connection()
            row = conn.execute(statement, {"run_id": run_id}).first() if run_id else None
            if row is None:
                raise NotFoundError(f'run "{run_id}" not found')
            verdict = cancel_verdict(RunStatus(row.status))
            if verdict is CancelVerdict.REFUSE:
                raise FailedPreconditionError(
                    f"run {run_id} is already {RunStatus(row.status).name}; "
                    "only QUEUED or RUNNING runs can be cancelled")
            if verdict is CancelVerdict.CANCEL_NOW:
                row = update_run(session, run_id, {
                    "status": RunStatus.CANCELLED, "end_time": now, "error_message": why,
                    "update_time": now})
                return self._transitions.record(session, row, now,
                                                f"cancelled while queued: {why}",
                                                "run cancel asked", reason=why)
            if not row.cancel_requested:
                row = update_run(session, run_id, {"cancel_requested": True,
                                                   "error_message": why, "update_time": now})
                events.insert(conn, row, now, f"cancel requested: {why}; the runner stops at "
                              "its next batch boundary", type=run_pb2.RUN_EVENT_TYPE_LOG)
            log_after_commit(session, "run cancel asked", row, reason=why)
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
                RunRow.status == RunStatus.QUEUED, unpublished
            ).order_by(RunRow.queue_time, RunRow.id).limit(limit))
            return [convert.run_to_proto(r) for r in rows]

    def mark_published(self, run_ids: list[str]) -> None:
        if not run_ids:
            return
        now = self._clock.now()
        params = {"ids": list(run_ids), "b_now": now}
        self._db.run_write(lambda session: session.connection().execute(sql.MARK_PUBLISHED,
                                                                         params))
