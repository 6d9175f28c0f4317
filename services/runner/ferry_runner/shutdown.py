"""Graceful shutdown: stop consuming, let the current run finish within the
grace period, otherwise hand it back.

On SIGTERM (or SIGINT) ``Shutdown.begin()`` sets ``stopping``: the consumer
stops taking requests, and a run waiting in retry backoff is released at
once with ``attempt_used=False`` (nothing of it is running). Runs executing
keep going; when ``FERRY_SHUTDOWN_GRACE`` has passed and a run is still
going, ``abandon`` is set: the engine is asked to stop at its next batch
boundary and the run is released with ``attempt_used=False``. Either way
another runner takes it as the same attempt. The process then exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Shutdown:
    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self.stopping = threading.Event()
        self.abandon = threading.Event()
        self._deadline: float | None = None
        self._signal = ""

    def begin(self, reason: str = "") -> None:
        if self.stopping.is_set():
            return
        self._signal = reason
        self._deadline = time.monotonic() + self.grace_seconds
        log.info("shutting down (%s): no new runs; runs in progress get %.0fs to finish",
                 reason or "requested", self.grace_seconds)
        self.stopping.set()

    def remaining(self) -> float:
        if self._deadline is None:
            return self.grace_seconds
        return max(0.0, self._deadline - time.monotonic())

    def expire(self) -> None:
        if not self.abandon.is_set():
            log.warning("shutdown grace of %.0fs is over; handing back runs in progress",
                        self.grace_seconds)
            self.abandon.set()

    def install_signal_handlers(self, on_signal: Callable[[], None]) -> None:
        """SIGTERM/SIGINT start the shutdown (main thread only)."""
        def handle(signum: int, _frame: object) -> None:
            self.begin(signal.Signals(signum).name)
            on_signal()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, handle)
