"""Errors a freshness probe raises, classified the way the runner classifies
a run's failure.

``error_class`` is an ``ErrorClass`` of the run state machine
(``CREDENTIALS``, ``TRANSIENT``, ``PERMANENT``). Messages name the source
and the cause and never contain a secret value (URLs are shown without
credentials or query).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ferry_domain.runs.states import ErrorClass


class FreshnessError(Exception):
    """Base class; ``error_class`` tells the runner whether to retry."""

    error_class: ErrorClass = ErrorClass.PERMANENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FreshnessCredentialsError(FreshnessError):
    """HTTP 401/403, or a secret reference that cannot be resolved."""

    error_class = ErrorClass.CREDENTIALS


class FreshnessTransientError(FreshnessError):
    """Timeouts, refused connections, HTTP 429/5xx, a database that is down:
    retrying may succeed."""

    error_class = ErrorClass.TRANSIENT


class FreshnessPermanentError(FreshnessError):
    """HTTP 404, a missing file, a method that does not fit the source:
    retrying will not help until someone changes something."""

    error_class = ErrorClass.PERMANENT


def safe_url(url: str) -> str:
    """The URL without user info, query or fragment, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else "(URL without scheme)"
