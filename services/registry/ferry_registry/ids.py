"""Identifiers of runs and schedules: 32 hex digits that sort by creation
(microseconds since the epoch, strictly increasing within a process, then
random bits), so runs queued at the same instant still list in order."""

from __future__ import annotations

import secrets
import threading
import time

_lock = threading.Lock()
_last = 0


def new_id() -> str:
    global _last
    with _lock:
        _last = max(_last + 1, time.time_ns() // 1000)
        stamp = _last
    return f"{stamp:014x}{secrets.token_hex(9)}"
