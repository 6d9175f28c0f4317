"""The lease reaper: a thread that re-queues (or fails) runs whose runner
stopped heartbeating, so nothing stays RUNNING forever."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from ferry_registry.store.expiry import REAP_LIMIT, LeaseExpiry

log = logging.getLogger(__name__)


class LeaseReaper:
    def __init__(self, expiry: LeaseExpiry, interval: timedelta) -> None:
        self._expiry = expiry
        self._interval = interval.total_seconds()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reap_once(self) -> int:
        return self._expiry.reap_expired()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lease-reaper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while self.reap_once() >= REAP_LIMIT and not self._stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 - keep reaping after a database hiccup
                log.exception("lease reaper pass failed; retrying next interval")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
