"""Failing profiles: since when a profile's live runs fail, read from its runs.

A profile is failing while live runs of it ended FAILED after its last live
run that ended COMPLETED or WARNING (``states.RELEASES_EVIDENCE``; UNCHANGED,
CANCELLED and dry runs neither start nor end a failure). ``failing_since`` is
the end of the first of those failed runs, ``failing_runs`` how many there
are. The same release rule (:func:`released`) keeps a failed run's evidence
(``HistoryStore``) and pins its failed source files (:func:`failed_file_pins`).

``ProfileStore`` fills the output-only ``failing_since`` and ``failing_runs``
of every profile it returns with :func:`annotate`: one grouped query per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.runs.states import RELEASES_EVIDENCE, RunStatus

from ferry_registry import convert
from ferry_registry.db.models import ProfileRow, RunRow
from ferry_registry.store.source_runs import reads_the_source


@dataclass(frozen=True)
class Failing:
    since: datetime
    runs: int


def _releasing(run, later) -> tuple:  # type: ignore[no-untyped-def]
    """``later`` is a live run of ``run``'s profile, queued after it, that
    ended COMPLETED or WARNING: it releases ``run``'s evidence."""
    return (later.profile == run.profile, later.dry_run.is_(False),
            later.status.in_(sorted(RELEASES_EVIDENCE)), later.queue_time > run.queue_time,
            reads_the_source(later.operation))


def released(run=RunRow, before: datetime | None = None):  # type: ignore[no-untyped-def]
    """``run`` (RunRow or an alias) is released: a later live run of its
    profile ended COMPLETED or WARNING (before ``before``, when given)."""
    later = sa.orm.aliased(RunRow)
    ended = () if before is None else (later.end_time < before,)
    return sa.exists().where(*_releasing(run, later), *ended)


def release_time(run=RunRow):  # type: ignore[no-untyped-def]
    """When ``run`` was released (the end of the first live run after it that
    ended COMPLETED or WARNING); NULL while it is not."""
    later = sa.orm.aliased(RunRow)
    return (sa.select(sa.func.min(later.end_time)).where(*_releasing(run, later))
            .correlate(run).scalar_subquery())


def unreleased_failure(run=RunRow):  # type: ignore[no-untyped-def]
    """Conditions on ``run`` (RunRow or an alias): a live FAILED run with no
    later live run of its profile that ended COMPLETED or WARNING."""
    return (run.status == RunStatus.FAILED, run.dry_run.is_(False),
            reads_the_source(run.operation), sa.not_(released(run)))


def failed_file_pins(session, profile: str) -> dict[str, datetime | None]:
    """Each source file a live FAILED run of ``profile`` moved to its failed
    folder (its MOVED_TO_FAILED retention actions), with when the failure was
    released, or None while it is not (the file is pinned). A file several
    failed runs recorded is pinned while any of them is, else released at the
    latest release."""
    found = session.execute(
        sa.select(RunRow.details, release_time())
        .where(RunRow.profile == profile, RunRow.status == RunStatus.FAILED,
               RunRow.dry_run.is_(False))).all()
    pins: dict[str, datetime | None] = {}
    for details, released_at in found:
        for action in run_pb2.Run.FromString(details or b"").retention_actions:
            if action.kind != run_pb2.RETENTION_ACTION_KIND_MOVED_TO_FAILED or not action.path:
                continue
            known = pins.get(action.path, released_at)
            pins[action.path] = None if known is None or released_at is None \
                else max(known, released_at)
    return pins


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
