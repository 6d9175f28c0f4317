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
    key_text,
    show_key,
)
from ferry_domain.engine.targets.changesets.tables import KEYS_CREATED
from ferry_domain.engine.targets.tables import RUN_COLUMN

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_HISTORY = 100
# Change rows read at a time.
FETCH_ROWS = 1000


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
    from_seq, skip = _decode_token(page_token, run_id)
    wanted = {int(a) for a in actions}
    if Action.CREATED in actions:
        wanted.add(KEYS_CREATED)
    records: list[RecordChange] = []
    with open_changesets(profile, default_target_url) as target:
        run = target.run(run_id)
        changes = target.changes
        assert changes is not None  # the run has a changeset
        query = (
            sa.select(changes)
            .where(target.changes_of(run), changes.c.seq >= from_seq)
            .order_by(changes.c.seq)
            .execution_options(yield_per=FETCH_ROWS)
        )
        if wanted:
            query = query.where(changes.c.action.in_(sorted(wanted)))
        result = target.conn.execute(query)
        try:
            for row in result:
                held = target.changes_in(row, run_id)
                first = skip if row.seq == from_seq else 0
                for index in range(first, len(held)):
                    if len(records) == size:
                        return RecordsPage(records, _encode_token(run_id, row.seq, index))
                    records.append(held[index])
        finally:
            result.close()
    return RecordsPage(records)


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
    """The record's changes, newest first: its own change rows (by the key
    index) and the ``KEYS_CREATED`` rows that name it."""
    changes, runs = target.changes, target.runs
    if changes is None or runs is None:
        return []
    text = key_text(key)
    limit = max(1, min(limit, MAX_HISTORY))
    found = sa.or_(
        changes.c.record_key == text,
        sa.and_(
            changes.c.action == KEYS_CREATED,
            target.contains_key(changes.c.after, json.dumps(text, ensure_ascii=False)),
        ),
    )
    rows = target.conn.execute(
        sa.select(changes, runs.c.run_id)
        .join(runs, runs.c.run_no == changes.c.run_no)
        .where(found)
        .order_by(changes.c.seq.desc())
    )
    history: list[RecordChange] = []
    for row in rows:
        history += [c for c in target.changes_in(row, row.run_id) if c.key == key]
        if len(history) >= limit:
            break
    return history[:limit]


def _encode_token(run_id: str, seq: int, index: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([run_id, seq, index]).encode()).decode()


def _decode_token(token: str, run_id: str) -> tuple[int, int]:
    """Where the page starts: the change row's seq, and how many of its
    records were listed before (0, 0: the first page)."""
    if not token:
        return 0, 0
    try:
        owner, seq, index = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("page token is not one this listing returned") from None
    if owner != run_id or not isinstance(seq, int) or not isinstance(index, int):
        raise ValueError("page token belongs to another listing")
    return seq, index
