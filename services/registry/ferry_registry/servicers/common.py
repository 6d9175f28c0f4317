"""Helpers shared by the servicers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ferry.errors import InvalidArgumentError, UnavailableError, Violation


def require(**fields: object) -> None:
    """INVALID_ARGUMENT naming every empty required field."""
    missing = [Violation(name, "is required") for name, value in fields.items() if not value]
    if missing:
        raise InvalidArgumentError(
            f"missing required field(s): {', '.join(v.field for v in missing)}", missing)


def list_query(request: Any) -> dict[str, Any]:
    """Paging, filter and order of an AIP-132 List request, as the keyword
    arguments of a store's ``list``."""
    return {"page_size": request.page_size, "page_token": request.page_token,
            "filter": request.filter, "order_by": request.order_by}


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
