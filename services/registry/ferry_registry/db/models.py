"""SQLAlchemy models of the registry's tables.

Times are stored as naive UTC (``UtcDateTime``) and come back aware, so the
same comparisons work on SQLite and PostgreSQL. Protobuf parts that are only
read back whole (a profile's spec, a schedule's trigger, a run's result
details) are stored as deterministic serialized bytes; everything that is
filtered, ordered or compared has its own column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from ferry_domain.runs.states import RunStatus
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class Base(DeclarativeBase):
    metadata = metadata


class ProfileRow(Base):
    __tablename__ = "profiles"

    name: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    entity_type: Mapped[str] = mapped_column(sa.String(100))
    operation: Mapped[int] = mapped_column(sa.Integer)
    spec: Mapped[bytes] = mapped_column(sa.LargeBinary)
    mapping_digest: Mapped[str] = mapped_column(sa.String(64))
    dry_run_required: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    revision: Mapped[int] = mapped_column(sa.BigInteger, default=1)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # Since when the profile is stale, as the stale watch last recorded it
    # (NULL: not stale); the watch moves it with a compare-and-set, so each
    # turn to stale is announced once.
    stale_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ScheduleRow(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        sa.Index("ix_schedules_due", "paused", "next_fire_time"),
        sa.Index("ix_schedules_profile", "profile"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    profile: Mapped[str] = mapped_column(sa.String(63))
    spec: Mapped[bytes] = mapped_column(sa.LargeBinary)
    trigger_kind: Mapped[str] = mapped_column(sa.String(16))
    paused: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    pause_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    next_fire_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_fire_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    request_id: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, unique=True)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)


class MissedFireRow(Base):
    __tablename__ = "missed_fires"
    __table_args__ = (sa.Index("ix_missed_fires_schedule", "schedule_id", "fire_time"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(sa.String(40))
    fire_time: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[int] = mapped_column(sa.Integer)
    record_time: Mapped[datetime] = mapped_column(UtcDateTime)


# At most one RUNNING run per profile (invariant 6, one live run per profile):
# claims check it with their compare-and-set, the database refuses a second.
ONE_RUNNING_PER_PROFILE = sa.text(f"status = {int(RunStatus.RUNNING)}")


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        sa.UniqueConstraint("schedule_id", "fire_time", name="uq_runs_schedule_fire"),
        sa.Index("ix_runs_queue_time", "queue_time", "id"),
        sa.Index("ix_runs_status", "status"),
        sa.Index("ix_runs_profile_status", "profile", "status"),
        sa.Index("uq_runs_running_profile", "profile", unique=True,
                 sqlite_where=ONE_RUNNING_PER_PROFILE,
                 postgresql_where=ONE_RUNNING_PER_PROFILE),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    profile: Mapped[str] = mapped_column(sa.String(63))
    schedule_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    fire_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[int] = mapped_column(sa.Integer)
    entity_type: Mapped[str] = mapped_column(sa.String(100))
    operation: Mapped[int] = mapped_column(sa.Integer)
    trigger: Mapped[int] = mapped_column(sa.Integer)
    dry_run: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    force: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=1)
    max_attempts: Mapped[int] = mapped_column(sa.Integer, default=3)
    rows_read: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    unchanged: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    errors: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    written: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    filtered: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    deleted: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    rows_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    queue_time: Mapped[datetime] = mapped_column(UtcDateTime)
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # First error, skip reason, warnings, freshness evidence, retention actions,
    # sample and rejected-rows locations: a serialized ferry.v1.Run holding only those.
    details: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"")
    rejected_columns: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    runner_id: Mapped[str] = mapped_column(sa.String(200), default="")
    error_class: Mapped[int] = mapped_column(sa.Integer, default=0)
    error_message: Mapped[str] = mapped_column(sa.Text, default="")
    hint: Mapped[str] = mapped_column(sa.Text, default="")
    request_id: Mapped[str | None] = mapped_column(sa.String(200), nullable=True, unique=True)
    retry_of: Mapped[str] = mapped_column(sa.String(40), default="")
    cancel_requested: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    profile_revision: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    source_override: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # OPERATION_ROLLBACK runs: the run undone, and whether later changes are overwritten.
    rollback_of: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    rollback_force: Mapped[bool] = mapped_column(sa.Boolean, default=False,
                                                 server_default=sa.false())
    mapping_digest: Mapped[str] = mapped_column(sa.String(64), default="")
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_seconds: Mapped[float] = mapped_column(sa.Float, default=30.0)
    fencing_token: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    published_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    publish_count: Mapped[int] = mapped_column(sa.Integer, default=0)


class RunEventRow(Base):
    __tablename__ = "run_events"
    __table_args__ = (sa.Index("ix_run_events_run", "run_id", "id"),)

    # The id is the event's sequence: it increases within a run (and globally).
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(sa.String(40))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[int] = mapped_column(sa.Integer, default=0)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    attributes: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)


class RejectedRowRow(Base):
    __tablename__ = "rejected_rows"
    __table_args__ = (sa.Index("ix_rejected_rows_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(sa.String(40))
    row: Mapped[int] = mapped_column(sa.BigInteger)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    field: Mapped[str] = mapped_column(sa.String(200), default="")
    message: Mapped[str] = mapped_column(sa.Text, default="")
    values: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)


class RunSampleRow(Base):
    """The masked sample of a run's first source rows (``ferry_domain.samples``),
    deleted with its run."""

    __tablename__ = "run_samples"

    run_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    columns: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rows: Mapped[list[list[str]]] = mapped_column(sa.JSON, default=list)
    omitted_rows: Mapped[int] = mapped_column(sa.Integer, default=0)


class ImportedFileRow(Base):
    """A file a live run imported from a drop folder (purged with its run)."""

    __tablename__ = "imported_files"
    __table_args__ = (sa.Index("ix_imported_files_lookup", "profile", "profile_digest",
                               "checksum"),
                      sa.Index("ix_imported_files_run", "run_id"))

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(sa.String(63))
    profile_digest: Mapped[str] = mapped_column(sa.String(64))
    checksum: Mapped[str] = mapped_column(sa.String(80))
    path: Mapped[str] = mapped_column(sa.Text)
    run_id: Mapped[str] = mapped_column(sa.String(40))
    import_time: Mapped[datetime] = mapped_column(UtcDateTime)


class FreshnessTokenRow(Base):
    __tablename__ = "freshness_tokens"

    profile: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    token: Mapped[str] = mapped_column(sa.Text)
    method: Mapped[int] = mapped_column(sa.Integer, default=0)
    run_id: Mapped[str] = mapped_column(sa.String(40), default="")
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)


class ProfileEventRow(Base):
    """A profile's history: stale, fresh again, auto-paused, webhook deliveries."""

    __tablename__ = "profile_events"
    __table_args__ = (sa.Index("ix_profile_events_profile", "profile", "id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(sa.String(63))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[int] = mapped_column(sa.Integer)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    attributes: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)


class NotificationRow(Base):
    """The webhook outbox: one row per notice and URL, written in the transaction
    of the change it tells about, delivered (and retried) by the registry's
    webhook thread; ``state`` is a ``notifications.DeliveryState``."""

    __tablename__ = "notification_outbox"
    __table_args__ = (sa.Index("ix_notification_outbox_due", "state", "next_attempt_time"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    profile: Mapped[str] = mapped_column(sa.String(63))
    run_id: Mapped[str] = mapped_column(sa.String(40), default="")
    event: Mapped[str] = mapped_column(sa.String(20))
    url: Mapped[str] = mapped_column(sa.Text)
    format: Mapped[int] = mapped_column(sa.Integer, default=0)
    secret_ref: Mapped[str] = mapped_column(sa.String(500), default="")
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    state: Mapped[int] = mapped_column(sa.Integer, default=0)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_time: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)


class SourceShapeRow(Base):
    """Per profile: the source shape of its last good run (a live run that
    ended COMPLETED or WARNING), a serialized ferry.v1.SourceShape."""

    __tablename__ = "source_shapes"

    profile: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(40), default="")
    shape: Mapped[bytes] = mapped_column(sa.LargeBinary)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)


class RunnerTaskRow(Base):
    """A short task for any runner (validate a profile): created by an
    operator's call, published by a scheduler, taken and answered by a runner."""

    __tablename__ = "runner_tasks"
    __table_args__ = (sa.Index("ix_runner_tasks_state", "state", "create_time"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    kind: Mapped[int] = mapped_column(sa.Integer)
    state: Mapped[int] = mapped_column(sa.Integer)
    profile: Mapped[str] = mapped_column(sa.String(63))
    runner_id: Mapped[str] = mapped_column(sa.String(200), default="")
    # The task's query and answer: a serialized ferry.v1.RunnerTask holding
    # only those (query, checks, answer, answered).
    result: Mapped[bytes] = mapped_column(sa.LargeBinary, default=b"")
    error_message: Mapped[str] = mapped_column(sa.Text, default="")
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # A QUEUED task no runner took by then ends FAILED; a RUNNING one whose
    # runner did not answer by then too.
    expire_time: Mapped[datetime] = mapped_column(UtcDateTime)
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    published_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    publish_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The location the task reads instead of the profile's source ("": none).
    source_override: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
