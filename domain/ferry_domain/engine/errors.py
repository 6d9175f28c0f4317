"""Errors the engine raises for conditions the runner classifies.

Each carries ``error_class`` (an ``ErrorClass`` of the run state machine)
and a message written for the operator. Messages never contain secret values.
"""

from __future__ import annotations

from ferry_domain.engine.results import Counts
from ferry_domain.runs.states import ErrorClass


class EngineError(Exception):
    """Base class; ``error_class`` tells the runner how to treat it."""

    error_class: ErrorClass = ErrorClass.PERMANENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # Filled by the import run when the error ends a run part-way.
        self.counts: Counts | None = None
        self.source_paths: list[str] = []


class TransientSourceError(EngineError):
    """Connection refused/reset, timeouts, HTTP 429/5xx, database gone: retry."""

    error_class = ErrorClass.TRANSIENT


class CredentialsError(EngineError):
    """HTTP 401/403 or a secret that cannot be resolved."""

    error_class = ErrorClass.CREDENTIALS


class PermanentSourceError(EngineError):
    """404, unreadable or malformed source: retrying will not help."""

    error_class = ErrorClass.PERMANENT


class SourceShapeError(EngineError):
    """Mapped source columns disappeared."""

    error_class = ErrorClass.SOURCE_SHAPE

    def __init__(self, message: str, fingerprint: str = "") -> None:
        super().__init__(message)
        self.fingerprint = fingerprint


class MappingError(EngineError):
    """The mapping cannot be applied (it should have been rejected earlier)."""

    error_class = ErrorClass.MAPPING


class RowValueError(ValueError):
    """A value of one row cannot be transformed; becomes a row error."""
