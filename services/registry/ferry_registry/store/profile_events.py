"""A profile's history (``ListProfileEvents``): stale, fresh again, auto-paused
and each webhook delivery attempt of a profile notice. Rows are appended with
SQLAlchemy Core on the caller's transaction connection, like run events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_registry import convert
from ferry_registry.db.engine import Database
from ferry_registry.db.models import ProfileEventRow
from ferry_registry.store import pagination
from ferry_registry.store.profiles import get_row

EVENTS = ProfileEventRow.__table__
ORDER = pagination.Order(((ProfileEventRow.id, False),))


def insert(conn, profile: str, when: datetime, type: int, message: str,
           attributes: Mapping[str, str] | None = None) -> int:
    """Append one event to ``profile``'s history; returns its sequence."""
    result = conn.execute(EVENTS.insert().values(
        profile=profile, event_time=when, type=type, message=message,
        attributes=dict(attributes or {})))
    return int(result.inserted_primary_key[0])


def to_proto(row: ProfileEventRow) -> profile_pb2.ProfileEvent:
    event = profile_pb2.ProfileEvent(profile=row.profile, sequence=row.id, type=row.type,
                                     message=row.message or "",
                                     attributes=dict(row.attributes or {}))
    stamp = convert.to_timestamp(row.event_time)
    if stamp is not None:
        event.event_time.CopyFrom(stamp)
    return event


class ProfileEventStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, profile: str, *, page_size: int, page_token: str
             ) -> tuple[list[profile_pb2.ProfileEvent], str]:
        """One page of ``profile``'s events, oldest first (NOT_FOUND without the profile)."""
        size = pagination.page_size(page_size)
        with self._db.read() as session:
            get_row(session, profile)
            statement = sa.select(ProfileEventRow).where(ProfileEventRow.profile == profile)
            page = pagination.fetch_page(session, statement, ORDER, kind="profile_events",
                                         query=profile, token=page_token, size=size,
                                         key_of=lambda r: [r.id])
            return [to_proto(r) for r in page.rows], page.next_token
