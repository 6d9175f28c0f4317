"""The changeset purge after a live IMPORT or ROLLBACK run that wrote to the
target (COMPLETED or WARNING).

The registry purges old runs' history (``keep_runs_days``, ``keep_min_runs``)
but cannot reach the targets, where changesets live; so after each live run
the runner lists the profile's runs that have a changeset, asks the registry
which it still keeps (``GetKeptRuns``) and drops the others
(``ferry_domain.changesets.purge.purge_changesets``). Each dropped changeset
is recorded on the run as a PURGED retention action (path
``changeset:<run id>``) and logged. A purge that cannot be done (target or
registry unreachable) becomes a warning of the run, as retention's purges do;
the run's status does not change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime

from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.changesets.purge import purge_changesets

from ferry_runner.outcome import FinishPlan

log = logging.getLogger(__name__)

Kept = Callable[[Sequence[str]], Collection[str]]
PurgeFn = Callable[..., list[str]]

PATH_PREFIX = "changeset:"


def purge_action(run_id: str, now: datetime) -> run_pb2.RetentionAction:
    action = run_pb2.RetentionAction(
        kind=run_pb2.RETENTION_ACTION_KIND_PURGED, path=f"{PATH_PREFIX}{run_id}",
        detail=f"changeset of run {run_id} dropped from the target: its run history is gone")
    action.action_time.FromDatetime(now)
    return action


def apply_changeset_purge(profile: profile_pb2.Profile, plan: FinishPlan, *, target_url: str,
                          kept: Kept, now: datetime,
                          purge: PurgeFn = purge_changesets) -> FinishPlan:
    try:
        purged = purge(profile, default_target_url=target_url, kept=kept)
    except Exception as exc:  # noqa: BLE001 - a purge never fails the run
        reason = str(exc) or type(exc).__name__
        log.warning("changeset purge skipped: %s", reason)
        return replace(plan, warnings=(*plan.warnings, f"changesets: none purged ({reason})"))
    if not purged:
        return plan
    log.info("changesets purged", extra={"fields": {"purged_run_ids": ",".join(purged),
                                                    "count": len(purged)}})
    return replace(plan, retention_actions=(*plan.retention_actions,
                                            *(purge_action(r, now) for r in purged)))
