"""Fenced run claims: what runners do to a run (claim, heartbeat, progress,
finish, release).

Claims follow APScheduler 4: ``lease_owner`` + ``lease_expires_at`` on the
row, taken with one compare-and-set UPDATE whose row count says who won
(correct on SQLite and PostgreSQL). A claimed run also carries a fencing token
that increments on every claim; every later runner call is guarded by
``lease_owner = :runner AND fencing_token = :token AND status = RUNNING`` and
writes nothing when the guard fails ("lease lost").

Claim, heartbeat, progress and finish are hot paths: Core statements built
once (``statements``), group committed (``Database.run_write``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ferry.clock import Clock
from ferry.errors import FailedPreconditionError, NotFoundError
from ferry.v1 import profile_pb2, run_pb2, source_shape_pb2
from ferry_domain.masking import profile_masker
from ferry_domain.runs.states import (
    AfterAttempt,
    ClaimVerdict,
    ErrorClass,
    RunStatus,
    advances_freshness,
    after_attempt,
    claim_verdict,
    clears_dry_run_gate,
    is_last_good_run,
)
from sqlalchemy.exc import IntegrityError

from ferry_registry import convert, dry_run_gate
from ferry_registry.db.engine import Database
from ferry_registry.db.models import ProfileRow
from ferry_registry.notify import Notifications
from ferry_registry.store import events
from ferry_registry.store import statements as sql
from ferry_registry.store.freshness import reset_token, store_imported, store_token
from ferry_registry.store.reports import (
    Finish,
    Holder,
    Progress,
    Release,
    has_evidence,
    masked_finish,
)
from ferry_registry.store.shapes import last_good_shape, store_shape
from ferry_registry.store.transitions import RunTransitions, update_run

DEFAULT_RUN_LEASE = timedelta(seconds=30)
PROFILE_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Claim:
    outcome: ClaimVerdict
    run: run_pb2.Run | None = None
    profile: profile_pb2.Profile | None = None
    fencing_token: int = 0
    lease_expire_time: datetime | None = None
    last_good_shape: source_shape_pb2.SourceShape | None = None


class ClaimStore:
    def __init__(self, db: Database, clock: Clock, notes: Notifications,
                 transitions: RunTransitions, mask_key: bytes | None = None) -> None:
        self._db = db
        # A finished run's evidence is masked again with it before it is stored.
        self._mask_key = mask_key
        self._clock = clock
        self._notes = notes
        self._transitions = transitions
        self._profiles: dict[tuple, profile_pb2.Profile] = {}

    # --- claim ---------------------------------------------------------------------

    def claim(self, run_id: str, runner_id: str, lease: timedelta, attempt: int) -> Claim:
        """Claim a QUEUED run for ``attempt`` (0: whatever attempt it is on)."""
        now = self._clock.now()
        pg = self._db.is_postgres

        def write(session):
            conn = session.connection()
            found = conn.execute(sql.CLAIM_READ_LOCKED if pg else sql.CLAIM_READ,
                                 {"run_id": run_id}).first()
            if found is None:
                alone = sql.CLAIM_READ_ALONE_LOCKED if pg else sql.CLAIM_READ_ALONE
                found = conn.execute(alone, {"run_id": run_id}).first()
                if found is None:
                    raise NotFoundError(f'run "{run_id}" not found')
            verdict = claim_verdict(RunStatus(found.status), current_attempt=found.attempt,
                                    asked_attempt=attempt)
            if verdict is not ClaimVerdict.CLAIMED:
                return Claim(verdict, convert.run_to_proto(found))
            # A rollback restores what was; the dry-run gate holds imports only.
            if found.p_name is None or (found.operation != profile_pb2.OPERATION_ROLLBACK
                                        and dry_run_gate.blocks(
                                            dry_run=found.dry_run, force=found.force,
                                            dry_run_required=found.p_dry_run_required)):
                return self._refuse(session, found, now)
            expires = now + lease
            claimed = conn.execute(sql.CLAIM_UPDATE, {
                "b_run_id": run_id, "b_profile": found.profile, "b_runner_id": runner_id,
                "b_expires": expires, "b_lease_seconds": lease.total_seconds(),
                "b_now": now}).first()
            if claimed is None:
                return self._not_claimed(conn, run_id, found.profile)
            run = self._transitions.record(
                session, claimed, now,
                f"claimed by runner {runner_id}, attempt {claimed.attempt} of "
                f"{claimed.max_attempts}",
                "run claimed", runner_id=runner_id, fencing_token=claimed.fencing_token)
            return Claim(ClaimVerdict.CLAIMED, run, self._profile_proto(found),
                         claimed.fencing_token, expires, last_good_shape(conn, found.profile))

        try:
            return self._db.run_write(write)
        except IntegrityError:
            # The schema's one-RUNNING-run-per-profile index refused the claim
            # (another run of the profile started in between): nothing was written.
            with self._db.read() as session:
                found = session.connection().execute(sql.RUN_BY_ID, {"run_id": run_id}).one()
            return Claim(ClaimVerdict.DEFERRED, convert.run_to_proto(found))

    @staticmethod
    def _not_claimed(conn, run_id: str, profile: str) -> Claim:
        """The compare-and-set lost: DEFERRED while another run of the profile
        is RUNNING and this one still QUEUED, else someone else claimed it."""
        other = conn.execute(sql.OTHER_RUNNING, {"b_profile": profile,
                                                 "b_run_id": run_id}).first()
        current = conn.execute(sql.RUN_BY_ID, {"run_id": run_id}).first()
        verdict = (ClaimVerdict.DEFERRED
                   if other is not None and current.status == RunStatus.QUEUED
                   else ClaimVerdict.ALREADY_CLAIMED)
        return Claim(verdict, convert.run_to_proto(current))

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

    def _refuse(self, session, found, now: datetime) -> Claim:
        """A QUEUED run that cannot start ends FAILED at once, without executing:
        its profile is gone (PERMANENT), or the dry-run gate holds it (MAPPING;
        not counted towards, nor resetting, the schedule's auto-pause)."""
        values: dict[str, object] = {"status": RunStatus.FAILED, "end_time": now,
                                     "update_time": now}
        if found.p_name is None:
            message = f'profile "{found.profile}" no longer exists'
            values.update(error_class=ErrorClass.PERMANENT, error_message=message)
            run = update_run(session, found.id, values)
            proto = self._transitions.record(session, run, now, message,
                                             "run refused: its profile is gone")
        else:
            message = dry_run_gate.gated_message(found.profile)
            values.update(error_class=ErrorClass.MAPPING, error_message=message,
                          hint=dry_run_gate.gated_hint(found.profile, found.p_mapping_digest),
                          lease_owner=None, lease_expires_at=None)
            run = update_run(session, found.id, values)
            proto = self._transitions.record(session, run, now, message,
                                             "run held by the dry-run gate",
                                             mapping_digest=found.p_mapping_digest)
        return Claim(ClaimVerdict.FINISHED, proto)

    # --- calls of the runner holding the run ----------------------------------------

    @staticmethod
    def _hold(session, holder: Holder, values: dict[str, object],
              returning: tuple = sql.ALL_RUN_COLUMNS):
        """One guarded UPDATE of a run the caller still holds (RETURNING
        ``returning``), or raise 'lease lost' having written nothing."""
        conn = session.connection()
        params = {f"v_{name}": value for name, value in values.items()}
        params.update(g_run_id=holder.run_id, g_runner_id=holder.runner_id,
                      g_token=holder.fencing_token)
        found = conn.execute(sql.held_update(tuple(values), returning), params).first()
        if found is None:
            raise _lease_lost(conn, holder)
        return conn, found

    def heartbeat(self, holder: Holder, lease: timedelta | None) -> tuple[datetime, bool]:
        """Extend the lease (by ``lease``, else the one given at claim); returns
        the new expiry and whether a cancel was asked."""
        now = self._clock.now()

        def write(session):
            if lease is not None:
                _, found = self._hold(
                    session, holder, {"update_time": now, "lease_seconds": lease.total_seconds(),
                                      "lease_expires_at": now + lease},
                    returning=(sql.RUNS.c.lease_expires_at, sql.RUNS.c.cancel_requested))
                return found.lease_expires_at, found.cancel_requested
            conn, found = self._hold(session, holder, {"update_time": now},
                                     returning=(sql.RUNS.c.lease_seconds,
                                                sql.RUNS.c.cancel_requested))
            expires = now + timedelta(seconds=found.lease_seconds)
            conn.execute(sql.LEASE_EXTEND, {"b_run_id": holder.run_id, "b_expires": expires})
            return expires, found.cancel_requested

        return self._db.run_write(write)

    def progress(self, holder: Holder, progress: Progress) -> bool:
        """Counts and events so far, extending the lease; returns whether a
        cancel was asked."""
        now = self._clock.now()
        values: dict[str, object] = {"update_time": now, **progress.counts}
        if progress.rows_total > 0:
            values["rows_total"] = progress.rows_total

        def write(session):
            conn, found = self._hold(session, holder, values, returning=(
                sql.RUNS.c.id, sql.RUNS.c.status, sql.RUNS.c.attempt, sql.RUNS.c.lease_seconds,
                sql.RUNS.c.cancel_requested))
            conn.execute(sql.LEASE_EXTEND, {
                "b_run_id": holder.run_id,
                "b_expires": now + timedelta(seconds=found.lease_seconds)})
            events.insert_reported(conn, found, now, progress.events)
            self._notes.run_changed(session)
            return found.cancel_requested

        return self._db.run_write(write)

    def finish(self, holder: Holder, finish: Finish) -> run_pb2.Run:
        """The terminal state, result, rejected rows and events in one guarded
        transaction, with the freshness token (a live run ending COMPLETED or
        WARNING) or the dry-run gate cleared (a dry run ending so)."""
        now = self._clock.now()
        lock_profile = self._db.is_postgres

        def write(session):
            done = self._masked(session.connection(), holder.run_id, finish)
            error_message = done.error_message
            if done.status == RunStatus.CANCELLED and not error_message:
                error_message = "cancelled"
            values: dict[str, object] = {
                "status": done.status, "end_time": now, "update_time": now, **done.counts,
                "details": done.details, "rejected_columns": list(done.rejected_columns),
                "error_class": done.error_class, "error_message": error_message,
                "hint": done.hint, "lease_owner": None, "lease_expires_at": None}
            conn, row = self._hold(session, holder, values)
            if done.rejected_rows:
                conn.execute(sql.INSERT_REJECTED, [{
                    "run_id": row.id, "row": item.row, "outcome": item.outcome or "error",
                    "field": item.field, "message": item.message, "values": dict(item.values)}
                    for item in done.rejected_rows])
            if done.sample is not None:
                conn.execute(sql.INSERT_SAMPLE, {
                    "run_id": row.id, "columns": list(done.sample.columns),
                    "rows": [list(r) for r in done.sample.rows],
                    "omitted_rows": done.sample.omitted_rows})
            events.insert_reported(conn, row, now, finish.events)
            summary = finish.status.label
            if row.error_message and finish.status != RunStatus.COMPLETED:
                summary = f"{summary}: {row.error_message}"
            run = self._transitions.record(session, row, now, summary, "run finished",
                                           runner_id=holder.runner_id,
                                           error_class=run_pb2.ErrorClass.Name(row.error_class))
            rollback = row.operation == profile_pb2.OPERATION_ROLLBACK
            if rollback and advances_freshness(finish.status, dry_run=row.dry_run):
                reset_token(conn, profile=row.profile, run_id=row.id,
                            undone_run_id=row.rollback_of, now=now, lock_profile=lock_profile)
            elif advances_freshness(finish.status, dry_run=row.dry_run):
                if finish.new_freshness_token:
                    store_token(conn, profile=row.profile, run_id=row.id,
                                token=finish.new_freshness_token,
                                method=finish.freshness_method, now=now,
                                lock_profile=lock_profile)
                store_imported(conn, profile=row.profile, digest=finish.profile_digest,
                               run_id=row.id, files=finish.imported_files, now=now,
                               lock_profile=lock_profile)
            elif not rollback and clears_dry_run_gate(finish.status, dry_run=row.dry_run):
                conn.execute(sql.CLEAR_DRY_RUN_GATE, {"b_profile": row.profile,
                                                      "b_mapping_digest": row.mapping_digest})
            if finish.source_shape is not None and is_last_good_run(finish.status,
                                                                    dry_run=row.dry_run):
                store_shape(conn, profile=row.profile, run_id=row.id,
                            shape=finish.source_shape, now=now)
            self._transitions.apply_auto_pause(session, row, now)
            return run

        return self._db.run_write(write)

    def _masked(self, conn, run_id: str, finish: Finish) -> Finish:
        """``finish`` with its evidence masked by the run's profile (no key: as is)."""
        if self._mask_key is None or not has_evidence(finish):
            return finish
        spec = conn.execute(sql.RUN_PROFILE_SPEC, {"b_run_id": run_id}).scalar()
        profile = profile_pb2.Profile.FromString(spec) if spec else None
        return masked_finish(profile_masker(self._mask_key, profile), finish)

    def release(self, holder: Holder, release: Release) -> run_pb2.Run:
        """The runner hands the run back (``states.after_attempt``): queued again
        as the next attempt (or the same one, when the attempt was not used),
        FAILED when attempts ran out, CANCELLED when a cancel was asked."""
        now = self._clock.now()
        why = release.reason or "no reason given"
        with self._db.write() as session:
            conn, row = self._hold(session, holder, {"update_time": now})
            step = after_attempt(attempt=row.attempt, max_attempts=row.max_attempts,
                                 cancel_requested=row.cancel_requested,
                                 attempt_used=release.attempt_used)
            of = f"of {row.max_attempts}"
            if step.outcome is AfterAttempt.CANCELLED:
                message = f"cancelled (runner handed the run back: {why})"
            elif step.outcome is AfterAttempt.EXHAUSTED:
                message = f"attempts ran out: attempt {row.attempt} {of} failed: {why}"
            elif release.attempt_used:
                events.insert(conn, row, now, f"attempt {row.attempt} {of} failed: {why}",
                              type=run_pb2.RUN_EVENT_TYPE_RETRY,
                              attributes={"error_class": run_pb2.ErrorClass.Name(
                                  release.error_class)})
                message = f"queued again as attempt {step.attempt} {of}"
            else:
                message = (f"handed back by runner {holder.runner_id} without trying ({why}); "
                           f"queued again as attempt {step.attempt} {of}")
            return self._transitions.let_go(
                session, holder.run_id, now, step, message, "run handed back", reason=why,
                attempt_used=release.attempt_used, runner_id=holder.runner_id)


def _lease_lost(conn, holder: Holder) -> Exception:
    row = conn.execute(sql.RUN_BY_ID, {"run_id": holder.run_id}).first()
    if row is None:
        return NotFoundError(f'run "{holder.run_id}" not found')
    return FailedPreconditionError(
        f"lease lost: run {holder.run_id} is {RunStatus(row.status).name}, held by "
        f"{row.lease_owner or 'nobody'} with fencing token {row.fencing_token}; "
        f"runner {holder.runner_id} with token {holder.fencing_token} must stop")
