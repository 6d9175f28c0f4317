"""Publishing runs the registry queues outside the schedules: manual runs,
retries, re-queued attempts.

``StreamQueuedRuns`` pushes each newly queued run to one scheduler. A reader
thread keeps the stream open (re-opening it with backoff when the registry
restarts) and hands runs to publisher threads (each with its own connection),
which publish them in small batches with confirms and mark them published. Runs of schedules (first
attempt) are left to the scheduling loop that created them.
"""

from __future__ import annotations

import logging
import queue
import threading

import grpc
from ferry.v1 import run_pb2

from ferry_scheduler.dispatch import DispatchGateway
from ferry_scheduler.handoff import RunHandoff

log = logging.getLogger(__name__)

BATCH = 16


def published_by_loop(run: run_pb2.Run) -> bool:
    """A scheduled run's first attempt is published by the loop that made it."""
    return run.trigger == run_pb2.RUN_TRIGGER_SCHEDULE and run.attempt <= 1


class QueuedRunStream:
    def __init__(self, gateway: DispatchGateway, *,
                 stopping: threading.Event,
                 initial_backoff: float = 0.1, max_backoff: float = 5.0) -> None:
        self._gateway = gateway
        self._stopping = stopping
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._queue: queue.Queue[run_pb2.Run] = queue.Queue()
        self._call: grpc.Call | None = None
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.received = 0

    # -- reading ---------------------------------------------------------------

    def read(self) -> None:
        """Keep the stream open until stopped (runs in its own thread)."""
        backoff = self._initial_backoff
        while not self._stopping.is_set():
            try:
                stream, call = self._gateway.stream_queued()
                with self._lock:
                    self._call = call
                if self._stopping.is_set():
                    call.cancel()
                for message in stream:
                    if not self.connected.is_set():
                        self.connected.set()
                    backoff = self._initial_backoff
                    self.received += 1
                    self._queue.put(message.run)
                log.info("queued-runs stream ended; re-opening")
            except grpc.RpcError as exc:
                if self._stopping.is_set():
                    break
                code = exc.code() if hasattr(exc, "code") else None  # type: ignore[attr-defined]
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    log.warning("the registry does not serve StreamQueuedRuns yet; manual runs "
                                "are published by the outbox sweep")
                    backoff = self._max_backoff * 6
                else:
                    log.warning("queued-runs stream broke (%s); re-opening in %.1fs",
                                code, backoff)
            except Exception:  # noqa: BLE001 - the reader must survive anything
                log.exception("queued-runs stream failed; re-opening in %.1fs", backoff)
            finally:
                self.connected.clear()
                with self._lock:
                    self._call = None
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def cancel(self) -> None:
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    # -- publishing ------------------------------------------------------------

    def publish(self, handoff: RunHandoff) -> None:
        """Publish what the reader receives. Runs in its own thread with its own
        handoff (AMQP connection); several such threads publish in parallel, so
        the broker's confirms of one do not hold up the others."""
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                handoff.publisher.process_events()
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            todo = [r for r in batch if r.status == run_pb2.RUN_STATUS_QUEUED
                    and not published_by_loop(r)]
            try:
                handoff.publish(todo)
            except Exception:  # noqa: BLE001 - the outbox sweep is the safety net
                log.exception("publishing %d streamed runs failed", len(todo))
