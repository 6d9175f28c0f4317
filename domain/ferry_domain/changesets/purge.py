"""Dropping changesets whose run history is gone (the registry purged the run).

Runners do it after each live run of a profile: they list the profile's
runs that have a changeset in the target, ask the registry which of them it
still keeps (``kept``), and delete the changes of the others with their
entry in the runs table, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_domain.changesets.target import open_changesets


def purge_changesets(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    kept: Callable[[Sequence[str]], Collection[str]],
) -> list[str]:
    """Delete the changesets of the profile's runs that ``kept`` (given the
    run ids that have one; asks the registry) does not return; the run ids
    purged. Nothing is purged when the target has no changeset tables."""
    with open_changesets(profile, default_target_url) as target:
        runs, changes = target.runs, target.changes
        if runs is None or changes is None:
            return []
        recorded = target.recorded_runs(runs.c.profile == profile.name)
        if not recorded:
            return []
        keep = set(kept(sorted(r.run_id for r in recorded)))
        gone = sorted((r for r in recorded if r.run_id not in keep), key=lambda r: r.run_id)
        for run in gone:
            target.conn.execute(sa.delete(changes).where(target.changes_of(run)))
            target.conn.execute(sa.delete(runs).where(runs.c.run_no == run.run_no))
        return [run.run_id for run in gone]
