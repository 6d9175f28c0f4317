"""The SQL statements the run stores execute, built once.

SQLAlchemy Core, no ORM unit of work. A statement made per call, even one
SQLAlchemy finds in its compiled cache, has its result metadata adapted on
every execution; built once here, it is not. That matters on the hot paths
(create, claim, heartbeat, progress, finish, mark published).

Bind names: ``b_*`` for values, ``g_*`` for the lease guard of a held run,
``v_*`` for the columns an UPDATE built by ``held_update`` or ``run_update``
sets.
"""

from __future__ import annotations

import sqlalchemy as sa
from ferry_domain.runs.states import LIVE, RunStatus
from sqlalchemy.dialects import postgresql, sqlite

from ferry_registry.db.models import (
    FreshnessTokenRow,
    ImportedFileRow,
    ProfileRow,
    RejectedRowRow,
    RunEventRow,
    RunRow,
    RunSampleRow,
    ScheduleRow,
    SourceShapeRow,
)

RUNS = RunRow.__table__
PROFILES = ProfileRow.__table__
SCHEDULES = ScheduleRow.__table__
TOKENS = FreshnessTokenRow.__table__
IMPORTED = ImportedFileRow.__table__
REJECTED = RejectedRowRow.__table__
RUN_EVENTS = RunEventRow.__table__
ALL_RUN_COLUMNS = tuple(RUNS.c)

# --- runs by id ----------------------------------------------------------------------

RUN_BY_ID = sa.select(RUNS).where(RUNS.c.id == sa.bindparam("run_id"))
RUN_BY_ID_LOCKED = RUN_BY_ID.with_for_update()
# The stored profile of a run (its evidence is masked by it).
RUN_PROFILE_SPEC = sa.select(PROFILES.c.spec).select_from(
    RUNS.join(PROFILES, PROFILES.c.name == RUNS.c.profile)).where(
    RUNS.c.id == sa.bindparam("b_run_id"))

# UPDATEs whose SET columns vary by call, built once per shape (binds ``v_<name>``).
_UPDATES: dict[tuple, sa.Update] = {}


def _update(key: tuple, table: sa.Table, where: tuple, names: tuple[str, ...],
            returning: tuple = ()) -> sa.Update:
    statement = _UPDATES.get(key)
    if statement is None:
        statement = (sa.update(table).where(*where)
                     .values({name: sa.bindparam(f"v_{name}") for name in names}))
        if returning:
            statement = statement.returning(*returning)
        _UPDATES[key] = statement
    return statement


_RUN_ID = (RUNS.c.id == sa.bindparam("b_run_id"),)


def run_update(names: tuple[str, ...]) -> sa.Update:
    """UPDATE runs SET <names> WHERE id = :b_run_id RETURNING <every column>."""
    return _update(("run", names), RUNS, _RUN_ID, names, ALL_RUN_COLUMNS)


# --- creation -----------------------------------------------------------------------

INSERT_RUN = RUNS.insert()
INSERT_RUN_IF_NEW = {
    "postgresql": postgresql.insert(RUNS).on_conflict_do_nothing().returning(RUNS.c.id),
    "sqlite": sqlite.insert(RUNS).on_conflict_do_nothing().returning(RUNS.c.id),
}
RUN_BY_REQUEST = sa.select(RUNS).where(RUNS.c.request_id == sa.bindparam("request_id"))
RUN_BY_FIRE = sa.select(RUNS).where(RUNS.c.schedule_id == sa.bindparam("schedule_id"),
                                    RUNS.c.fire_time == sa.bindparam("fire_time"))
PROFILE_BY_NAME = sa.select(PROFILES).where(PROFILES.c.name == sa.bindparam("name"))
PROFILE_BY_NAME_LOCKED = PROFILE_BY_NAME.with_for_update()
SCHEDULE_SPEC = sa.select(SCHEDULES.c.spec).where(SCHEDULES.c.id == sa.bindparam("id"))
LIVE_RUN_OF_PROFILE = sa.select(RUNS.c.id).where(
    RUNS.c.profile == sa.bindparam("profile"), RUNS.c.status.in_(sorted(LIVE))).limit(1)

