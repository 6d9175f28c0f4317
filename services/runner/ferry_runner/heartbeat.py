"""Keeping the lease of a claimed run, and reporting its progress.

``LeaseKeeper`` is one thread per executing run. Every ``lease/3`` it calls
HeartbeatRun; the reply may ask for cancellation (the engine stops at the next
batch boundary). A FAILED_PRECONDITION means the lease is lost — another runner
may own the run now — and ``lost`` is set so the executor stops at once and
writes nothing more. Between heartbeats it sends the latest counts with
ReportProgress, at most every ``progress_interval`` seconds and only when they
changed, plus any timeline events queued with ``add_event`` (RETRY, WARNING).

The thread is started lazily: its first tick is due only after the progress
interval (or the heartbeat interval, when shorter), so a keeper is registered
with one shared starter thread and gets its own thread only if the run is
still going then. A tiny run (milliseconds) never starts one: no thread start
and join per run, and no registry call but the claim and the finish.

Registry calls from here are single tries with a short deadline: the next
tick is the retry, so a registry restart only delays a beat. When no
heartbeat has succeeded for a whole lease, the lease may have been reaped
and the run given to another runner: the keeper then assumes the lease lost
(self-fencing) rather than keep writing to the target unseen.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ferry.logs import current_context, log_context
from ferry.v1 import run_pb2

from ferry_runner.registry import Claim, LeaseLostError, RunnerRegistry

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, registry: RunnerRegistry, claim: Claim, *, heartbeat_interval: float,
                 progress_interval: float = 0.5, lease_seconds: float | None = None) -> None:
        self._registry = registry
        self._claim = claim
        self._heartbeat_interval = heartbeat_interval
        self._progress_interval = progress_interval
        self._lease_seconds = lease_seconds or heartbeat_interval * 3
        self._last_ok = time.monotonic()
        self.cancel_requested = threading.Event()
        self.lost = threading.Event()
        self._stop = threading.Event()
        # Set once the run is being ended: FinishRun carries the last counts
        # and events, so no progress report may race it.
        self._ending = threading.Event()
        self._lock = threading.Lock()
        self._counts: dict[str, int] | None = None
        self._rows_total = 0
        self._dirty = False
        self._events: list[run_pb2.RunEvent] = []
        self._log_fields = current_context()
        self._tick = min(self._progress_interval, self._heartbeat_interval)
        self._next_beat = time.monotonic() + self._heartbeat_interval
        self._thread = threading.Thread(target=self._run, name=f"lease-{claim.run_id[:8]}",
                                        daemon=True)

    # -- called from the executing thread ------------------------------------

    def start(self) -> LeaseKeeper:
        """Keep the lease from now on: the thread starts at the first tick."""
        _STARTER.add(self, time.monotonic() + self._tick)
        return self

    def stop(self) -> None:
        self._stop.set()
        if _STARTER.discard(self):
            return  # its thread never started
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def ending(self) -> None:
        """No more periodic progress reports (heartbeats go on until ``stop``)."""
        self._ending.set()

    def update(self, counts: dict[str, int], rows_total: int = 0) -> None:
        with self._lock:
            if counts != self._counts or rows_total != self._rows_total:
                self._counts = dict(counts)
                self._rows_total = rows_total
                self._dirty = True

    def add_event(self, event: run_pb2.RunEvent) -> None:
        with self._lock:
            self._events.append(event)
            self._dirty = True

    def take_events(self) -> list[run_pb2.RunEvent]:
        """Events not yet sent (FinishRun carries them)."""
        with self._lock:
            events, self._events = self._events, []
            return events

    def flush(self) -> None:
        """Send pending progress and events now (before a release)."""
        self._send_progress(force=True)

    # -- the thread --------------------------------------------------------------

    def _run(self) -> None:
        """Started at the first tick (see ``_KeeperStarter``): tick at once, then
        every tick interval."""
        with log_context(**self._log_fields):
            next_beat = self._next_beat
            while not self._stop.is_set():
                if time.monotonic() >= next_beat:
                    next_beat = self._beat(next_beat)
                    if self.lost.is_set():
                        return
                self._send_progress()
                if self._stop.wait(self._tick):
                    return

    def _beat(self, scheduled: float) -> float:
        try:
            cancel = self._registry.heartbeat(self._claim)
        except LeaseLostError as exc:
            log.error("lease lost (%s); stopping work on the run at once", exc)
            self.lost.set()
            return scheduled
        except Exception as exc:  # noqa: BLE001 - UNAVAILABLE and friends: try again soon
            silent = time.monotonic() - self._last_ok
            if silent >= self._lease_seconds:
                log.error("no heartbeat succeeded for %.0fs (the whole lease); assuming the "
                          "lease lost and stopping work on the run", silent)
                self.lost.set()
                return scheduled
            log.warning("heartbeat failed (%s); retrying in 1s", _describe(exc))
            return time.monotonic() + min(1.0, self._heartbeat_interval)
        self._last_ok = time.monotonic()
        if cancel and not self.cancel_requested.is_set():
            log.info("cancellation requested; stopping at the next batch boundary")
            self.cancel_requested.set()
        return time.monotonic() + self._heartbeat_interval

    def _send_progress(self, *, force: bool = False) -> None:
        if self._ending.is_set() and not force:
            return
        with self._lock:
            if not (self._dirty or force) or self._counts is None and not self._events:
                return
            counts = dict(self._counts or {})
            rows_total = self._rows_total
            events = list(self._events)
            self._dirty = False
        try:
            cancel = self._registry.report_progress(self._claim, counts, rows_total, events)
        except LeaseLostError as exc:
            log.error("lease lost while reporting progress (%s)", exc)
            self.lost.set()
            return
        except Exception as exc:  # noqa: BLE001 - try again next tick
            log.warning("progress report failed (%s); will retry", _describe(exc))
            with self._lock:
                self._dirty = True
            return
        with self._lock:
            # Drop exactly the events that were sent.
            self._events = self._events[len(events):]
        if cancel and not self.cancel_requested.is_set():
            log.info("cancellation requested; stopping at the next batch boundary")
            self.cancel_requested.set()


class _KeeperStarter:
    """One daemon thread per process that starts each keeper's thread when its
    first tick is due, unless the keeper was stopped before (the run ended)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: dict[LeaseKeeper, float] = {}
        self._thread: threading.Thread | None = None

    def add(self, keeper: LeaseKeeper, due: float) -> None:
        with self._condition:
            self._due[keeper] = due
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="lease-starter",
                                                daemon=True)
                self._thread.start()
            elif due <= min(self._due.values()):
                self._condition.notify()

    def discard(self, keeper: LeaseKeeper) -> bool:
        """True when the keeper's thread had not been started (and never will)."""
        with self._condition:
            return self._due.pop(keeper, None) is not None

    def _loop(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for keeper in [k for k, due in self._due.items() if due <= now]:
                    del self._due[keeper]
                    keeper._thread.start()  # noqa: SLF001
                wait = min(self._due.values(), default=now + 60.0) - now
                self._condition.wait(max(wait, 0.001))


_STARTER = _KeeperStarter()


def _describe(exc: Any) -> str:
    code = getattr(exc, "code", None)
    if callable(code):
        try:
            return code().name
        except Exception:  # noqa: BLE001
            pass
    return f"{type(exc).__name__}: {exc}"
