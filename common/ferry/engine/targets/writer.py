"""The writer interface both SQL upsert paths implement, and DB error
classification."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ferry.engine.errors import EngineError, PermanentSourceError, TransientSourceError

# Rows given to writers are lists: the mapped values in ``columns`` order,
# then the row hash.


class TargetWriter:
    """One target table. ``classify`` reads only; ``write`` upserts one batch
    in its own transaction. Both return (created, updated, unchanged)."""

    def classify(self, rows: Sequence[list[Any]]) -> tuple[int, int, int]:
        raise NotImplementedError

    def write(self, rows: Sequence[list[Any]]) -> tuple[int, int, int]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def classify_against(
    rows: Sequence[list[Any]], key_index: tuple[int, ...], existing: dict[Any, int]
) -> tuple[int, int, int, list[list[Any]]]:
    """Split a batch by the stored hashes: (created, updated, unchanged, to_write)."""
    created = updated = unchanged = 0
    to_write: list[list[Any]] = []
    single = key_index[0] if len(key_index) == 1 else None
    for row in rows:
        key = row[single] if single is not None else tuple(row[i] for i in key_index)
        stored = existing.get(key)
        if stored is None:
            created += 1
            to_write.append(row)
        elif stored != row[-1]:
            updated += 1
            to_write.append(row)
        else:
            unchanged += 1
    return created, updated, unchanged, to_write


def sqlite_param(value: Any) -> Any:
    if value is None or value.__class__ in (str, int):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def classify_db_error(exc: Exception, what: str) -> EngineError:
    """Lost connections, locks and timeouts are transient; the rest permanent."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    transient_names = ("OperationalError", "InterfaceError", "ConnectionTimeout", "PoolTimeout")
    if name in transient_names or getattr(exc, "connection_invalidated", False):
        return TransientSourceError(f"{what}: {text}")
    return PermanentSourceError(f"{what}: {name}: {text}")
