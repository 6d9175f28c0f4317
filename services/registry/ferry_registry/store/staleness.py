"""Stale profiles in the registry: each profile's last change read from its
runs, judged by ``ferry_domain.profiles.staleness`` at the registry's clock.

``ProfileStore`` fills the output-only ``last_change_time`` and
``stale_since`` of every profile it returns with :func:`annotate`; the stale
watch (``ferry_registry.stale_watch``) uses :func:`profile_states` for its
passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from ferry.v1 import profile_pb2
from ferry_domain.profiles.staleness import Staleness, last_change, staleness
from ferry_domain.runs.states import DID_WORK

from ferry_registry import convert
from ferry_registry.db.models import ProfileRow, RunRow
from ferry_registry.store.source_runs import reads_the_source


def last_work_ends(session, names: Iterable[str] | None = None) -> dict[str, datetime]:
    """End of the last live run that did work, per profile (``names``; None: all)."""
    statement = (sa.select(RunRow.profile, sa.func.max(RunRow.end_time))
                 .where(RunRow.status.in_([int(s) for s in DID_WORK]),
                        RunRow.dry_run.is_(False), reads_the_source(RunRow.operation))
                 .group_by(RunRow.profile))
    if names is not None:
        statement = statement.where(RunRow.profile.in_(list(names)))
    return {name: end for name, end in session.execute(statement).all() if end is not None}


def judge(profile: profile_pb2.Profile, created: datetime, last_work_end: datetime | None,
          now: datetime) -> Staleness:
    within = (profile.expect_change_within.ToTimedelta()
              if profile.HasField("expect_change_within") else None)
    return staleness(last_change=last_change(created, last_work_end),
                     expect_change_within=within, now=now)


def annotate(session, pairs: Sequence[tuple[ProfileRow, profile_pb2.Profile]],
             now: datetime) -> None:
    """Set ``last_change_time`` and ``stale_since`` on each profile message."""
    ends = last_work_ends(session, [row.name for row, _ in pairs]) if pairs else {}
    for row, profile in pairs:
        state = judge(profile, row.create_time, ends.get(row.name), now)
        profile.last_change_time.CopyFrom(convert.to_timestamp(state.last_change))
        if state.stale_since is not None:
            profile.stale_since.CopyFrom(convert.to_timestamp(state.stale_since))


@dataclass(frozen=True)
class ProfileState:
    """One profile as a stale-watch pass sees it."""

    name: str
    profile: profile_pb2.Profile
    state: Staleness
    # What the watch recorded last (ProfileRow.stale_since).
    recorded_stale_since: datetime | None


def profile_states(session, now: datetime) -> list[ProfileState]:
    """Every profile that declares ``expect_change_within`` or was recorded stale."""
    rows = list(session.scalars(sa.select(ProfileRow)))
    ends = last_work_ends(session)
    states = []
    for row in rows:
        profile = convert.profile_to_proto(row)
        if not profile.HasField("expect_change_within") and row.stale_since is None:
            continue
        states.append(ProfileState(row.name, profile,
                                   judge(profile, row.create_time, ends.get(row.name), now),
                                   row.stale_since))
    return states
