"""Conversions between stored rows and ``ferry.v1`` messages."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ferry.errors import InvalidArgumentError, Violation
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2, schedule_pb2
from ferry_domain.leases import lease_problem
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message

from ferry_registry.db.models import (
    MissedFireRow,
    ProfileRow,
    RejectedRowRow,
    RunEventRow,
    RunRow,
    ScheduleRow,
)

PROFILE_OUTPUT_ONLY = ("mapping_digest", "dry_run_required", "create_time", "update_time",
                       "revision", "stale_since", "last_change_time", "failing_since",
                       "failing_runs")
SCHEDULE_OUTPUT_ONLY = ("id", "pause_reason", "next_fire_time", "last_fire_time",
                        "consecutive_failures", "create_time", "update_time", "paused")

M = TypeVar("M", bound=Message)


def to_timestamp(when: datetime | None) -> timestamp_pb2.Timestamp | None:
    if when is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp


def from_timestamp(stamp: timestamp_pb2.Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def from_duration(duration: duration_pb2.Duration | None,
                  default: timedelta) -> timedelta:
    if duration is None or (duration.seconds == 0 and duration.nanos == 0):
        return default
    return duration.ToTimedelta()


def lease_from(request, default: timedelta) -> timedelta:  # type: ignore[no-untyped-def]
    """``request.lease_duration`` (``default`` when unset or zero), within
    ``ferry_domain.leases``' bounds, else INVALID_ARGUMENT naming the field."""
    lease = from_duration(
        request.lease_duration if request.HasField("lease_duration") else None, default)
    problem = lease_problem(lease)
    if problem:
        raise InvalidArgumentError.from_violations("lease duration",
                                                   [Violation("lease_duration", problem)])
    return lease


def to_duration(delta: timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(delta)
    return duration


def _set_time(message: object, field: str, when: datetime | None) -> None:
    stamp = to_timestamp(when)
    if stamp is not None:
        getattr(message, field).CopyFrom(stamp)


def _cleared(message: M, fields: tuple[str, ...]) -> M:
    """A copy of ``message`` with ``fields`` cleared."""
    copy = type(message)()
    copy.CopyFrom(message)
    for name in fields:
        copy.ClearField(name)
    return copy


# --- profiles -------------------------------------------------------------

def profile_spec(profile: profile_pb2.Profile) -> profile_pb2.Profile:
    """The user-owned part of a profile (output-only fields cleared)."""
    return _cleared(profile, PROFILE_OUTPUT_ONLY)


def serialize(message: object) -> bytes:
    return message.SerializeToString(deterministic=True)  # type: ignore[attr-defined]


def mapping_digest(mapping: profile_pb2.Mapping) -> str:
    """Stable hash of a mapping: deterministic serialization, sha256, 16 hex digits."""
    return hashlib.sha256(serialize(mapping)).hexdigest()[:16]


def profile_to_proto(row: ProfileRow) -> profile_pb2.Profile:
    profile = profile_pb2.Profile.FromString(row.spec)
    profile.name = row.name
    profile.mapping_digest = row.mapping_digest
    profile.dry_run_required = row.dry_run_required
    profile.revision = row.revision
    _set_time(profile, "create_time", row.create_time)
    _set_time(profile, "update_time", row.update_time)
    return profile


# --- schedules ------------------------------------------------------------

def schedule_spec(schedule: schedule_pb2.Schedule) -> schedule_pb2.Schedule:
    """The user-owned part of a schedule (output-only fields cleared)."""
    return _cleared(schedule, SCHEDULE_OUTPUT_ONLY)


def schedule_to_proto(row: ScheduleRow) -> schedule_pb2.Schedule:
    schedule = schedule_pb2.Schedule.FromString(row.spec)
    schedule.id = row.id
    schedule.profile = row.profile
    schedule.paused = row.paused
    schedule.pause_reason = row.pause_reason or ""
    schedule.consecutive_failures = row.consecutive_failures
    _set_time(schedule, "next_fire_time", row.next_fire_time)
    _set_time(schedule, "last_fire_time", row.last_fire_time)
    _set_time(schedule, "create_time", row.create_time)
    _set_time(schedule, "update_time", row.update_time)
    return schedule


def missed_fire_to_proto(row: MissedFireRow) -> schedule_pb2.MissedFire:
    missed = schedule_pb2.MissedFire(schedule_id=row.schedule_id, reason=row.reason)
    _set_time(missed, "fire_time", row.fire_time)
    _set_time(missed, "record_time", row.record_time)
    return missed


# --- runs -----------------------------------------------------------------

def run_to_proto(row: RunRow) -> run_pb2.Run:
    run = run_pb2.Run.FromString(row.details) if row.details else run_pb2.Run()
    run.id = row.id
    run.profile = row.profile
    run.schedule_id = row.schedule_id or ""
    _set_time(run, "fire_time", row.fire_time)
    run.status = row.status
    run.entity_type = row.entity_type
    run.operation = row.operation
    run.trigger = row.trigger
    run.dry_run = row.dry_run
    run.force = row.force
    run.attempt = row.attempt
    run.max_attempts = row.max_attempts
    run.counts.CopyFrom(run_pb2.RunCounts(
        rows_read=row.rows_read, created=row.created, updated=row.updated,
        unchanged=row.unchanged, skipped=row.skipped, errors=row.errors,
        written=row.written, filtered=row.filtered, deleted=row.deleted))
    _set_time(run, "queue_time", row.queue_time)
    _set_time(run, "start_time", row.start_time)
    _set_time(run, "end_time", row.end_time)
    _set_time(run, "update_time", row.update_time)
    run.runner_id = row.runner_id or ""
    run.error_class = row.error_class
    run.error_message = row.error_message or ""
    run.hint = row.hint or ""
    run.rows_total = row.rows_total
    run.request_id = row.request_id or ""
    run.retry_of = row.retry_of or ""
    run.cancel_requested = row.cancel_requested
    run.profile_revision = row.profile_revision
    run.source_override = row.source_override or ""
    run.rollback_of = row.rollback_of or ""
    run.rollback_force = bool(row.rollback_force)
    return run


def counts_values(counts: run_pb2.RunCounts) -> dict[str, int]:
    return {"rows_read": counts.rows_read, "created": counts.created,
            "updated": counts.updated, "unchanged": counts.unchanged,
            "skipped": counts.skipped, "errors": counts.errors, "written": counts.written,
            "filtered": counts.filtered, "deleted": counts.deleted}


def event_to_proto(row: RunEventRow) -> run_pb2.RunEvent:
    event = run_pb2.RunEvent(run_id=row.run_id, sequence=row.id, type=row.type,
                             status=row.status, attempt=row.attempt, message=row.message or "",
                             attributes=dict(row.attributes or {}))
    _set_time(event, "event_time", row.event_time)
    return event


def rejected_to_proto(row: RejectedRowRow) -> run_service_pb2.RejectedRow:
    return run_service_pb2.RejectedRow(row=row.row, outcome=row.outcome, field=row.field or "",
                                       message=row.message or "",
                                       values={str(k): str(v)
                                               for k, v in (row.values or {}).items()})
