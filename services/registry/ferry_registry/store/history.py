"""Run history retention: delete old terminal runs (with their events,
rejected rows, masked samples and the drop-folder files they imported) beyond the newest
runs of each profile, in bounded batches.

A run is deleted when all of these hold:

- it is terminal (never QUEUED or RUNNING);
- it was queued more than ``keep_runs_days`` days ago;
- it is not among the newest ``keep_min_runs`` runs of its profile that did
  work (by queue time; UNCHANGED runs did none: they never count, and are
  kept by age only);
- a FAILED run keeps its evidence (its rejected rows and sample with it) until the
  problem is solved: a later live run of its profile ended COMPLETED or
  WARNING (``states.RELEASES_EVIDENCE``) more than ``keep_runs_days`` days
  ago (the keep days count from that release; ``store.failing.released``).

Both numbers come from the profile's ``retention`` (``keep_runs_days``,
``keep_min_runs``); 0 there means the registry default
(``FERRY_KEEP_RUNS_DAYS``, ``FERRY_KEEP_MIN_RUNS``). Runs of a deleted
profile follow the defaults.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.v1 import profile_pb2
from ferry_domain.runs.states import TERMINAL, RunStatus

from ferry_registry.db.engine import Database
from ferry_registry.db.models import (
    ImportedFileRow,
    ProfileRow,
    RejectedRowRow,
    RunEventRow,
    RunRow,
    RunSampleRow,
)
from ferry_registry.store.failing import failed_file_pins, released

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
FINAL = sorted(TERMINAL)


@dataclass(frozen=True)
class KeepRuns:
    """How much run history a profile keeps."""

    days: int
    min_runs: int


def keep_runs(retention: profile_pb2.RetentionPolicy, defaults: KeepRuns) -> KeepRuns:
    """The profile's policy, its zero (unset) values taken from ``defaults``."""
    return KeepRuns(days=retention.keep_runs_days if retention.keep_runs_days > 0
                    else defaults.days,
                    min_runs=retention.keep_min_runs if retention.keep_min_runs > 0
                    else defaults.min_runs)


@dataclass(frozen=True)
class FailedFolder:
    profile: str
    failed_dir: str
    keep_days: int


class HistoryStore:
    def __init__(self, db: Database, clock: Clock, defaults: KeepRuns,
                 batch: int = DEFAULT_BATCH) -> None:
        self._db = db
        self._clock = clock
        self._defaults = defaults
        self._batch = batch

    def _policies(self) -> tuple[list[str], dict[str, profile_pb2.Profile]]:
        with self._db.read() as session:
            names = sorted(session.scalars(sa.select(RunRow.profile).distinct()))
            specs = {row.name: profile_pb2.Profile.FromString(row.spec)
                     for row in session.scalars(sa.select(ProfileRow))}
        return names, specs

    def purge_runs(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """One janitor pass over every profile's runs; returns how many were deleted."""
        names, specs = self._policies()
        total = 0
        for name in names:
            spec = specs.get(name)
            policy = keep_runs(spec.retention if spec is not None
                               else profile_pb2.RetentionPolicy(), self._defaults)
            deleted = 0
            while not should_stop():
                count = self._purge_batch(name, policy)
                deleted += count
                if count < self._batch:
                    break
            if deleted:
                log.info("run history purged", extra={"fields": {
                    "profile": name, "runs_deleted": deleted, "keep_runs_days": policy.days,
                    "keep_min_runs": policy.min_runs}})
            total += deleted
            if should_stop():
                break
        return total

    def _purge_batch(self, profile: str, policy: KeepRuns) -> int:
        cutoff = self._clock.now() - timedelta(days=policy.days)
        conditions = [RunRow.profile == profile, RunRow.status.in_(FINAL),
                      RunRow.queue_time < cutoff,
                      sa.or_(RunRow.status != RunStatus.FAILED, released(before=cutoff))]
        with self._db.write() as session:
            if policy.min_runs > 0:
                newest = self._newest_kept(session, profile, policy.min_runs)
                older = sa.false() if newest is None else sa.or_(
                    RunRow.queue_time < newest.queue_time,
                    sa.and_(RunRow.queue_time == newest.queue_time, RunRow.id < newest.id))
                conditions.append(sa.or_(RunRow.status == RunStatus.UNCHANGED, older))
            ids = list(session.scalars(sa.select(RunRow.id).where(*conditions)
                                       .limit(self._batch)))
            if not ids:
                return 0
            session.execute(sa.delete(RunEventRow).where(RunEventRow.run_id.in_(ids)),
                            execution_options={"synchronize_session": False})
            session.execute(sa.delete(RejectedRowRow).where(RejectedRowRow.run_id.in_(ids)),
                            execution_options={"synchronize_session": False})
            for table in (ImportedFileRow, RunSampleRow):
                session.execute(sa.delete(table).where(table.run_id.in_(ids)),
                                execution_options={"synchronize_session": False})
            result = session.execute(
                sa.delete(RunRow).where(RunRow.id.in_(ids), RunRow.status.in_(FINAL)),
                execution_options={"synchronize_session": False})
            return result.rowcount

    @staticmethod
    def _newest_kept(session, profile: str, min_runs: int):
        """The oldest of the newest ``min_runs`` runs of ``profile`` that did
        work (queue time and id), or None when it has fewer."""
        return session.execute(
            sa.select(RunRow.queue_time, RunRow.id)
            .where(RunRow.profile == profile, RunRow.status != RunStatus.UNCHANGED)
            .order_by(RunRow.queue_time.desc(), RunRow.id.desc())
            .offset(min_runs - 1).limit(1)).first()

    def failed_folders(self) -> list[FailedFolder]:
        """Profiles whose retention keeps failed source files for a number of days."""
        with self._db.read() as session:
            specs = [profile_pb2.Profile.FromString(spec)
                     for spec in session.scalars(sa.select(ProfileRow.spec))]
        return [FailedFolder(p.name, p.retention.failed_dir, p.retention.keep_failed_days)
                for p in specs
                if p.retention.failed_dir and p.retention.keep_failed_days > 0]

    def failed_file_pins(self, profile: str) -> dict[str, datetime | None]:
        """The failed source files of ``profile``'s live failed runs, each with
        its release time or None while pinned (``store.failing.failed_file_pins``)."""
        with self._db.read() as session:
            return failed_file_pins(session, profile)

    def kept_runs(self, run_ids: Sequence[str]) -> list[str]:
        """The runs of ``run_ids`` the registry still keeps, in their order (the
        others' history was purged: runners drop their changesets)."""
        wanted = list(dict.fromkeys(r for r in run_ids if r))
        if not wanted:
            return []
        with self._db.read() as session:
            found = set(session.scalars(sa.select(RunRow.id).where(RunRow.id.in_(wanted))))
        return [run_id for run_id in wanted if run_id in found]
