"""Profiles: apply (create or update by name), get, list, delete. Profiles read
back carry their staleness (``store.staleness.annotate``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from ferry.clock import Clock
from ferry.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError, Violation
from ferry.v1 import profile_pb2
from ferry_domain.profiles.validation import validate_profile

from ferry_registry import convert
from ferry_registry.db.engine import Database
from ferry_registry.db.models import (
    FreshnessTokenRow,
    ImportedFileRow,
    MissedFireRow,
    ProfileEventRow,
    ProfileRow,
    ScheduleRow,
    SourceShapeRow,
)
from ferry_registry.store import failing, filters, pagination, staleness

FILTER_FIELDS = {
    "entity_type": filters.Field(ProfileRow.entity_type, "string"),
    "operation": filters.Field(ProfileRow.operation, "enum", profile_pb2.Operation, "OPERATION_"),
    "name": filters.Field(ProfileRow.name, "string"),
    "dry_run_required": filters.Field(ProfileRow.dry_run_required, "bool"),
}
ORDERS = {
    "": pagination.Order(((ProfileRow.name, False),)),
    "name": pagination.Order(((ProfileRow.name, False),)),
    "update_time desc": pagination.Order(((ProfileRow.update_time, True),
                                          (ProfileRow.name, True))),
}


@dataclass(frozen=True)
class Applied:
    profile: profile_pb2.Profile
    created: bool
    mapping_changed: bool


def get_row(session, name: str) -> ProfileRow:
    row = session.get(ProfileRow, name)
    if row is None:
        raise NotFoundError(f'profile "{name}" not found')
    return row


class ProfileStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def apply(self, profile: profile_pb2.Profile, *, validate_only: bool = False) -> Applied:
        spec = convert.profile_spec(profile)
        violations = validate_profile(spec)
        if violations:
            raise InvalidArgumentError.from_violations("profile", violations)
        spec_bytes = convert.serialize(spec)
        digest = convert.mapping_digest(spec.mapping)
        now = self._clock.now()
        with self._db.write() as session:
            row = session.get(ProfileRow, spec.name, with_for_update=self._db.is_postgres)
            if row is None:
                row = ProfileRow(name=spec.name, entity_type=spec.entity_type,
                                 operation=spec.operation, spec=spec_bytes,
                                 mapping_digest=digest, dry_run_required=False, revision=1,
                                 create_time=now, update_time=now)
                if validate_only:
                    return Applied(convert.profile_to_proto(row), True, False)
                session.add(row)
                session.flush()
                return Applied(convert.profile_to_proto(row), True, False)
            changed = row.spec != spec_bytes
            mapping_changed = row.mapping_digest != digest
            if validate_only or not changed:
                preview = convert.profile_to_proto(row)
                if validate_only and changed:
                    preview = convert.profile_to_proto(ProfileRow(
                        name=row.name, spec=spec_bytes, mapping_digest=digest,
                        dry_run_required=row.dry_run_required or mapping_changed,
                        revision=row.revision + 1, create_time=row.create_time,
                        update_time=now))
                return Applied(preview, False, mapping_changed and changed)
            row.spec = spec_bytes
            row.entity_type = spec.entity_type
            row.operation = spec.operation
            row.revision += 1
            row.update_time = now
            if mapping_changed:
                row.mapping_digest = digest
                row.dry_run_required = True
            return Applied(convert.profile_to_proto(row), False, mapping_changed)

    def get(self, name: str) -> profile_pb2.Profile:
        with self._db.read() as session:
            row = get_row(session, name)
            profile = convert.profile_to_proto(row)
            staleness.annotate(session, [(row, profile)], self._clock.now())
            failing.annotate(session, [(row, profile)])
            return profile

    def list(self, *, page_size: int, page_token: str, filter: str,
             order_by: str) -> tuple[list[profile_pb2.Profile], str]:
        size = pagination.page_size(page_size)
        order_key = " ".join(order_by.split()).lower()
        if order_key not in ORDERS:
            raise InvalidArgumentError(
                f"unsupported order_by {order_by!r}",
                [Violation("order_by", 'use "name" or "update_time desc"')])
        order = ORDERS[order_key]
        comparisons = filters.parse(filter, FILTER_FIELDS)
        statement = sa.select(ProfileRow).where(*filters.clauses(comparisons, FILTER_FIELDS))
        with self._db.read() as session:
            page = pagination.fetch_page(
                session, statement, order, kind="profiles",
                query=f"{filters.canonical(comparisons)}|{order_key}", token=page_token,
                size=size,
                key_of=(lambda r: [r.name]) if order_key != "update_time desc"
                else (lambda r: [r.update_time, r.name]))
            pairs = [(r, convert.profile_to_proto(r)) for r in page.rows]
            staleness.annotate(session, pairs, self._clock.now())
            failing.annotate(session, pairs)
            return [profile for _, profile in pairs], page.next_token

    def delete(self, name: str, *, force: bool) -> None:
        with self._db.write() as session:
            row = session.get(ProfileRow, name, with_for_update=self._db.is_postgres)
            if row is None:
                raise NotFoundError(f'profile "{name}" not found')
            schedule_ids = list(session.scalars(
                sa.select(ScheduleRow.id).where(ScheduleRow.profile == name)))
            if schedule_ids and not force:
                raise FailedPreconditionError(
                    f'profile "{name}" has {len(schedule_ids)} schedule(s); delete them first '
                    "or pass force to delete them with the profile")
            if schedule_ids:
                session.execute(sa.delete(MissedFireRow).where(
                    MissedFireRow.schedule_id.in_(schedule_ids)))
                session.execute(sa.delete(ScheduleRow).where(ScheduleRow.profile == name))
            session.execute(sa.delete(FreshnessTokenRow).where(FreshnessTokenRow.profile == name))
            session.execute(sa.delete(ImportedFileRow).where(ImportedFileRow.profile == name))
            session.execute(sa.delete(ProfileEventRow).where(ProfileEventRow.profile == name))
            session.execute(sa.delete(SourceShapeRow).where(SourceShapeRow.profile == name))
            session.delete(row)
