"""ListRunRecords, GetRecord and DiffRuns: what runs wrote in a profile's
target, read back by a runner (only runners reach the target).

Each call checks its input here (the runs exist and are live imports or
rollbacks, of a profile that still exists; a key has as many parts as the
profile's key), creates a runner task of its kind holding the query, and
waits for the runner's answer within the call's deadline (at most
``MAX_WAIT``): woken by ``Notifications.tasks`` when a runner answers here,
polling each second for answers given to another registry replica. Then:

- the task SUCCEEDED: its answer;
- the runner answered with an error (the run has no changeset: a dry run,
  ``retention.changeset: off``, purged): FAILED_PRECONDITION with its message;
- no runner took or answered it in time: UNAVAILABLE saying so (the task is
  abandoned, so a runner that takes it later drops it).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from ferry.durations import format_duration
from ferry.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
    Violation,
)
from ferry.v1 import profile_pb2, record_pb2, run_pb2, runner_task_pb2
from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.mapping import record_key_fields

from ferry_registry.notify import RunChanges
from ferry_registry.servicers.common import StreamSlots, require
from ferry_registry.store.profiles import ProfileStore
from ferry_registry.store.runner_tasks import RunnerTaskStore
from ferry_registry.store.runs import RunStore

Kind = runner_task_pb2.RunnerTaskKind
# The longest a call waits for a runner; a shorter deadline of the call wins.
MAX_WAIT = 30.0
# Kept from the caller's deadline, to answer before it passes.
DEADLINE_MARGIN = 0.5
MIN_WAIT = 0.1
POLL_SECONDS = 1.0
# Calls waiting for runners at once; more are UNAVAILABLE, so waiting calls
# never take every worker thread from the others.
MAX_WAITING = 16
MAX_PAGE_SIZE = 500
MAX_HISTORY = 100
MAX_KEY_LIMIT = 500
ENDED = (runner_task_pb2.RUNNER_TASK_STATE_SUCCEEDED, runner_task_pb2.RUNNER_TASK_STATE_FAILED)
RUNNER_HINT = "is a ferry-runner (and a ferry-scheduler to hand it requests) running?"


def profile_key(profile: profile_pb2.Profile) -> tuple[str, ...]:
    """The fields that name one record of the profile's target."""
    try:
        return record_key_fields(profile.mapping, get_entity(profile.entity_type))
    except KeyError:
        raise FailedPreconditionError(
            f'profile "{profile.name}" has an unknown entity "{profile.entity_type}"') from None


def _limit(value: int, field: str, maximum: int) -> int:
    """A size or limit: 0 the default (left to the runner), negative invalid,
    above ``maximum`` coerced."""
    if value < 0:
        raise InvalidArgumentError(f"{field} must not be negative",
                                   [Violation(field, "must not be negative")])
    return min(value, maximum)


def _actions(values: Any) -> list[int]:
    known = set(record_pb2.RecordAction.values()) - {record_pb2.RECORD_ACTION_UNSPECIFIED}
    bad = [v for v in values if v not in known]
    if bad:
        raise InvalidArgumentError("unknown record action", [Violation(
            "actions", "must be CREATED, UPDATED, DEACTIVATED or DELETED")])
    return list(dict.fromkeys(values))


