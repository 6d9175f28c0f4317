"""Failing profiles: since when a profile's live runs fail, read from its runs.

A profile is failing while live runs of it ended FAILED after its last live
run that ended COMPLETED or WARNING (``states.RELEASES_EVIDENCE``; UNCHANGED,
CANCELLED and dry runs neither start nor end a failure). ``failing_since`` is
the end of the first of those failed runs, ``failing_runs`` how many there
are. The same "not yet released" rule keeps a failed run's evidence
(``HistoryStore``) and pins its failed source files (``pinned_failed_files``).

``ProfileStore`` fills the output-only ``failing_since`` and ``failing_runs``
of every profile it returns with :func:`annotate`: one grouped query per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from ferry.v1 import profile_pb2
from ferry_domain.runs.states import RELEASES_EVIDENCE, RunStatus

from ferry_registry import convert
from ferry_registry.db.models import ProfileRow, RunRow


@dataclass(frozen=True)
class Failing:
    since: datetime
    runs: int


def unreleased_failure(run=RunRow):  # type: ignore[no-untyped-def]
    """Conditions on ``run`` (RunRow or an alias): a live FAILED run with no
    later live run of its profile that ended COMPLETED or WARNING."""
    later = sa.orm.aliased(RunRow)
    released = sa.exists().where(
        later.profile == run.profile, later.dry_run.is_(False),
        later.status.in_(sorted(RELEASES_EVIDENCE)), later.queue_time > run.queue_time)
    return (run.status == RunStatus.FAILED, run.dry_run.is_(False), sa.not_(released))


def failing(session, names: Iterable[str]) -> dict[str, Failing]:
    """The failing ones among the profiles ``names``."""
    names = list(names)
    if not names:
        return {}
    found = session.execute(
        sa.select(RunRow.profile, sa.func.min(RunRow.end_time), sa.func.count())
        .where(RunRow.profile.in_(names), *unreleased_failure())
        .group_by(RunRow.profile)).all()
    return {name: Failing(since, count) for name, since, count in found if since is not None}


def annotate(session, pairs: Sequence[tuple[ProfileRow, profile_pb2.Profile]]) -> None:
    """Set ``failing_since`` and ``failing_runs`` on each failing profile message."""
    found = failing(session, [row.name for row, _ in pairs])
    for row, profile in pairs:
        state = found.get(row.name)
        if state is not None:
            profile.failing_since.CopyFrom(convert.to_timestamp(state.since))
            profile.failing_runs = state.runs
