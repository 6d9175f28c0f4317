"""The writer interface both SQL upsert paths implement, and DB error
classification."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ferry_domain.engine.batch import Batch
from ferry_domain.engine.errors import EngineError, PermanentSourceError, TransientSourceError

# Writers get a ferry_domain.engine.batch.Batch: value columns in ``columns``
# order, then the row hash.


class TargetWriter:
    """One target table. ``classify`` reads only and returns (created,
    updated, unchanged).

    A writer that ``streams`` takes a batch chunk by chunk: ``begin``, then
    ``write_chunk`` for each chunk (the counts of that chunk), then ``commit``
    or ``rollback``; it classifies chunk by chunk in a dry run. The others
    get each batch whole: ``write`` upserts it in its own transaction and
    returns its counts."""

    streams = False

    def classify(self, batch: Batch) -> tuple[int, int, int]:
        raise NotImplementedError

    def write(self, batch: Batch) -> tuple[int, int, int]:
        raise NotImplementedError

    def begin(self) -> None:
        raise NotImplementedError

    def write_chunk(self, batch: Batch) -> tuple[int, int, int]:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def lookup(self, keys: list[Any]) -> dict[Any, int]:
        """Stored row hashes of these keys (a read, outside any batch)."""
        return {}

    def end_part(self) -> None:
        """Called after each source part (file) is read."""

    def close(self) -> None:
        raise NotImplementedError


class AbsentTargetWriter(TargetWriter):
    """Dry run against a database that does not exist yet: every row would
    be created (keys are unique within a source part)."""

    streams = True

    def classify(self, batch: Batch) -> tuple[int, int, int]:
        return len(batch), 0, 0

    def write(self, batch: Batch) -> tuple[int, int, int]:
        raise RuntimeError("a dry run never writes")

    def close(self) -> None:
        pass


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
