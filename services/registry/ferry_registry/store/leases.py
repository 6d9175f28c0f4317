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


class LeaseStore:
    def __init__(self, db: Database, clock: Clock, notes: Notifications,
                 metrics: FerryMetrics | None = None) -> None:
        self._db = db
        self._clock = clock
        self._notes = notes
        self._metrics = metrics

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
        now = self._clock.now()
        pg = self._db.is_postgres
        with self._db.write() as session:
            row = session.get(RunRow, run_id, with_for_update=pg) if run_id else None
            if row is None:
                raise NotFoundError(f'run "{run_id}" not found')
            # One claim at a time per profile (PostgreSQL: the profile row lock).
            profile_row = session.get(ProfileRow, row.profile, with_for_update=pg)
            if row.status in FINAL:
                return Claim(Outcome.CLAIM_OUTCOME_FINISHED, convert.run_to_proto(row))
            if row.status == run_pb2.RUN_STATUS_RUNNING:
                return Claim(Outcome.CLAIM_OUTCOME_ALREADY_CLAIMED, convert.run_to_proto(row))
            if attempt > 0 and attempt != row.attempt:
                return Claim(Outcome.CLAIM_OUTCOME_STALE, convert.run_to_proto(row))
            if profile_row is None:
                row.status = run_pb2.RUN_STATUS_FAILED
                row.error_class = run_pb2.ERROR_CLASS_PERMANENT
                row.error_message = f'profile "{row.profile}" no longer exists'
                row.end_time = row.update_time = now
                events.status_changed(session, row, now, row.error_message)
                self._notes.run_changed(session)
                return Claim(Outcome.CLAIM_OUTCOME_FINISHED, convert.run_to_proto(row))
            if dry_run_gate.blocks(dry_run=row.dry_run, force=row.force,
                                   dry_run_required=profile_row.dry_run_required):
                self._gate(session, row, profile_row, now)
                return Claim(Outcome.CLAIM_OUTCOME_FINISHED, convert.run_to_proto(row))
            other = session.scalar(sa.select(RunRow.id).where(
                RunRow.profile == row.profile, RunRow.status == run_pb2.RUN_STATUS_RUNNING,
                RunRow.id != row.id).limit(1))
            if other is not None:
                return Claim(Outcome.CLAIM_OUTCOME_DEFERRED, convert.run_to_proto(row))
            expires = now + lease
            result = session.execute(
                sa.update(RunRow).where(RunRow.id == run_id,
                                        RunRow.status == run_pb2.RUN_STATUS_QUEUED)
                .values(status=run_pb2.RUN_STATUS_RUNNING, lease_owner=runner_id,
                        lease_expires_at=expires, lease_seconds=lease.total_seconds(),
                        fencing_token=RunRow.fencing_token + 1, start_time=now,
                        runner_id=runner_id, update_time=now),
                execution_options={"synchronize_session": False})
            if result.rowcount != 1:
                session.refresh(row)
                return Claim(Outcome.CLAIM_OUTCOME_ALREADY_CLAIMED, convert.run_to_proto(row))
            session.refresh(row)
            events.status_changed(session, row, now,
                                  f"claimed by runner {runner_id}, attempt {row.attempt} of "
                                  f"{row.max_attempts}")
            events.log_after_commit(session, "run claimed", row, runner_id=runner_id,
                                    fencing_token=row.fencing_token)
            events.count_entered(session, self._metrics, run_pb2.RUN_STATUS_RUNNING)
            self._notes.run_changed(session)
            return Claim(Outcome.CLAIM_OUTCOME_CLAIMED, convert.run_to_proto(row),
                         convert.profile_to_proto(profile_row), row.fencing_token, expires)

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

    def _hold(self, session, holder: Holder, now: datetime,
              lease: timedelta | None = None) -> RunRow:
        """Extend the lease of a run the caller still holds, or raise 'lease lost'."""
        guard = (RunRow.id == holder.run_id, RunRow.lease_owner == holder.runner_id,
                 RunRow.fencing_token == holder.fencing_token,
                 RunRow.status == run_pb2.RUN_STATUS_RUNNING)
        values: dict[str, object] = {"update_time": now}
        if lease is not None:
            values["lease_seconds"] = lease.total_seconds()
            values["lease_expires_at"] = now + lease
        result = session.execute(sa.update(RunRow).where(*guard).values(**values),
                                 execution_options={"synchronize_session": False})
        if result.rowcount != 1:
            row = session.get(RunRow, holder.run_id)
            if row is None:
                raise NotFoundError(f'run "{holder.run_id}" not found')
            state = convert.status_name(row.status)
            raise FailedPreconditionError(
                f"lease lost: run {holder.run_id} is {state}, held by "
                f"{row.lease_owner or 'nobody'} with fencing token {row.fencing_token}; "
                f"runner {holder.runner_id} with token {holder.fencing_token} must stop")
        # One SELECT that also overwrites any stale copy in the session.
        row = session.get(RunRow, holder.run_id, populate_existing=True)
        if lease is None:
            row.lease_expires_at = now + timedelta(seconds=row.lease_seconds)
        return row

    def heartbeat(self, holder: Holder, lease: timedelta | None) -> tuple[datetime, bool]:
        now = self._clock.now()
        with self._db.write() as session:
            row = self._hold(session, holder, now, lease)
            return row.lease_expires_at, row.cancel_requested

    def progress(self, holder: Holder, counts: run_pb2.RunCounts, rows_total: int,
                 reported: list[run_pb2.RunEvent]) -> bool:
        now = self._clock.now()
        with self._db.write() as session:
            row = self._hold(session, holder, now)
            for name, value in convert.counts_values(counts).items():
                setattr(row, name, value)
            if rows_total > 0:
                row.rows_total = rows_total
            events.append_reported(session, row, now, reported)
            self._notes.run_changed(session)
            return row.cancel_requested

    def finish(self, holder: Holder, request: execution_service_pb2.FinishRunRequest
               ) -> run_pb2.Run:
        if request.status not in FINAL:
            raise InvalidArgumentError(
                "status must be COMPLETED, WARNING, FAILED, CANCELLED or UNCHANGED",
                [Violation("status", "must be a terminal status")])
        now = self._clock.now()
        with self._db.write() as session:
            row = self._hold(session, holder, now)
            profile_row = session.get(ProfileRow, row.profile,
                                      with_for_update=self._db.is_postgres)
            row.status = request.status
            row.end_time = now
            for name, value in convert.counts_values(request.counts).items():
                setattr(row, name, value)
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
                details.rejected_rows_location = f"registry:runs/{row.id}/rejected-rows"
            row.details = convert.details_bytes(details)
            row.rejected_columns = list(request.rejected_columns)
            row.error_class = request.error_class
            row.error_message = request.error_message
            if request.status == run_pb2.RUN_STATUS_CANCELLED and not request.error_message:
                row.error_message = row.error_message or "cancelled"
            row.hint = request.hint
            row.lease_owner = None
            row.lease_expires_at = None
            for item in rejected:
                session.add(RejectedRowRow(run_id=row.id, row=item.row,
                                           outcome=item.outcome or "error", field=item.field,
                                           message=item.message, values=dict(item.values)))
            events.append_reported(session, row, now, list(request.events))
            summary = convert.status_name(row.status).lower()
            if row.error_message and row.status != run_pb2.RUN_STATUS_COMPLETED:
                summary = f"{summary}: {row.error_message}"
            events.status_changed(session, row, now, summary)
            if profile_row is not None and row.status in ADVANCES_FRESHNESS:
                if not row.dry_run and request.new_freshness_token:
                    self._store_token(session, row, request, now)
                if row.dry_run and profile_row.mapping_digest == row.mapping_digest:
                    profile_row.dry_run_required = False
            self._schedule_outcome(session, row, now)
            events.count_finished(session, self._metrics, row)
            events.log_after_commit(session, "run finished", row, runner_id=holder.runner_id,
                                    error_class=run_pb2.ErrorClass.Name(row.error_class))
            self._notes.run_changed(session)
            return convert.run_to_proto(row)

    @staticmethod
    def _store_token(session, row: RunRow, request, now: datetime) -> None:
        token = session.get(FreshnessTokenRow, row.profile)
        method = request.freshness.method if request.HasField("freshness") else 0
        if token is None:
            session.add(FreshnessTokenRow(profile=row.profile, token=request.new_freshness_token,
                                          method=method, run_id=row.id, update_time=now))
        else:
            token.token = request.new_freshness_token
            token.method = method
            token.run_id = row.id
            token.update_time = now

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
