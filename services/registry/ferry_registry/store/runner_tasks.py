"""Runner tasks: short requests any runner executes where the data is (its
volumes, secrets, target and connectors), e.g. validating a profile.

Life of a task: ``create`` stores it QUEUED with a deadline (``timeout``
from now) and hands it to one connected scheduler (``QueuedRunFanout``, as
queued runs); the scheduler publishes it and marks it published, and the
outbox sweep publishes again what stayed unpublished (``to_publish``). A
runner takes it with ``claim`` (compare-and-set: QUEUED and within its
deadline), which gives it a new deadline of the same length to answer, and
answers with ``complete``.

A task past its deadline ends FAILED the first time anyone looks at it
(``get``, ``claim``): "no runner took the task within 30s" when it is still
QUEUED, "runner R took the task but did not answer within 30s" when RUNNING.
The caller waiting for it (``ferry profiles validate``) therefore gets an
answer within about twice the timeout however the runners fare.

Records tasks (LIST_RUN_RECORDS, GET_RECORD, DIFF_RUNS) carry their query
in the task and their answer with ``complete``; both are kept in the row's
``result`` (a serialized RunnerTask holding only the query, the checks and
the answer). A caller waiting server-side (``ferry_registry.record_reads``)
is woken by ``Notifications.tasks`` when a task ends, and ``abandon``s the
task when it stops waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.durations import format_duration
from ferry.errors import InvalidArgumentError, NotFoundError, Violation
from ferry.v1 import profile_pb2, runner_task_pb2, source_shape_pb2

from ferry_registry import convert, ids
from ferry_registry.db.engine import Database
from ferry_registry.db.models import ProfileRow, RunnerTaskRow
from ferry_registry.notify import Notifications
from ferry_registry.store.shapes import last_good_shape

QUEUED = runner_task_pb2.RUNNER_TASK_STATE_QUEUED
RUNNING = runner_task_pb2.RUNNER_TASK_STATE_RUNNING
SUCCEEDED = runner_task_pb2.RUNNER_TASK_STATE_SUCCEEDED
FAILED = runner_task_pb2.RUNNER_TASK_STATE_FAILED
DEFAULT_TIMEOUT = timedelta(seconds=30)
MAX_TIMEOUT = timedelta(minutes=10)
KINDS = frozenset({runner_task_pb2.RUNNER_TASK_KIND_VALIDATE_PROFILE,
                   runner_task_pb2.RUNNER_TASK_KIND_LIST_RUN_RECORDS,
                   runner_task_pb2.RUNNER_TASK_KIND_GET_RECORD,
                   runner_task_pb2.RUNNER_TASK_KIND_DIFF_RUNS})
# What a runner's answer may set on the stored task.
ANSWER_FIELDS = ("run_records", "record", "run_diff")
TASKS = RunnerTaskRow.__table__


def to_proto(row) -> runner_task_pb2.RunnerTask:
    task = runner_task_pb2.RunnerTask()
    if row.result:
        task.MergeFromString(row.result)
    task.id, task.kind, task.state, task.profile = row.id, row.kind, row.state, row.profile
    task.runner_id, task.error_message = row.runner_id, row.error_message
    task.source_override = row.source_override or ""
    for name in ("create_time", "update_time", "expire_time", "end_time"):
        stamp = convert.to_timestamp(getattr(row, name))
        if stamp is not None:
            getattr(task, name).CopyFrom(stamp)
    return task


def _timeout(row) -> timedelta:
    """How long the task has: to be taken (from its creation), then to be
    answered (from the claim)."""
    return row.expire_time - (row.start_time or row.create_time)


def _expired_message(row) -> str:
    within = format_duration(_timeout(row))
    if row.state == QUEUED:
        return f"no runner took the task within {within}"
    return f"runner {row.runner_id} took the task but did not answer within {within}"


class RunnerTaskStore:
    def __init__(self, db: Database, clock: Clock, notes: Notifications) -> None:
        self._db = db
        self._clock = clock
        self._notes = notes

    def create(self, kind: int, profile: str, timeout: timedelta | None,
               source_override: str = "", query: runner_task_pb2.RunnerTask | None = None
               ) -> runner_task_pb2.RunnerTask:
        """Store a QUEUED task; ``query``: a RunnerTask holding only the task's
        query (records tasks)."""
        if kind not in KINDS:
            raise InvalidArgumentError("unknown runner task kind",
                                       [Violation("kind", "must be VALIDATE_PROFILE")])
        timeout = timeout or DEFAULT_TIMEOUT
        if not timedelta(0) < timeout <= MAX_TIMEOUT:
            raise InvalidArgumentError("timeout out of range", [Violation(
                "timeout", f"must be more than 0 and at most {format_duration(MAX_TIMEOUT)}")])
        now = self._clock.now()
        with self._db.write() as session:
            if session.get(ProfileRow, profile) is None:
                raise NotFoundError(f'profile "{profile}" not found')
            row = RunnerTaskRow(id=ids.new_id(), kind=kind, state=QUEUED, profile=profile,
                                runner_id="",
                                result=query.SerializeToString(deterministic=True)
                                if query is not None else b"",
                                error_message="", create_time=now,
                                update_time=now, expire_time=now + timeout, publish_count=0,
                                source_override=source_override)
            session.add(row)
            session.flush()
            task = to_proto(row)
            session.after_commit(lambda: self._notes.fanout.publish(task))
        return task

    def get(self, task_id: str) -> runner_task_pb2.RunnerTask:
        with self._db.write() as session:
            row = self._row(session, task_id)
            self._expire(row, self._clock.now())
            return to_proto(row)

    def claim(self, task_id: str, runner_id: str) -> tuple[
            bool, runner_task_pb2.RunnerTask, profile_pb2.Profile | None,
            source_shape_pb2.SourceShape | None]:
        """Take a QUEUED task within its deadline: (claimed, task, its profile,
        the profile's last good source shape)."""
        now = self._clock.now()
        with self._db.write() as session:
            row = self._row(session, task_id)
            if self._expire(row, now) or row.state != QUEUED:
                return False, to_proto(row), None, None
            profile = session.get(ProfileRow, row.profile)
            if profile is None:
                self._end(row, now, FAILED, error=f'profile "{row.profile}" no longer exists')
                return False, to_proto(row), None, None
            timeout = _timeout(row)
            row.state, row.runner_id, row.start_time = RUNNING, runner_id, now
            row.update_time, row.expire_time = now, now + timeout
            shape = last_good_shape(session.connection(), row.profile)
            return True, to_proto(row), convert.profile_to_proto(profile), shape

    def complete(self, task_id: str, runner_id: str,
                 checks: list[runner_task_pb2.RunnerTaskCheck], error: str,
                 answer: runner_task_pb2.RunnerTask | None = None
                 ) -> runner_task_pb2.RunnerTask:
        """The runner's answer: ``checks`` (VALIDATE_PROFILE), the ``answer``
        fields of ``answer`` (records tasks), or ``error`` (it ends FAILED)."""
        now = self._clock.now()
        with self._db.write() as session:
            row = self._row(session, task_id)
            if row.state != RUNNING or row.runner_id != runner_id:
                raise NotFoundError(f'runner task "{task_id}" is not held by runner {runner_id}')
            stored = runner_task_pb2.RunnerTask.FromString(row.result or b"")
            stored.checks.extend(checks)
            answered = answer.WhichOneof("answer") if answer is not None else None
            if answered in ANSWER_FIELDS and not error:
                getattr(stored, answered).CopyFrom(getattr(answer, answered))
            stored.answered = True
            row.result = stored.SerializeToString(deterministic=True)
            self._end(row, now, FAILED if error else SUCCEEDED, error=error)
            session.after_commit(self._notes.tasks.bump)
            return to_proto(row)

    def abandon(self, task_id: str, error: str) -> runner_task_pb2.RunnerTask:
        """End a task nobody waits for any more FAILED with ``error``, unless it
        has ended: a runner that takes it later drops it."""
        with self._db.write() as session:
            row = self._row(session, task_id)
            if row.state in (QUEUED, RUNNING):
                self._end(row, self._clock.now(), FAILED, error=error)
            return to_proto(row)

    def to_publish(self, published_before: datetime | None, limit: int
                   ) -> list[runner_task_pb2.RunnerTask]:
        now = self._clock.now()
        unpublished = TASKS.c.published_time.is_(None)
        if published_before is not None:
            unpublished = sa.or_(unpublished, TASKS.c.published_time < published_before)
        with self._db.read() as session:
            rows = session.execute(
                sa.select(TASKS).where(TASKS.c.state == QUEUED, TASKS.c.expire_time > now,
                                       unpublished)
                .order_by(TASKS.c.create_time).limit(limit or 100)).all()
        return [to_proto(row) for row in rows]

    def mark_published(self, task_ids: list[str]) -> None:
        if not task_ids:
            return
        now = self._clock.now()
        with self._db.write() as session:
            session.execute(sa.update(TASKS).where(TASKS.c.id.in_(task_ids))
                            .values(published_time=now,
                                    publish_count=TASKS.c.publish_count + 1))

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _row(session, task_id: str) -> RunnerTaskRow:
        if not task_id:
            raise InvalidArgumentError("id is required", [Violation("id", "is required")])
        row = session.get(RunnerTaskRow, task_id)
        if row is None:
            raise NotFoundError(f'runner task "{task_id}" not found')
        return row

    def _expire(self, row: RunnerTaskRow, now: datetime) -> bool:
        """End a QUEUED or RUNNING task past its deadline; whether it did."""
        if row.state in (QUEUED, RUNNING) and now >= row.expire_time:
            self._end(row, now, FAILED, error=_expired_message(row))
            return True
        return False

    @staticmethod
    def _end(row: RunnerTaskRow, now: datetime, state: int, *, error: str = "") -> None:
        row.state, row.error_message = state, error
        row.update_time = row.end_time = now
