"""The target writer: the abstract base class every upsert path implements,
the capabilities a writer declares, and DB error classification.

Writers get a ``ferry_domain.engine.batch.Batch``: value columns in
``columns`` order, then the row hash. Counts are ``(created, updated,
unchanged)``.

The import run drives a writer by what it declares it can do
(``capabilities``), never by its type:

- ``MULTI_ROW_UPSERT``: a batch is one transaction the writer keeps open
  (``begin``, ``write_chunk`` for each chunk as it is mapped, then
  ``commit`` or ``rollback``); a dry run classifies chunk by chunk.
- ``BULK_LOAD``: a batch is loaded whole, COPY-class, and merged in its own
  transaction (``write``); the import run holds the batch's chunks until the
  batch ends, and a dry run classifies the whole batch.
- ``REUSABLE_LOOKUP``: in a dry run ``lookup`` reads what ``classify`` would
  read, so the stored hashes looked up for a chunk (to skip mapping
  unchanged rows) classify it without a second read.

A class that declares a capability must implement its methods: this is
checked when the class is defined.
"""

from __future__ import annotations

import abc
import enum
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from ferry_domain.engine.batch import Batch
from ferry_domain.engine.errors import EngineError, PermanentSourceError, TransientSourceError

WriteCounts = tuple[int, int, int]


class Capability(enum.Flag):
    """What a target writer can do (see the module docstring)."""

    NONE = 0
    MULTI_ROW_UPSERT = enum.auto()
    BULK_LOAD = enum.auto()
    REUSABLE_LOOKUP = enum.auto()


@dataclass(frozen=True)
class TargetTable:
    """The table a writer upserts into: value columns in batch order, their
    field types, the key columns, and whether the table existed when opened."""

    name: str
    columns: list[str]
    types: list[str]
    key: tuple[str, ...]
    exists: bool

    @property
    def key_index(self) -> tuple[int, ...]:
        """Position of each key column among ``columns``."""
        return tuple(self.columns.index(k) for k in self.key)


class TargetWriter(abc.ABC):
    """One target table, opened for one run."""

    capabilities: ClassVar[Capability] = Capability.NONE

    # The methods each capability needs, checked in __init_subclass__.
    _NEEDS: ClassVar[dict[Capability, tuple[str, ...]]] = {
        Capability.MULTI_ROW_UPSERT: ("begin", "write_chunk", "commit", "rollback"),
        Capability.BULK_LOAD: ("write",),
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for capability, methods in TargetWriter._NEEDS.items():
            if capability not in cls.capabilities:
                continue
            missing = [m for m in methods if getattr(cls, m) is getattr(TargetWriter, m)]
            if missing:
                raise TypeError(
                    f"{cls.__name__} declares {capability.name} but does not implement "
                    + ", ".join(missing)
                )

    @abc.abstractmethod
    def classify(self, batch: Batch) -> WriteCounts:
        """Counts the batch would have if written; reads only."""

    def lookup(self, keys: list[Any]) -> dict[Any, int]:
        """Stored row hashes of these keys (a read, outside any batch)."""
        return {}

    def end_part(self) -> None:  # noqa: B027 - a hook most writers ignore
        """Called after each source part (file) is read."""

    @abc.abstractmethod
    def close(self) -> None:
        """Roll back anything open and release the connection."""

    # -- MULTI_ROW_UPSERT ----------------------------------------------------
    def begin(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not write chunk by chunk")

    def write_chunk(self, batch: Batch) -> WriteCounts:
        """Upsert one chunk inside the open transaction."""
        raise NotImplementedError(f"{type(self).__name__} does not write chunk by chunk")

    def commit(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not write chunk by chunk")

    def rollback(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not write chunk by chunk")

    # -- BULK_LOAD -------------------------------------------------------------
    def write(self, batch: Batch) -> WriteCounts:
        """Load and merge a whole batch in its own transaction."""
        raise NotImplementedError(f"{type(self).__name__} does not load whole batches")


class AbsentTargetWriter(TargetWriter):
    """Dry run against a database that does not exist yet: every row would
    be created (keys are unique within a source part). It never writes."""

    def classify(self, batch: Batch) -> WriteCounts:
        return len(batch), 0, 0

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