# --- claims ------------------------------------------------------------------------

_PROFILE_COLUMNS = [PROFILES.c[name].label(f"p_{name}") for name in (
    "name", "spec", "mapping_digest", "dry_run_required", "revision", "create_time",
    "update_time")]
# The run and its profile in one read.
CLAIM_READ = (sa.select(RUNS, *_PROFILE_COLUMNS)
              .select_from(RUNS.join(PROFILES, PROFILES.c.name == RUNS.c.profile))
              .where(RUNS.c.id == sa.bindparam("run_id")))
# The run when its profile is gone (no row from CLAIM_READ).
CLAIM_READ_ALONE = (sa.select(RUNS, *_PROFILE_COLUMNS)
                    .select_from(RUNS.outerjoin(PROFILES, PROFILES.c.name == RUNS.c.profile))
                    .where(RUNS.c.id == sa.bindparam("run_id")))
# PostgreSQL: the run and its profile locked, one claim at a time per profile.
CLAIM_READ_LOCKED = CLAIM_READ.with_for_update()
CLAIM_READ_ALONE_LOCKED = CLAIM_READ_ALONE.with_for_update(of=RUNS)
_OTHER = RUNS.alias("other")
OTHER_RUNNING = (sa.select(_OTHER.c.id).where(
    _OTHER.c.profile == sa.bindparam("b_profile"),
    _OTHER.c.status == RunStatus.RUNNING,
    _OTHER.c.id != sa.bindparam("b_run_id")).limit(1))
# Compare-and-set: still QUEUED, and no other run of the profile RUNNING (the
# schema's unique index uq_runs_running_profile refuses a second one too).
CLAIM_UPDATE = (
    sa.update(RUNS)
    .where(RUNS.c.id == sa.bindparam("b_run_id"), RUNS.c.status == RunStatus.QUEUED,
           ~sa.exists(OTHER_RUNNING))
    .values(status=RunStatus.RUNNING, lease_owner=sa.bindparam("b_runner_id"),
            lease_expires_at=sa.bindparam("b_expires"),
            lease_seconds=sa.bindparam("b_lease_seconds"),
            fencing_token=RUNS.c.fencing_token + 1, start_time=sa.bindparam("b_now"),
            runner_id=sa.bindparam("b_runner_id"), update_time=sa.bindparam("b_now"))
    .returning(*ALL_RUN_COLUMNS))

# --- held runs (the caller's lease and fencing token guard the write) ----------------

LEASE_EXTEND = (sa.update(RUNS).where(RUNS.c.id == sa.bindparam("b_run_id"))
                .values(lease_expires_at=sa.bindparam("b_expires")))
_HELD_GUARD = (RUNS.c.id == sa.bindparam("g_run_id"),
               RUNS.c.lease_owner == sa.bindparam("g_runner_id"),
               RUNS.c.fencing_token == sa.bindparam("g_token"),
               RUNS.c.status == RunStatus.RUNNING)


def held_update(names: tuple[str, ...], returning: tuple) -> sa.Update:
    """UPDATE runs SET <names> WHERE <the caller holds the lease> RETURNING ...
    (binds ``g_run_id``, ``g_runner_id``, ``g_token``)."""
    key = ("held", names, "*" if returning is ALL_RUN_COLUMNS
           else tuple(column.key for column in returning))
    return _update(key, RUNS, _HELD_GUARD, names, returning)


# The reaper: RUNNING runs whose lease expired, oldest expiry first
# (PostgreSQL: replicas reaping at once skip each other's rows).
EXPIRED = (sa.select(RUNS)
           .where(RUNS.c.status == RunStatus.RUNNING,
                  RUNS.c.lease_expires_at < sa.bindparam("b_now"))
           .order_by(RUNS.c.lease_expires_at).limit(sa.bindparam("b_limit")))