class RecordReads:
    def __init__(self, runs: RunStore, profiles: ProfileStore, tasks: RunnerTaskStore,
                 changes: RunChanges, stopping: threading.Event,
                 max_wait: float = MAX_WAIT) -> None:
        self._runs = runs
        self._profiles = profiles
        self._tasks = tasks
        self._changes = changes
        self._stopping = stopping
        self._max_wait = max_wait
        self._slots = StreamSlots("record reads", MAX_WAITING)

    # -- the three calls -----------------------------------------------------

    def list_run_records(self, request, context) -> record_pb2.RunRecordsPage:
        require(run_id=request.run_id)
        query = record_pb2.RunRecordsQuery(
            run_id=request.run_id, actions=_actions(request.actions),
            page_size=_limit(request.page_size, "page_size", MAX_PAGE_SIZE),
            page_token=request.page_token)
        run = self._live_run(request.run_id)
        task = self._ask(Kind.RUNNER_TASK_KIND_LIST_RUN_RECORDS, run.profile,
                         runner_task_pb2.RunnerTask(run_records_query=query), context)
        return task.run_records

    def get_record(self, request, context) -> record_pb2.StoredRecord:
        require(profile=request.profile)
        limit = _limit(request.history_limit, "history_limit", MAX_HISTORY)
        profile = self._profiles.get(request.profile)
        if profile.operation == profile_pb2.OPERATION_EXPORT:
            raise FailedPreconditionError(
                f'profile "{profile.name}" is an export: it writes files, not records')
        key = profile_key(profile)
        given = list(request.key)
        if len(given) != len(key) or not all(part.strip() for part in given):
            raise InvalidArgumentError(
                f'profile "{profile.name}" is keyed by {", ".join(key)}: give '
                f"{len(key)} non-empty value(s), got {len(given)}",
                [Violation("key", f"must have {len(key)} non-empty part(s): {', '.join(key)}")])
        query = record_pb2.RecordQuery(key=given, history_limit=limit)
        task = self._ask(Kind.RUNNER_TASK_KIND_GET_RECORD, profile.name,
                         runner_task_pb2.RunnerTask(record_query=query), context)
        return task.record

    def diff_runs(self, request, context) -> record_pb2.RunDiff:
        require(run_a=request.run_a, run_b=request.run_b)
        limit = _limit(request.key_limit, "key_limit", MAX_KEY_LIMIT)
        if request.run_a == request.run_b:
            raise InvalidArgumentError("give two different runs", [
                Violation("run_b", "must differ from run_a")])
        first, second = self._live_run(request.run_a), self._live_run(request.run_b)
        if first.profile != second.profile:
            raise InvalidArgumentError(
                f"runs {first.id} and {second.id} are of different profiles "
                f'("{first.profile}", "{second.profile}"); compare two runs of one profile',
                [Violation("run_b", f'must be a run of profile "{first.profile}"')])
        query = record_pb2.RunDiffQuery(run_a=first.id, run_b=second.id, key_limit=limit)
        task = self._ask(Kind.RUNNER_TASK_KIND_DIFF_RUNS, first.profile,
                         runner_task_pb2.RunnerTask(run_diff_query=query), context)
        return task.run_diff

    # -- checks --------------------------------------------------------------

    def _live_run(self, run_id: str) -> run_pb2.Run:
        """The run, when it can have written records: a live import or
        rollback that started, of a profile that still exists."""
        run = self._runs.get(run_id)
        if run.operation == profile_pb2.OPERATION_EXPORT:
            raise FailedPreconditionError(
                f"run {run.id} is an export: it wrote a file, not records")
        if run.dry_run:
            raise FailedPreconditionError(
                f"run {run.id} was a dry run: it wrote nothing, so it has no records")
        if run.status == run_pb2.RUN_STATUS_QUEUED:
            raise FailedPreconditionError(
                f"run {run.id} has not started: it has written no records yet")
        try:
            self._profiles.get(run.profile)
        except NotFoundError:
            raise FailedPreconditionError(
                f'profile "{run.profile}" of run {run.id} no longer exists: '
                "its target is unknown") from None
        return run

    # -- asking a runner -----------------------------------------------------

    def _budget(self, context) -> float:
        remaining = context.time_remaining() if context is not None else None
        # The answer must reach the caller before its deadline, however
        # slowly the registry's own writes go: a quarter of the time left.
        budget = self._max_wait if remaining is None \
            else min(self._max_wait, remaining - max(DEADLINE_MARGIN, remaining / 4))
        return round(max(budget, MIN_WAIT), 1)

    def _ask(self, kind: int, profile: str, query: runner_task_pb2.RunnerTask, context
             ) -> runner_task_pb2.RunnerTask:
        """Create the task, wait for its answer; the task that SUCCEEDED."""
        budget = self._budget(context)
        with self._slots.hold():
            task = self._tasks.create(kind, profile, timedelta(seconds=budget), query=query)
            task = self._wait(task.id, budget, context)
            if task.state not in ENDED:
                task = self._tasks.abandon(task.id, self._no_answer(task, budget))
        if task.state == runner_task_pb2.RUNNER_TASK_STATE_SUCCEEDED:
            return task
        if task.answered:
            raise FailedPreconditionError(task.error_message)
        raise UnavailableError(f"{task.error_message}; {RUNNER_HINT}")

    def _wait(self, task_id: str, budget: float, context) -> runner_task_pb2.RunnerTask:
        give_up = time.monotonic() + budget
        while True:
            version = self._changes.version
            task = self._tasks.get(task_id)
            left = give_up - time.monotonic()
            if task.state in ENDED or left <= 0 or self._stopping.is_set() \
                    or self._changes.closed or (context is not None and not context.is_active()):
                return task
            self._changes.wait(version, min(left, POLL_SECONDS))

    @staticmethod
    def _no_answer(task: runner_task_pb2.RunnerTask, budget: float) -> str:
        within = format_duration(budget)
        if task.state == runner_task_pb2.RUNNER_TASK_STATE_QUEUED:
            return f"no runner took the request within {within}"
        return f"runner {task.runner_id} took the request but did not answer within {within}"
