"""What a claimed run executes, chosen by its operation in this one place.

- IMPORT and EXPORT runs: ``ferry_domain.engine.run_profile`` (``EngineFn``)
  behind the freshness gate; the masked sample and source-file retention act
  on the source the run read.
- ROLLBACK runs (``Run.rollback_of`` names the undone run):
  ``ferry_domain.changesets.rollback.rollback_run`` (``RollbackFn``), without
  the freshness gate, the sample or source-file retention: a rollback reads
  no source. Its refusal (later runs changed the records) and a missing
  changeset are permanent: the run ends FAILED with their message.
- After a live IMPORT or ROLLBACK run that ends COMPLETED or WARNING, the
  changesets of runs whose history the registry purged are dropped from the
  target (``changeset_purge``).
"""

from __future__ import annotations

from collections.abc import Callable

from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.changesets.errors import ChangesetNotFoundError, RollbackRefusedError
from ferry_domain.engine.results import Counts, RunResult
from ferry_domain.runs.states import DID_WORK, RunStatus

from ferry_runner.registry import Claim

EngineFn = Callable[..., RunResult]
RollbackFn = Callable[..., RunResult]

# Run operations whose live runs write changesets, so purge them after.
_WRITE_CHANGESETS = frozenset({profile_pb2.OPERATION_IMPORT, profile_pb2.OPERATION_ROLLBACK})

REFUSED_HINT = ("later runs changed records of the run: roll back those runs first (newest "
                "first), or run `ferry runs rollback RUN --force` to overwrite their changes")
NO_CHANGESET_HINT = ("the run's changeset is not in the target (a dry run, "
                     "retention.changeset: off, or its history was purged): it cannot be "
                     "rolled back")


def is_rollback(run: run_pb2.Run) -> bool:
    return run.operation == profile_pb2.OPERATION_ROLLBACK


def reads_source(run: run_pb2.Run) -> bool:
    """Whether the run reads its profile's source: the freshness gate, the
    masked sample and source-file retention apply to it."""
    return not is_rollback(run)


def purges_changesets(run: run_pb2.Run, status: RunStatus) -> bool:
    """Whether the runner purges the profile's stale changesets after the run
    ended in ``status``: a live IMPORT or ROLLBACK run that wrote to the
    target (COMPLETED or WARNING; an UNCHANGED run touches nothing)."""
    return not run.dry_run and run.operation in _WRITE_CHANGESETS and status in DID_WORK


def roll_back(claim: Claim, rollback: RollbackFn, *, target_url: str,
              on_progress: Callable[[Counts], None],
              should_cancel: Callable[[], bool]) -> RunResult:
    """Undo ``claim.run.rollback_of`` in the profile's target as this run."""
    run = claim.run
    return rollback(claim.profile, default_target_url=target_url, run_id=claim.run_id,
                    undo_run_id=run.rollback_of, force=run.rollback_force,
                    dry_run=run.dry_run, on_progress=on_progress,
                    should_cancel=should_cancel)


def failure_hint(exc: BaseException, default: str) -> str:
    """What the operator can do about a rollback that failed with ``exc``."""
    if isinstance(exc, RollbackRefusedError):
        return REFUSED_HINT
    if isinstance(exc, ChangesetNotFoundError):
        return NO_CHANGESET_HINT
    return default