EXPIRED_LOCKED = EXPIRED.with_for_update(skip_locked=True)

INSERT_REJECTED = REJECTED.insert()
INSERT_SAMPLE = RunSampleRow.__table__.insert()
# A passing dry run clears the gate only while the mapping is the one it tried.
CLEAR_DRY_RUN_GATE = (sa.update(PROFILES).where(
    PROFILES.c.name == sa.bindparam("b_profile"),
    PROFILES.c.mapping_digest == sa.bindparam("b_mapping_digest"),
    PROFILES.c.dry_run_required.is_(True)).values(dry_run_required=False))

# --- freshness tokens ------------------------------------------------------------------

PROFILE_EXISTS = sa.select(PROFILES.c.name).where(PROFILES.c.name == sa.bindparam("name"))
PROFILE_LOCK = PROFILE_EXISTS.with_for_update()
TOKEN_BY_PROFILE = sa.select(TOKENS).where(TOKENS.c.profile == sa.bindparam("profile"))
TOKEN_UPDATE = (sa.update(TOKENS).where(TOKENS.c.profile == sa.bindparam("b_profile"))
                .values(token=sa.bindparam("b_token"), method=sa.bindparam("b_method"),
                        run_id=sa.bindparam("b_run_id"),
                        update_time=sa.bindparam("b_now")))
TOKEN_INSERT = TOKENS.insert()
IMPORTED_INSERT = IMPORTED.insert()
IMPORTED_OF_RUN_DELETE = sa.delete(IMPORTED).where(IMPORTED.c.run_id == sa.bindparam("run_id"))
IMPORTED_LOOKUP = (sa.select(IMPORTED.c.path, IMPORTED.c.checksum, IMPORTED.c.run_id,
                             IMPORTED.c.import_time)
                   .where(IMPORTED.c.profile == sa.bindparam("profile"),
                          IMPORTED.c.profile_digest == sa.bindparam("digest"),
                          IMPORTED.c.checksum.in_(sa.bindparam("checksums", expanding=True)))
                   .order_by(IMPORTED.c.import_time.desc(), IMPORTED.c.id.desc()))
SHAPES = SourceShapeRow.__table__
SHAPE_BY_PROFILE = sa.select(SHAPES.c.shape).where(SHAPES.c.profile == sa.bindparam("profile"))
SHAPE_UPDATE = (sa.update(SHAPES).where(SHAPES.c.profile == sa.bindparam("b_profile"))
                .values(shape=sa.bindparam("b_shape"), run_id=sa.bindparam("b_run_id"),
                        update_time=sa.bindparam("b_now")))
SHAPE_INSERT = SHAPES.insert()

# --- run events and schedules -------------------------------------------------------

INSERT_EVENT = RUN_EVENTS.insert()
SCHEDULE_STREAK = sa.select(
    SCHEDULES.c.id, SCHEDULES.c.profile, SCHEDULES.c.spec, SCHEDULES.c.paused,
    SCHEDULES.c.consecutive_failures).where(SCHEDULES.c.id == sa.bindparam("id"))
_SCHEDULE_ID = (SCHEDULES.c.id == sa.bindparam("b_id"),)


def schedule_update(names: tuple[str, ...]) -> sa.Update:
    """UPDATE schedules SET <names> WHERE id = :b_id."""
    return _update(("schedule", names), SCHEDULES, _SCHEDULE_ID, names)


# --- the outbox ------------------------------------------------------------------------

MARK_PUBLISHED = (sa.update(RUNS).where(RUNS.c.id.in_(sa.bindparam("ids", expanding=True)))
                  .values(published_time=sa.bindparam("b_now"),
                          publish_count=RUNS.c.publish_count + 1))
