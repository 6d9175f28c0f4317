"""Reading changesets back: the records a run wrote, and one record with the
runs that touched it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_domain.changesets.target import ChangesetTarget, open_changesets
from ferry_domain.engine.targets.changesets.model import (
    Action,
    RecordChange,
    RecordsPage,
    StoredRecord,
    key_from_text,
    key_text,
    show_key,
)
from ferry_domain.engine.targets.tables import RUN_COLUMN

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_HISTORY = 100


def list_run_records(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    run_id: str,
    actions: Collection[Action] = (),
    page_size: int = DEFAULT_PAGE_SIZE,
    page_token: str = "",
) -> RecordsPage:
    """The records ``run_id`` wrote into the profile's target, in the order it
    wrote them (``actions``: only these; empty: all). ``page_size`` 0 means
    the default, larger than MAX_PAGE_SIZE is coerced. ValueError for a bad
    page size or token; ChangesetNotFoundError when the run has no changeset."""
    if page_size < 0:
        raise ValueError("page size must be 0 or more")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _decode_token(page_token, run_id)
    with open_changesets(profile, default_target_url) as target:
        run = target.run(run_id)
        changes = target.changes
        assert changes is not None  # the run has a changeset
        query = (
            sa.select(changes)
            .where(target.changes_of(run), changes.c.seq > after)
            .order_by(changes.c.seq)
            .limit(size + 1)
        )
        if actions:
            query = query.where(changes.c.action.in_([int(a) for a in actions]))
        rows = target.conn.execute(query).fetchall()
        records = [_change(target, row, run_id) for row in rows[:size]]
    more = len(rows) > size
    return RecordsPage(records, _encode_token(run_id, records[-1].seq) if more else "")


def get_record(
    profile: profile_pb2.Profile,
    *,
    default_target_url: str,
    key: Sequence[str],
    history_limit: int = 20,
) -> StoredRecord:
    """The profile's target row with ``key`` (one text per key field, in the
    profile's key order; ValueError for the wrong number) and the last
    ``history_limit`` changes of it, newest first."""
    key = tuple(key)
    with open_changesets(profile, default_target_url) as target:
        if len(key) != len(target.key):
            raise ValueError(
                f"the key of {target.table_name} is {show_key(target.key)}: "
                f"give {len(target.key)} value(s), not {len(key)}"
            )
        values: dict[str, Any] | None = None
        last_run = ""
        if target.table is not None:
            table = target.table
            row = target.conn.execute(
                sa.select(table).where(
                    *(table.c[name] == value for name, value in zip(target.key, key, strict=True))
                )
            ).first()
            if row is not None:
                stored = row._mapping
                values = target.json_values({f: stored[f] for f in target.fields})
                last_run = stored.get(RUN_COLUMN) or ""
        return StoredRecord(key, values, last_run, _history(target, key, history_limit))


def _history(target: ChangesetTarget, key: tuple[str, ...], limit: int) -> list[RecordChange]:
    changes, runs = target.changes, target.runs
    if changes is None or runs is None:
        return []
    rows = target.conn.execute(
        sa.select(changes, runs.c.run_id)
        .join(runs, runs.c.run_no == changes.c.run_no)
        .where(changes.c.record_key == key_text(key))
        .order_by(changes.c.seq.desc())
        .limit(max(1, min(limit, MAX_HISTORY)))
    ).fetchall()
    return [_change(target, row, row.run_id) for row in rows]


def _change(target: ChangesetTarget, row: Any, run_id: str) -> RecordChange:
    return RecordChange(
        run_id,
        key_from_text(row.record_key),
        Action(row.action),
        target.field_changes(row.before, row.after),
        int(row.seq),
    )


def _encode_token(run_id: str, seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([run_id, seq]).encode()).decode()


def _decode_token(token: str, run_id: str) -> int:
    """The last seq of the previous page (0: the first page)."""
    if not token:
        return 0
    try:
        owner, seq = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("page token is not one this listing returned") from None
    if owner != run_id or not isinstance(seq, int):
        raise ValueError("page token belongs to another listing")
    return seq
