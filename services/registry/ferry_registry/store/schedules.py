"""Schedules: create (idempotent), get, list, update by field mask, delete,
pause/resume, preview and missed fires."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.errors import InvalidArgumentError, NotFoundError, Violation
from ferry.v1 import profile_pb2, schedule_pb2
from ferry_domain import schedules as schedule_math
from ferry_domain.schedules import DEFAULT_MISFIRE_GRACE
from google.protobuf import field_mask_pb2
from sqlalchemy.exc import IntegrityError

from ferry_registry import convert
from ferry_registry.db.engine import Database
from ferry_registry.db.models import MissedFireRow, ProfileRow, ScheduleRow
from ferry_registry.ids import new_id
from ferry_registry.store import filters, pagination

DEFAULT_AUTO_PAUSE_AFTER = 5
MAX_PREVIEW = 100
DEFAULT_PREVIEW = 5
TRIGGERS = ("hourly", "daily", "weekly", "cron", "interval", "manual")
UPDATABLE = frozenset({"profile", *TRIGGERS, "time_zone", "misfire_grace", "catch_up",
                       "jitter", "overlap_policy", "auto_pause_after", "description"})

FILTER_FIELDS = {
    "profile": filters.Field(ScheduleRow.profile, "string"),
    "paused": filters.Field(ScheduleRow.paused, "bool"),
    "trigger": filters.Field(ScheduleRow.trigger_kind, "string"),
}
ORDERS = {
    "": pagination.Order(((ScheduleRow.create_time, False), (ScheduleRow.id, False))),
    "create_time": pagination.Order(((ScheduleRow.create_time, False), (ScheduleRow.id, False))),
    "profile": pagination.Order(((ScheduleRow.profile, False), (ScheduleRow.create_time, False),
                                 (ScheduleRow.id, False))),
}
MISSED_ORDER = pagination.Order(((MissedFireRow.fire_time, True), (MissedFireRow.id, True)))


def with_defaults(schedule: schedule_pb2.Schedule) -> schedule_pb2.Schedule:
    spec = convert.schedule_spec(schedule)
    if not spec.time_zone:
        spec.time_zone = "UTC"
    if not spec.HasField("misfire_grace"):
        spec.misfire_grace.CopyFrom(convert.to_duration(DEFAULT_MISFIRE_GRACE))
    if spec.catch_up == schedule_pb2.CATCH_UP_POLICY_UNSPECIFIED:
        spec.catch_up = schedule_pb2.CATCH_UP_POLICY_LATEST
    if spec.auto_pause_after == 0:
        spec.auto_pause_after = DEFAULT_AUTO_PAUSE_AFTER
    return spec


def check(spec: schedule_pb2.Schedule) -> None:
    violations: list[Violation] = []
    if not spec.profile:
        violations.append(Violation("schedule.profile", "is required"))
    violations += schedule_math.validate_schedule(spec)
    if violations:
        raise InvalidArgumentError.from_violations("schedule", violations)


def next_fire(spec: schedule_pb2.Schedule, created: datetime, after: datetime
              ) -> datetime | None:
    probe = schedule_pb2.Schedule()
    probe.CopyFrom(spec)
    probe.create_time.CopyFrom(convert.to_timestamp(created))
    return schedule_math.next_fire_time(probe, after)


def get_row(session, schedule_id: str, *, for_update: bool = False) -> ScheduleRow:
    row = session.get(ScheduleRow, schedule_id, with_for_update=for_update) if schedule_id \
        else None
    if row is None:
        raise NotFoundError(f'schedule "{schedule_id}" not found')
    return row


def _require_profile(session, name: str) -> ProfileRow:
    profile = session.get(ProfileRow, name)
    if profile is None:
        raise NotFoundError(f'profile "{name}" not found')
    return profile


class ScheduleStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def create(self, schedule: schedule_pb2.Schedule, request_id: str) -> schedule_pb2.Schedule:
        if request_id:
            existing = self._by_request_id(request_id)
            if existing is not None:
                return existing
        spec = with_defaults(schedule)
        check(spec)
        now = self._clock.now()
        paused = schedule.paused
        try:
            with self._db.write() as session:
                _require_profile(session, spec.profile)
                row = ScheduleRow(
                    id=new_id(), profile=spec.profile, spec=convert.serialize(spec),
                    trigger_kind=spec.WhichOneof("trigger"), paused=paused,
                    pause_reason="paused at creation" if paused else "",
                    next_fire_time=None if paused else next_fire(spec, now, now),
                    consecutive_failures=0, request_id=request_id or None,
                    create_time=now, update_time=now)
                session.add(row)
                session.flush()
                return convert.schedule_to_proto(row)
        except IntegrityError:
            existing = self._by_request_id(request_id) if request_id else None
            if existing is None:
                raise
            return existing

    def _by_request_id(self, request_id: str) -> schedule_pb2.Schedule | None:
        with self._db.read() as session:
            row = session.scalar(sa.select(ScheduleRow).where(
                ScheduleRow.request_id == request_id))
            return convert.schedule_to_proto(row) if row is not None else None

    def get(self, schedule_id: str) -> schedule_pb2.Schedule:
        with self._db.read() as session:
            return convert.schedule_to_proto(get_row(session, schedule_id))

    def list(self, *, page_size: int, page_token: str, filter: str, order_by: str
             ) -> tuple[list[schedule_pb2.Schedule], str]:
        size = pagination.page_size(page_size)
        order_key = " ".join(order_by.split()).lower()
        if order_key not in ORDERS:
            raise InvalidArgumentError(f"unsupported order_by {order_by!r}",
                                       [Violation("order_by", 'use "create_time" or "profile"')])
        comparisons = filters.parse(filter, FILTER_FIELDS)
        statement = sa.select(ScheduleRow).where(*filters.clauses(comparisons, FILTER_FIELDS))
        with self._db.read() as session:
            page = pagination.fetch_page(
                session, statement, ORDERS[order_key], kind="schedules",
                query=f"{filters.canonical(comparisons)}|{order_key}", token=page_token,
                size=size,
                key_of=(lambda r: [r.profile, r.create_time, r.id]) if order_key == "profile"
                else (lambda r: [r.create_time, r.id]))
            return [convert.schedule_to_proto(r) for r in page.rows], page.next_token

    def update(self, schedule: schedule_pb2.Schedule, mask: field_mask_pb2.FieldMask
               ) -> schedule_pb2.Schedule:
        paths = list(mask.paths)
        bad = [p for p in paths if p.split(".")[0] not in UPDATABLE]
        if bad or (paths and not mask.IsValidForDescriptor(schedule_pb2.Schedule.DESCRIPTOR)):
            shown = bad or paths
            raise InvalidArgumentError(
                f"invalid update_mask path(s) {', '.join(shown)}; updatable: "
                f"{', '.join(sorted(UPDATABLE))} (pause and resume have their own methods)",
                [Violation("update_mask", f"cannot update {p!r}") for p in shown])
        now = self._clock.now()
        with self._db.write() as session:
            row = get_row(session, schedule.id, for_update=self._db.is_postgres)
            spec = schedule_pb2.Schedule.FromString(row.spec)
            incoming = convert.schedule_spec(schedule)
            if paths:
                trigger_paths = [p for p in paths if p.split(".")[0] in TRIGGERS]
                other = field_mask_pb2.FieldMask(
                    paths=[p for p in paths if p.split(".")[0] not in TRIGGERS])
                other.MergeMessage(incoming, spec, replace_message_field=True,
                                   replace_repeated_field=True)
                if trigger_paths:
                    kind = incoming.WhichOneof("trigger")
                    if kind is None or kind not in {p.split(".")[0] for p in trigger_paths}:
                        raise InvalidArgumentError.from_violations("schedule", [Violation(
                            f"schedule.{trigger_paths[0].split('.')[0]}",
                            "must be set when named in update_mask")])
                    getattr(spec, kind).CopyFrom(getattr(incoming, kind))
            else:
                spec = incoming
            spec = with_defaults(spec)
            check(spec)
            if spec.profile != row.profile:
                _require_profile(session, spec.profile)
            row.spec = convert.serialize(spec)
            row.profile = spec.profile
            row.trigger_kind = spec.WhichOneof("trigger")
            if not row.paused:
                row.next_fire_time = next_fire(spec, row.create_time, now)
            # A scheduler holding the lease planned with the old trigger: drop the
            # lease so its release writes nothing and the new plan stands.
            row.lease_owner = None
            row.lease_expires_at = None
            row.update_time = now
            return convert.schedule_to_proto(row)

    def delete(self, schedule_id: str) -> None:
        with self._db.write() as session:
            row = get_row(session, schedule_id)
            session.execute(sa.delete(MissedFireRow).where(
                MissedFireRow.schedule_id == schedule_id))
            session.delete(row)

    def pause(self, schedule_id: str, reason: str) -> schedule_pb2.Schedule:
        now = self._clock.now()
        with self._db.write() as session:
            row = get_row(session, schedule_id, for_update=self._db.is_postgres)
            row.paused = True
            row.pause_reason = reason or "paused by an operator"
            row.next_fire_time = None
            row.update_time = now
            return convert.schedule_to_proto(row)

    def resume(self, schedule_id: str) -> schedule_pb2.Schedule:
        """Resume from now: fires missed while paused are not run (no backlog)."""
        now = self._clock.now()
        with self._db.write() as session:
            row = get_row(session, schedule_id, for_update=self._db.is_postgres)
            spec = schedule_pb2.Schedule.FromString(row.spec)
            row.paused = False
            row.pause_reason = ""
            row.consecutive_failures = 0
            row.next_fire_time = next_fire(spec, row.create_time, now)
            row.lease_owner = None
            row.lease_expires_at = None
            row.update_time = now
            return convert.schedule_to_proto(row)

    def preview(self, schedule_id: str, draft: schedule_pb2.Schedule | None, count: int,
                after: datetime | None) -> list[datetime]:
        if count < 0:
            raise InvalidArgumentError("count must not be negative",
                                       [Violation("count", "must not be negative")])
        count = min(count or DEFAULT_PREVIEW, MAX_PREVIEW)
        now = self._clock.now()
        if schedule_id:
            with self._db.read() as session:
                row = get_row(session, schedule_id)
                spec, created = schedule_pb2.Schedule.FromString(row.spec), row.create_time
        elif draft is not None:
            spec = with_defaults(draft)
            violations = schedule_math.validate_schedule(spec)
            if violations:
                raise InvalidArgumentError.from_violations("schedule", violations)
            created = convert.from_timestamp(draft.create_time) \
                if draft.HasField("create_time") else now
        else:
            raise InvalidArgumentError("give a schedule id or a draft schedule",
                                       [Violation("id", "id or schedule is required")])
        probe = schedule_pb2.Schedule()
        probe.CopyFrom(spec)
        probe.create_time.CopyFrom(convert.to_timestamp(created))
        return schedule_math.fire_times_after(probe, after or now, count)

    def missed_fires(self, schedule_id: str, *, page_size: int, page_token: str
                     ) -> tuple[list[schedule_pb2.MissedFire], str]:
        size = pagination.page_size(page_size)
        statement = sa.select(MissedFireRow)
        if schedule_id:
            statement = statement.where(MissedFireRow.schedule_id == schedule_id)
        with self._db.read() as session:
            if schedule_id and session.get(ScheduleRow, schedule_id) is None:
                raise NotFoundError(f'schedule "{schedule_id}" not found')
            page = pagination.fetch_page(session, statement, MISSED_ORDER, kind="missed_fires",
                                         query=schedule_id, token=page_token, size=size,
                                         key_of=lambda r: [r.fire_time, r.id])
            return [convert.missed_fire_to_proto(r) for r in page.rows], page.next_token


def overlap_policy(profile_spec: profile_pb2.Profile, schedule_spec: schedule_pb2.Schedule | None
                   ) -> int:
    """The schedule's policy overrides the profile's; QUEUE when neither sets one."""
    if schedule_spec is not None and schedule_spec.overlap_policy:
        return schedule_spec.overlap_policy
    return profile_spec.overlap_policy or profile_pb2.OVERLAP_POLICY_QUEUE
