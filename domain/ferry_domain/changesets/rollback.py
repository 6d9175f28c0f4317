"""Undoing a run: restore the before-images of the rows it updated, delete
the rows it created, bring back the rows it deleted, each with its stored
hash, in one transaction; itself a run with its own changeset."""

from __future__ import annotations

from collections.abc import Callable

from ferry.v1 import profile_pb2

from ferry_domain.engine.results import Counts, RunResult


def rollback_run(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    run_id: str,
    undo_run_id: str,
    force: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[Counts], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> RunResult:
    """Undo ``undo_run_id`` in the profile's target as run ``run_id``.

    Refuses (RollbackRefusedError, naming the keys and the runs) when a
    later run changed any of its records, unless ``force``. A dry run checks
    and counts and writes nothing. Counts: ``rows_read`` records of the
    changeset, ``created`` rows brought back, ``updated`` rows restored,
    ``deleted`` rows removed. ChangesetNotFoundError when the run has none."""
    raise NotImplementedError
