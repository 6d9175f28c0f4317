"""Leases: schedules acquired by schedulers, runs claimed by runners.

Both follow APScheduler 4: ``lease_owner`` + ``lease_expires_at`` on the row,
taken with one compare-and-set UPDATE whose row count says who won (correct
on SQLite and PostgreSQL). A claimed run also carries a fencing token that
increments on every claim; every later runner call is guarded by
``lease_owner = :runner AND fencing_token = :token AND status = RUNNING``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError, Violation
from ferry.metrics import FerryMetrics
from ferry.v1 import execution_service_pb2, profile_pb2, run_pb2, schedule_pb2

from ferry_registry import convert, dry_run_gate
from ferry_registry.db.engine import Database
from ferry_registry.db.models import (
    FreshnessTokenRow,
    MissedFireRow,
    ProfileRow,
    RejectedRowRow,
    RunRow,
    ScheduleRow,
)
from ferry_registry.notify import Notifications
from ferry_registry.store import events

# Failures that repeat until someone acts: they count towards auto-pause.
PERMANENT_CLASSES = frozenset({run_pb2.ERROR_CLASS_PERMANENT, run_pb2.ERROR_CLASS_CREDENTIALS,
                               run_pb2.ERROR_CLASS_SOURCE_SHAPE, run_pb2.ERROR_CLASS_MAPPING})

log = logging.getLogger(__name__)

DEFAULT_SCHEDULE_LEASE = timedelta(seconds=30)
DEFAULT_RUN_LEASE = timedelta(seconds=30)
DEFAULT_ACQUIRE_LIMIT = 10
MAX_ACQUIRE_LIMIT = 500
MAX_REJECTED_ROWS = 1000
FINAL = frozenset({run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING,
                   run_pb2.RUN_STATUS_FAILED, run_pb2.RUN_STATUS_CANCELLED,
                   run_pb2.RUN_STATUS_UNCHANGED})
ADVANCES_FRESHNESS = frozenset({run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING})
Outcome = execution_service_pb2.ClaimOutcome
PROFILE_CACHE_SIZE = 1024

# Core statements of the hot paths (claim, heartbeat, progress, finish): no ORM
# unit of work, compiled once and cached by SQLAlchemy.
RUNS = RunRow.__table__
PROFILES = ProfileRow.__table__
TOKENS = FreshnessTokenRow.__table__
REJECTED = RejectedRowRow.__table__
_PROFILE_COLUMNS = [PROFILES.c[name].label(f"p_{name}") for name in (
    "name", "spec", "mapping_digest", "dry_run_required", "revision", "create_time",
    "update_time")]
CLAIM_READ = (sa.select(RUNS, *_PROFILE_COLUMNS)
              .select_from(RUNS.join(PROFILES, PROFILES.c.name == RUNS.c.profile))
              .where(RUNS.c.id == sa.bindparam("run_id")))
# The run when its profile is gone (no row from CLAIM_READ).
CLAIM_READ_ALONE = (sa.select(RUNS, *_PROFILE_COLUMNS)
                    .select_from(RUNS.outerjoin(PROFILES, PROFILES.c.name == RUNS.c.profile))
                    .where(RUNS.c.id == sa.bindparam("run_id")))
# Built once: a statement made per call (even when cached by SQLAlchemy) has its
# result metadata adapted on every execution.
CLAIM_READ_LOCKED = CLAIM_READ.with_for_update()
CLAIM_READ_ALONE_LOCKED = CLAIM_READ_ALONE.with_for_update(of=RUNS)
PROFILE_EXISTS = sa.select(PROFILES.c.name).where(PROFILES.c.name == sa.bindparam("name"))
PROFILE_LOCK = (sa.select(PROFILES.c.name).where(PROFILES.c.name == sa.bindparam("name"))
                .with_for_update())
RUN_BY_ID = sa.select(RUNS).where(RUNS.c.id == sa.bindparam("run_id"))
_OTHER = RUNS.alias("other")
OTHER_RUNNING = (sa.select(_OTHER.c.id).where(
    _OTHER.c.profile == sa.bindparam("b_profile"),
    _OTHER.c.status == run_pb2.RUN_STATUS_RUNNING,
    _OTHER.c.id != sa.bindparam("b_run_id")).limit(1))
CLAIM_UPDATE = (
    sa.update(RUNS)
    .where(RUNS.c.id == sa.bindparam("b_run_id"), RUNS.c.status == run_pb2.RUN_STATUS_QUEUED,
           ~sa.exists(OTHER_RUNNING))
    .values(status=run_pb2.RUN_STATUS_RUNNING, lease_owner=sa.bindparam("b_runner_id"),
            lease_expires_at=sa.bindparam("b_expires"),
            lease_seconds=sa.bindparam("b_lease_seconds"),
            fencing_token=RUNS.c.fencing_token + 1, start_time=sa.bindparam("b_now"),
            runner_id=sa.bindparam("b_runner_id"), update_time=sa.bindparam("b_now"))
    .returning(*RUNS.c))


@dataclass(frozen=True)
class Claim:
    outcome: int
    run: run_pb2.Run | None = None
    profile: profile_pb2.Profile | None = None
    fencing_token: int = 0
    lease_expire_time: datetime | None = None


@dataclass(frozen=True)
class Holder:
    """Who calls: the runner and the fencing token it got from ClaimRun."""

    run_id: str
    runner_id: str
    fencing_token: int


LEASE_EXTEND = (sa.update(RUNS).where(RUNS.c.id == sa.bindparam("b_run_id"))
                .values(lease_expires_at=sa.bindparam("b_expires")))
_HELD_GUARD = (RUNS.c.id == sa.bindparam("g_run_id"),
               RUNS.c.lease_owner == sa.bindparam("g_runner_id"),
               RUNS.c.fencing_token == sa.bindparam("g_token"),
               RUNS.c.status == run_pb2.RUN_STATUS_RUNNING)
_HELD_UPDATES: dict[tuple, sa.Update] = {}
ALL_RUN_COLUMNS = tuple(RUNS.c)


def _held_update(names: tuple[str, ...], returning: tuple) -> sa.Update:
    """UPDATE runs SET <names> WHERE <the caller holds the lease> RETURNING ...,
    built once per shape (binds ``v_<name>``, ``g_run_id``, ``g_runner_id``, ``g_token``)."""
    key = (names, "*" if returning is ALL_RUN_COLUMNS
           else tuple(column.key for column in returning))
    statement = _HELD_UPDATES.get(key)
    if statement is None:
        statement = (sa.update(RUNS).where(*_HELD_GUARD)
                     .values({name: sa.bindparam(f"v_{name}") for name in names})
                     .returning(*returning))
        _HELD_UPDATES[key] = statement
    return statement


class LeaseStore:
    def __init__(self, db: Database, clock: Clock, notes: Notifications,
                 metrics: FerryMetrics | None = None) -> None:
        self._db = db
        self._clock = clock
        self._notes = notes
        self._metrics = metrics
        self._profiles: dict[tuple, profile_pb2.Profile] = {}

    # --- schedules ------------------------------------------------------------

    def acquire_schedules(self, scheduler_id: str, limit: int, lease: timedelta
                          ) -> list[schedule_pb2.Schedule]:
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

    def release_schedule(self, schedule_id: str, scheduler_id: str,
                         next_fire_time: datetime | None, last_fire_time: datetime | None,
                         missed: list[schedule_pb2.MissedFire]) -> bool:
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
                    schedule_id=schedule_id, fire_time=convert.from_timestamp(fire.fire_time),
                    reason=fire.reason or schedule_pb2.MISSED_FIRE_REASON_MISFIRE,
                    record_time=convert.from_timestamp(fire.record_time)
                    if fire.HasField("record_time") else now))
            return True

    # --- runs -------------------------------------------------------------------

    def claim(self, run_id: str, runner_id: str, lease: timedelta, attempt: int) -> Claim:
        if not runner_id:
            raise InvalidArgumentError("runner_id is required",
                                       [Violation("runner_id", "is required")])
        if not run_id:
            raise NotFoundError(f'run "{run_id}" not found')
        now = self._clock.now()
        pg = self._db.is_postgres
        def write(session):
            conn = session.connection()
            # The run and its profile in one read (Core). PostgreSQL: both rows
            # locked (FOR UPDATE on the join), one claim at a time per profile.
            found = conn.execute(CLAIM_READ_LOCKED if pg else CLAIM_READ,
                                 {"run_id": run_id}).first()
            if found is None:
                alone = CLAIM_READ_ALONE_LOCKED if pg else CLAIM_READ_ALONE
                found = conn.execute(alone, {"run_id": run_id}).first()
                if found is None:
                    raise NotFoundError(f'run "{run_id}" not found')
            if found.status in FINAL:
                return Claim(Outcome.CLAIM_OUTCOME_FINISHED, convert.run_to_proto(found))
            if found.status == run_pb2.RUN_STATUS_RUNNING:
                return Claim(Outcome.CLAIM_OUTCOME_ALREADY_CLAIMED, convert.run_to_proto(found))
            if attempt > 0 and attempt != found.attempt:
                return Claim(Outcome.CLAIM_OUTCOME_STALE, convert.run_to_proto(found))
            if found.p_name is None or dry_run_gate.blocks(
                    dry_run=found.dry_run, force=found.force,
                    dry_run_required=found.p_dry_run_required):
                return self._claim_refused(session, run_id, now)
            expires = now + lease
            # Compare-and-set: still QUEUED, and no other run of the profile RUNNING.
            claimed = conn.execute(CLAIM_UPDATE, {
                "b_run_id": run_id, "b_profile": found.profile, "b_runner_id": runner_id,
                "b_expires": expires, "b_lease_seconds": lease.total_seconds(),
                "b_now": now}).first()
            if claimed is None:
                other = conn.execute(OTHER_RUNNING, {"b_profile": found.profile,
                                                     "b_run_id": run_id}).first()
                current = conn.execute(RUN_BY_ID, {"run_id": run_id}).first()
                outcome = (Outcome.CLAIM_OUTCOME_DEFERRED
                           if other is not None and current.status == run_pb2.RUN_STATUS_QUEUED
                           else Outcome.CLAIM_OUTCOME_ALREADY_CLAIMED)
                return Claim(outcome, convert.run_to_proto(current))
            run = events.status_changed_core(
                session, conn, claimed, now,
                f"claimed by runner {runner_id}, attempt {claimed.attempt} of "
                f"{claimed.max_attempts}")
            events.log_after_commit(session, "run claimed", claimed, runner_id=runner_id,
                                    fencing_token=claimed.fencing_token)
            events.count_entered(session, self._metrics, run_pb2.RUN_STATUS_RUNNING)
            self._notes.run_changed(session)
            return Claim(Outcome.CLAIM_OUTCOME_CLAIMED, run, self._profile_proto(found),
                         claimed.fencing_token, expires)

        return self._db.run_write(write)

    def _profile_proto(self, found) -> profile_pb2.Profile:
        """The claimed run's profile as a message, parsed once per stored version."""
        key = (found.p_name, found.p_revision, found.p_mapping_digest,
               found.p_dry_run_required, found.p_create_time, found.p_update_time)
        cached = self._profiles.get(key)
        if cached is None:
            cached = convert.profile_to_proto(ProfileRow(
                name=found.p_name, spec=found.p_spec, mapping_digest=found.p_mapping_digest,
                dry_run_required=found.p_dry_run_required, revision=found.p_revision,
                create_time=found.p_create_time, update_time=found.p_update_time))
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                self._profiles.clear()
            self._profiles[key] = cached
        return cached  # shared: callers copy it (into their response) and never change it

    def _claim_refused(self, session, run_id: str, now: datetime) -> Claim:
        """A QUEUED run that cannot start: its profile is gone, or the dry-run
        gate holds it. It ends FAILED at once (ORM path; rare)."""
        row = session.get(RunRow, run_id)
        profile_row = session.get(ProfileRow, row.profile)
        if profile_row is None:
            row.status = run_pb2.RUN_STATUS_FAILED
            row.error_class = run_pb2.ERROR_CLASS_PERMANENT
            row.error_message = f'profile "{row.profile}" no longer exists'
            row.end_time = row.update_time = now
            events.status_changed(session, row, now, row.error_message)
            self._notes.run_changed(session)
        else:
            self._gate(session, row, profile_row, now)
        return Claim(Outcome.CLAIM_OUTCOME_FINISHED, convert.run_to_proto(row))

    def _gate(self, session, row: RunRow, profile_row: ProfileRow, now: datetime) -> None:
        """End a live run held back by the dry-run gate: FAILED (MAPPING) without
        executing; not counted towards (nor resetting) the schedule's auto-pause."""
        row.status = run_pb2.RUN_STATUS_FAILED
        row.error_class = run_pb2.ERROR_CLASS_MAPPING
        row.error_message = dry_run_gate.gated_message(row.profile)
        row.hint = dry_run_gate.gated_hint(row.profile, profile_row.mapping_digest)
        row.end_time = row.update_time = now
        row.lease_owner = None
        row.lease_expires_at = None
        events.status_changed(session, row, now, row.error_message)
        events.log_after_commit(session, "run held by the dry-run gate", row,
                                mapping_digest=profile_row.mapping_digest)
        events.count_finished(session, self._metrics, row)
        self._notes.run_changed(session)

    @staticmethod
    def _lease_lost(conn, holder: Holder) -> Exception:
        row = conn.execute(RUN_BY_ID, {"run_id": holder.run_id}).first()
        if row is None:
            return NotFoundError(f'run "{holder.run_id}" not found')
        state = convert.status_name(row.status)
        return FailedPreconditionError(
            f"lease lost: run {holder.run_id} is {state}, held by "
            f"{row.lease_owner or 'nobody'} with fencing token {row.fencing_token}; "
            f"runner {holder.runner_id} with token {holder.fencing_token} must stop")

    def _hold_core(self, session, holder: Holder, values: dict[str, object],
                   returning: tuple = ()):
        """One guarded UPDATE of a run the caller still holds (Core, RETURNING the
        run's columns), or raise 'lease lost' having written nothing."""
        conn = session.connection()
        params = {f"v_{name}": value for name, value in values.items()}
        params.update(g_run_id=holder.run_id, g_runner_id=holder.runner_id,
                      g_token=holder.fencing_token)
        found = conn.execute(_held_update(tuple(values), returning or ALL_RUN_COLUMNS),
                             params).first()
        if found is None:
            raise self._lease_lost(conn, holder)
        return conn, found

    def _hold(self, session, holder: Holder, now: datetime,
              lease: timedelta | None = None) -> RunRow:
        """Extend the lease of a run the caller still holds, or raise 'lease lost'
        (ORM: for the rare paths that change the run further, like release)."""
        values: dict[str, object] = {"update_time": now}
        if lease is not None:
            values["lease_seconds"] = lease.total_seconds()
            values["lease_expires_at"] = now + lease
        self._hold_core(session, holder, values, returning=(RUNS.c.id,))
        # One SELECT that also overwrites any stale copy in the session.
        row = session.get(RunRow, holder.run_id, populate_existing=True)
        if lease is None:
            row.lease_expires_at = now + timedelta(seconds=row.lease_seconds)
        return row

    def heartbeat(self, holder: Holder, lease: timedelta | None) -> tuple[datetime, bool]:
        now = self._clock.now()
        def write(session):
            if lease is not None:
                _, found = self._hold_core(
                    session, holder, {"update_time": now, "lease_seconds": lease.total_seconds(),
                                      "lease_expires_at": now + lease},
                    returning=(RUNS.c.lease_expires_at, RUNS.c.cancel_requested))
                return found.lease_expires_at, found.cancel_requested
            conn, found = self._hold_core(session, holder, {"update_time": now},
                                          returning=(RUNS.c.lease_seconds,
                                                     RUNS.c.cancel_requested))
            expires = now + timedelta(seconds=found.lease_seconds)
            conn.execute(LEASE_EXTEND, {"b_run_id": holder.run_id, "b_expires": expires})
            return expires, found.cancel_requested

        return self._db.run_write(write)

    def progress(self, holder: Holder, counts: run_pb2.RunCounts, rows_total: int,
                 reported: list[run_pb2.RunEvent]) -> bool:
        now = self._clock.now()
        values: dict[str, object] = {"update_time": now, **convert.counts_values(counts)}
        if rows_total > 0:
            values["rows_total"] = rows_total
        def write(session):
            conn, found = self._hold_core(session, holder, values, returning=(
                RUNS.c.id, RUNS.c.status, RUNS.c.attempt, RUNS.c.lease_seconds,
                RUNS.c.cancel_requested))
            conn.execute(LEASE_EXTEND, {
                "b_run_id": holder.run_id,
                "b_expires": now + timedelta(seconds=found.lease_seconds)})
            events.append_reported_core(conn, found, now, reported)
            self._notes.run_changed(session)
            return found.cancel_requested

        return self._db.run_write(write)

    def finish(self, holder: Holder, request: execution_service_pb2.FinishRunRequest
               ) -> run_pb2.Run:
        if request.status not in FINAL:
            raise InvalidArgumentError(
                "status must be COMPLETED, WARNING, FAILED, CANCELLED or UNCHANGED",
                [Violation("status", "must be a terminal status")])
        now = self._clock.now()
        details = run_pb2.Run(first_skip_reason=request.first_skip_reason,
                              warnings=list(request.warnings),
                              retention_actions=list(request.retention_actions),
                              sample_location=request.sample_location)
        if request.HasField("first_error"):
            details.first_error.CopyFrom(request.first_error)
        if request.HasField("freshness"):
            details.freshness.CopyFrom(request.freshness)
        rejected = list(request.rejected_rows)[:MAX_REJECTED_ROWS]
        if rejected:
            details.rejected_rows_location = f"registry:runs/{holder.run_id}/rejected-rows"
        error_message = request.error_message
        if request.status == run_pb2.RUN_STATUS_CANCELLED and not error_message:
            error_message = "cancelled"
        # The terminal state in the guarded UPDATE itself: one statement.
        values: dict[str, object] = {
            "status": request.status, "end_time": now, "update_time": now,
            **convert.counts_values(request.counts),
            "details": convert.details_bytes(details),
            "rejected_columns": list(request.rejected_columns),
            "error_class": request.error_class, "error_message": error_message,
            "hint": request.hint, "lease_owner": None, "lease_expires_at": None}
        def write(session):
            conn, row = self._hold_core(session, holder, values)
            if rejected:
                conn.execute(REJECTED.insert(), [{
                    "run_id": row.id, "row": item.row, "outcome": item.outcome or "error",
                    "field": item.field, "message": item.message, "values": dict(item.values)}
                    for item in rejected])
            events.append_reported_core(conn, row, now, list(request.events))
            summary = convert.status_name(row.status).lower()
            if row.error_message and row.status != run_pb2.RUN_STATUS_COMPLETED:
                summary = f"{summary}: {row.error_message}"
            run = events.status_changed_core(session, conn, row, now, summary)
            if row.status in ADVANCES_FRESHNESS:
                if not row.dry_run and request.new_freshness_token:
                    self._store_token(conn, row, request, now)
                if row.dry_run:
                    # Clears the gate only while the mapping is the one the run tried.
                    conn.execute(sa.update(PROFILES).where(
                        PROFILES.c.name == row.profile,
                        PROFILES.c.mapping_digest == row.mapping_digest,
                        PROFILES.c.dry_run_required.is_(True)).values(dry_run_required=False))
            self._schedule_outcome(session, row, now)
            events.count_finished(session, self._metrics, row)
            events.log_after_commit(session, "run finished", row, runner_id=holder.runner_id,
                                    error_class=run_pb2.ErrorClass.Name(row.error_class))
            self._notes.run_changed(session)
            return run

        return self._db.run_write(write)

    def _store_token(self, conn, row, request, now: datetime) -> None:
        """The profile's freshness token, in the finishing transaction (only while
        the profile exists; PostgreSQL: under the profile's row lock)."""
        profile = PROFILE_LOCK if self._db.is_postgres else PROFILE_EXISTS
        if conn.execute(profile, {"name": row.profile}).first() is None:
            return
        method = request.freshness.method if request.HasField("freshness") else 0
        values = {"token": request.new_freshness_token, "method": method, "run_id": row.id,
                  "update_time": now}
        updated = conn.execute(sa.update(TOKENS).where(TOKENS.c.profile == row.profile)
                               .values(**values))
        if updated.rowcount == 0:
            conn.execute(TOKENS.insert().values(profile=row.profile, **values))

    def release(self, holder: Holder, reason: str, error_class: int, attempt_used: bool
                ) -> run_pb2.Run:
        now = self._clock.now()
        with self._db.write() as session:
            row = self._hold(session, holder, now)
            why = reason or "no reason given"
            if row.cancel_requested:
                self._end(session, row, now, run_pb2.RUN_STATUS_CANCELLED, 0,
                          f"cancelled (runner handed the run back: {why})")
            elif attempt_used:
                if row.attempt < row.max_attempts:
                    events.append(session, row, now,
                                  f"attempt {row.attempt} of {row.max_attempts} failed: {why}",
                                  type=run_pb2.RUN_EVENT_TYPE_RETRY,
                                  attributes={"error_class": run_pb2.ErrorClass.Name(
                                      error_class or 0)})
                    self._requeue(session, row, now, row.attempt + 1,
                                  f"queued again as attempt {row.attempt + 1} of "
                                  f"{row.max_attempts}")
                else:
                    self._end(session, row, now, run_pb2.RUN_STATUS_FAILED,
                              run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED,
                              f"attempts ran out: attempt {row.attempt} of {row.max_attempts} "
                              f"failed: {why}")
            else:
                self._requeue(session, row, now, row.attempt,
                              f"handed back by runner {holder.runner_id} without trying "
                              f"({why}); queued again as attempt {row.attempt} of "
                              f"{row.max_attempts}")
            events.log_after_commit(session, "run handed back", row, reason=why,
                                    attempt_used=attempt_used, runner_id=holder.runner_id)
            self._notes.run_changed(session)
            return convert.run_to_proto(row)

    def _requeue(self, session, row: RunRow, now: datetime, attempt: int, message: str) -> None:
        row.status = run_pb2.RUN_STATUS_QUEUED
        row.attempt = attempt
        row.lease_owner = None
        row.lease_expires_at = None
        row.published_time = None
        row.update_time = now
        events.status_changed(session, row, now, message)
        events.count_entered(session, self._metrics, run_pb2.RUN_STATUS_QUEUED)
        self._notes.run_queued(session, convert.run_to_proto(row))

    def _end(self, session, row: RunRow, now: datetime, status: int, error_class: int,
             message: str) -> None:
        row.status = status
        row.error_class = error_class
        row.error_message = message
        row.end_time = now
        row.update_time = now
        row.lease_owner = None
        row.lease_expires_at = None
        events.status_changed(session, row, now, message)
        events.count_finished(session, self._metrics, row)
        self._schedule_outcome(session, row, now)

    @staticmethod
    def _schedule_outcome(session, row: RunRow, now: datetime) -> None:
        """Count consecutive permanent failures of scheduled runs: warn on the run one
        failure before the limit, auto-pause the schedule at the limit. Transient
        failures (attempts exhausted) neither count nor reset the streak."""
        if not row.schedule_id or row.trigger != run_pb2.RUN_TRIGGER_SCHEDULE or row.dry_run:
            return
        schedule = session.get(ScheduleRow, row.schedule_id)
        if schedule is None:
            return
        if row.status == run_pb2.RUN_STATUS_FAILED and row.error_class in PERMANENT_CLASSES:
            schedule.consecutive_failures += 1
            limit = schedule_pb2.Schedule.FromString(schedule.spec).auto_pause_after
            if limit > 0 and schedule.consecutive_failures >= limit and not schedule.paused:
                schedule.paused = True
                schedule.next_fire_time = None
                schedule.pause_reason = (f"auto-paused after {schedule.consecutive_failures} "
                                         f"consecutive permanent failures (last: run {row.id}: "
                                         f"{row.error_message[:200]})")
                events.append(session, row, now, schedule.pause_reason,
                              type=run_pb2.RUN_EVENT_TYPE_WARNING,
                              attributes={"schedule_id": schedule.id, "auto_paused": "true"})
                log.warning("schedule auto-paused", extra={"fields": {
                    "schedule_id": schedule.id, "profile": schedule.profile}})
            elif limit > 1 and schedule.consecutive_failures == limit - 1:
                events.append(session, row, now,
                              f"schedule {schedule.id} has failed {limit - 1} times in a row "
                              f"with permanent errors; one more and it auto-pauses",
                              type=run_pb2.RUN_EVENT_TYPE_WARNING,
                              attributes={"schedule_id": schedule.id,
                                          "consecutive_failures": str(limit - 1)})
            schedule.update_time = now
        elif row.status in (run_pb2.RUN_STATUS_COMPLETED, run_pb2.RUN_STATUS_WARNING,
                            run_pb2.RUN_STATUS_UNCHANGED):
            if schedule.consecutive_failures:
                schedule.consecutive_failures = 0
                schedule.update_time = now

    # --- reaper -----------------------------------------------------------------

    def reap_expired(self, limit: int = 100) -> int:
        """Re-queue (or fail) RUNNING runs whose lease expired; returns how many."""
        now = self._clock.now()
        with self._db.write() as session:
            statement = sa.select(RunRow).where(
                RunRow.status == run_pb2.RUN_STATUS_RUNNING, RunRow.lease_expires_at < now
            ).order_by(RunRow.lease_expires_at).limit(limit)
            if self._db.is_postgres:
                statement = statement.with_for_update(skip_locked=True)
            rows = list(session.scalars(statement))
            for row in rows:
                lost = (f"runner {row.lease_owner or row.runner_id} lost on attempt {row.attempt} "
                        f"of {row.max_attempts} (lease expired)")
                events.append(session, row, now, lost, type=run_pb2.RUN_EVENT_TYPE_LEASE_EXPIRED)
                if row.cancel_requested:
                    self._end(session, row, now, run_pb2.RUN_STATUS_CANCELLED, 0,
                              f"cancelled ({lost})")
                elif row.attempt < row.max_attempts:
                    self._requeue(session, row, now, row.attempt + 1,
                                  f"{lost}; queued again as attempt {row.attempt + 1} of "
                                  f"{row.max_attempts}")
                else:
                    self._end(session, row, now, run_pb2.RUN_STATUS_FAILED,
                              run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED, lost)
                log.warning("run lease expired", extra={"fields": {
                    "run_id": row.id, "profile": row.profile, "attempt": row.attempt,
                    "status": convert.status_name(row.status)}})
            if rows:
                self._notes.run_changed(session)
                if self._metrics is not None:
                    expired = len(rows)
                    session.after_commit(lambda: self._metrics.lease_expired(expired))
            return len(rows)

    # --- freshness ----------------------------------------------------------------

    def freshness_token(self, profile: str) -> tuple[str, int, datetime | None]:
        with self._db.read() as session:
            if session.get(ProfileRow, profile) is None:
                raise NotFoundError(f'profile "{profile}" not found')
            token = session.get(FreshnessTokenRow, profile)
            if token is None:
                return "", 0, None
            return token.token, token.method, token.update_time
