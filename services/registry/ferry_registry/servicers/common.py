"""Helpers shared by the servicers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ferry.errors import InvalidArgumentError, UnavailableError, Violation


def require(**fields: object) -> None:
    """INVALID_ARGUMENT naming every empty required field."""
    missing = [Violation(name, "is required") for name, value in fields.items() if not value]
    if missing:
        raise InvalidArgumentError(
            f"missing required field(s): {', '.join(v.field for v in missing)}", missing)


class StreamSlots:
    """Bounds the server streams of one kind, so long-lived streams never take
    every worker thread from the unary calls (heartbeats, claims)."""

    def __init__(self, what: str, limit: int) -> None:
        self._what = what
        self._limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise UnavailableError(f"too many open {self._what} streams (limit {self._limit}); "
                                   "retry later")
        try:
            yield
        finally:
            self._slots.release()
