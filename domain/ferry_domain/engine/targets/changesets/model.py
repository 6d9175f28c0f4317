"""What a changeset holds, as the rest of Ferry sees it: the actions a run
took on records, each record's change with its before-image, and how a
record's key is written as text.

A changeset is the list of records one live import (or rollback) wrote, kept
in the target database beside the entity table (``changesets.tables``), in
the same transaction as the batch that wrote them. Values are JSON values
(text, numbers, booleans, null, lists) as the target stores them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# Between the parts of a composite key in its text form.
KEY_SEPARATOR = "\x1f"


class Action(enum.IntEnum):
    """What a run did to a record. The numbers are stored in the target."""

    CREATED = 1
    UPDATED = 2
    DEACTIVATED = 3
    DELETED = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Action:
        """``created``, ``updated``, ... (any case); ValueError otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(a.label for a in cls)
            raise ValueError(f"unknown record action {text!r}; use one of {names}") from None


@dataclass(frozen=True)
class FieldChange:
    """One field of a record: its value before and after the run (JSON values)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RecordChange:
    """One record a run wrote. ``fields``: for an update the changed fields,
    before -> after; for a delete the whole row before it; empty for a
    create. ``seq`` orders changes in the target database (later is larger)."""

    run_id: str
    key: tuple[str, ...]
    action: Action
    fields: tuple[FieldChange, ...] = ()
    seq: int = 0


@dataclass(frozen=True)
class RecordsPage:
    records: list[RecordChange]
    # Empty on the last page; otherwise pass it back for the next one.
    next_page_token: str = ""


@dataclass(frozen=True)
class StoredRecord:
    """A record as it is in the target now, and the runs that changed it.

    ``values`` is None when no row has the key (never imported, or deleted).
    ``history`` is newest first."""

    key: tuple[str, ...]
    values: dict[str, Any] | None
    last_run_id: str = ""
    history: list[RecordChange] = field(default_factory=list)


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs between two imports: the keys whose value of
    it changed, with the value after the first run and after the second."""

    field: str
    changes: list[tuple[tuple[str, ...], Any, Any]]
    count: int  # keys in all; ``changes`` may list fewer


@dataclass(frozen=True)
class RunDiff:
    """How the target changed from the end of ``run_a`` to the end of
    ``run_b`` (the earlier run first), by the changesets of the runs between."""

    run_a: str
    run_b: str
    created: list[tuple[str, ...]]
    created_count: int
    deleted: list[tuple[str, ...]]
    deleted_count: int
    fields: list[FieldDiff]
    # The runs whose changes were summed, oldest first (run_a excluded).
    runs: list[str] = field(default_factory=list)


def key_part(value: Any) -> str:
    """One key value as text, the same on every target database."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def key_text(values: Sequence[Any]) -> str:
    """A record's key as stored with its changes."""
    return KEY_SEPARATOR.join(key_part(v) for v in values)


def key_from_text(text: str) -> tuple[str, ...]:
    return tuple(text.split(KEY_SEPARATOR))


def show_key(key: Sequence[str]) -> str:
    """A key for people: its parts joined by ", "."""
    return ", ".join(key)
