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
        recorded = dict(
            target.conn.execute(
                sa.select(runs.c.run_id, runs.c.run_no).where(
                    runs.c.profile == profile.name,
                    runs.c.entity_table == target.table_name,
                )
            ).fetchall()
        )
        if not recorded:
            return []
        keep = set(kept(sorted(recorded)))
        gone = sorted(run for run in recorded if run not in keep)
        if gone:
            numbers = [recorded[run] for run in gone]
            target.conn.execute(sa.delete(changes).where(changes.c.run_no.in_(numbers)))
            target.conn.execute(sa.delete(runs).where(runs.c.run_no.in_(numbers)))
        return gone
