"""Errors the engine raises for conditions the runner classifies.

Each carries ``error_class`` (one of the run's error classes) and a message
written for the operator. Messages never contain secret values.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class; ``error_class`` tells the runner how to treat it."""

    error_class = "PERMANENT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # Filled by the pipeline when the error ends a run part-way.
        self.counts: Any = None
        self.source_paths: list[str] = []


class TransientSourceError(EngineError):
    """Connection refused/reset, timeouts, HTTP 429/5xx, database gone: retry."""

    error_class = "TRANSIENT"


class CredentialsError(EngineError):
    """HTTP 401/403 or a secret that cannot be resolved."""

    error_class = "CREDENTIALS"


class PermanentSourceError(EngineError):
    """404, unreadable or malformed source: retrying will not help."""

    error_class = "PERMANENT"


class SourceShapeError(EngineError):
    """Mapped source columns disappeared."""

    error_class = "SOURCE_SHAPE"

    def __init__(self, message: str, fingerprint: str = "") -> None:
        super().__init__(message)
        self.fingerprint = fingerprint


class MappingError(EngineError):
    """The mapping cannot be applied (it should have been rejected earlier)."""

    error_class = "MAPPING"


class RowValueError(ValueError):
    """A value of one row cannot be transformed; becomes a row error."""
