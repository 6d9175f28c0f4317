"""Rollback runs: which runs can be undone, and queueing the run that undoes one.

A rollback is itself a run (operation ROLLBACK, ``Run.rollback_of`` naming
the undone run) of the undone run's profile, created like a manual run
(``RunStore.create``: the same overlap rules, one running run per profile)
but without the dry-run gate; the runner skips the freshness gate for it and
records its own changeset, so a rollback can be undone too.
"""

from __future__ import annotations

from ferry.errors import FailedPreconditionError, NotFoundError
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.runs.states import TERMINAL, RunStatus

from ferry_registry.store.runs import NewRun, RunStore

# Runs whose records a rollback can undo: they wrote into the target.
UNDOABLE_OPERATIONS = frozenset({profile_pb2.OPERATION_IMPORT, profile_pb2.OPERATION_ROLLBACK})


def records_written(run: run_pb2.Run) -> int:
    counts = run.counts
    return counts.created + counts.updated + counts.deleted


def rollback_problem(run: run_pb2.Run) -> str:
    """Why ``run`` cannot be rolled back, in one sentence; empty when it can."""
    operation = profile_pb2.Operation.Name(run.operation).removeprefix("OPERATION_").lower()
    if run.operation not in UNDOABLE_OPERATIONS:
        return (f"run {run.id} is an {operation} run: only live import or rollback runs "
                "wrote records that can be rolled back")
    if run.dry_run:
        return f"run {run.id} was a dry run: it wrote nothing to roll back"
    if run.status not in TERMINAL:
        return (f"run {run.id} is {RunStatus(run.status).name}: wait until it ends "
                "(or cancel it), then roll it back")
    if records_written(run) <= 0:
        return (f"run {run.id} ({RunStatus(run.status).name}) wrote no records (created 0, "
                "updated 0, deleted 0): there is nothing to roll back")
    return ""


class Rollbacks:
    def __init__(self, runs: RunStore) -> None:
        self._runs = runs

    def start(self, run_id: str, *, dry_run: bool, force: bool,
              request_id: str) -> run_pb2.Run:
        """Queue the ROLLBACK run undoing ``run_id`` (idempotent by request_id):
        NOT_FOUND when the run or its profile is gone, FAILED_PRECONDITION
        (``rollback_problem``) when it cannot be undone."""
        existing = self._runs.by_request_id(request_id)
        if existing is not None:
            return existing
        undone = self._runs.get(run_id)
        problem = rollback_problem(undone)
        if problem:
            raise FailedPreconditionError(problem)
        try:
            created = self._runs.create(NewRun(
                profile=undone.profile, trigger=run_pb2.RUN_TRIGGER_MANUAL, dry_run=dry_run,
                request_id=request_id, rollback_of=undone.id, rollback_force=force))
        except NotFoundError:
            raise NotFoundError(
                f'profile "{undone.profile}" of run {undone.id} no longer exists: its target '
                "is unknown, so the run cannot be rolled back") from None
        assert created.run is not None
        return created.run
