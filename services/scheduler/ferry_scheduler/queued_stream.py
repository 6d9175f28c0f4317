"""Publishing runs the registry queues outside the schedules: manual runs,
retries, re-queued attempts; and runner tasks (validate a profile), which the
same stream brings.

``StreamQueuedRuns`` pushes each newly queued run to one scheduler. A reader
thread keeps the stream open and hands runs to publisher threads (each with
its own connection), which publish them in small batches with confirms and
mark them published. Runs of schedules (first attempt) are left to the
scheduling loop that created them.

The reader re-opens the stream whenever it ends or breaks (a registry restart)
through ``ferry.retry.keep_trying`` with ``REOPEN``: at once after a stream
that delivered runs, else after capped exponential backoff with jitter, until
the scheduler stops.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import grpc
from ferry.retry import RetryNotice, RetrySettings, keep_trying
from ferry.v1 import run_pb2, runner_task_pb2

from ferry_scheduler.dispatch import DispatchGateway
from ferry_scheduler.handoff import RunHandoff

log = logging.getLogger(__name__)

BATCH = 16
# Until stopped: 0.1 s doubling to 5 s, plus up to 0.1 s of jitter; any error
# (the reader must survive anything).
REOPEN = RetrySettings.forever(initial_backoff=0.1, max_backoff=5.0, retry_on=(Exception,))
# A registry without StreamQueuedRuns is asked again this rarely; the outbox
# sweep publishes manual runs meanwhile.
UNIMPLEMENTED_PAUSE = 30.0


class StreamEndedError(Exception):
    """The registry ended the stream (it is stopping): open it again."""


def published_by_loop(run: run_pb2.Run) -> bool:
    """A scheduled run's first attempt is published by the loop that made it."""
    return run.trigger == run_pb2.RUN_TRIGGER_SCHEDULE and run.attempt <= 1


class QueuedRunStream:
    def __init__(self, gateway: DispatchGateway, *,
                 stopping: threading.Event, reopen: RetrySettings = REOPEN) -> None:
        self._gateway = gateway
        self._stopping = stopping
        self._reopen = reopen
        # Queued runs, and runner tasks (ferry.v1.RunnerTask).
        self._queue: queue.Queue[Any] = queue.Queue()
        self._call: grpc.Call | None = None
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.received = 0

    # -- reading ---------------------------------------------------------------

    def read(self) -> None:
        """Keep the stream open until stopped (runs in its own thread)."""
        keep_trying(self._session, self._reopen, what="queued-runs stream",
                    stop_event=self._stopping, log_retry=self._log_reopen)

    def _session(self, received: Callable[[], None]) -> None:
        """One stream: queue the runs it brings until it ends, breaks or is
        cancelled by ``cancel()``."""
        try:
            stream, call = self._gateway.stream_queued()
            with self._lock:
                self._call = call
            if self._stopping.is_set():
                call.cancel()
            for message in stream:
                if not self.connected.is_set():
                    self.connected.set()
                    received()
                self.received += 1
                self._queue.put(message.runner_task if message.HasField("runner_task")
                                else message.run)
        except grpc.RpcError as exc:
            if self._stopping.is_set():
                return
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                log.warning("the registry does not serve StreamQueuedRuns yet; manual runs "
                            "are published by the outbox sweep")
                self._stopping.wait(UNIMPLEMENTED_PAUSE)
                return
            raise
        finally:
            self.connected.clear()
            with self._lock:
                self._call = None
        if not self._stopping.is_set():
            raise StreamEndedError("the registry ended the queued-runs stream")

    @staticmethod
    def _log_reopen(notice: RetryNotice) -> None:
        error = notice.error
        if isinstance(error, StreamEndedError):
            log.info("queued-runs stream ended; re-opening in %.1fs", notice.wait)
        elif isinstance(error, grpc.RpcError):
            log.warning("queued-runs stream broke (%s); re-opening in %.1fs",
                        error.code(), notice.wait)  # type: ignore[attr-defined]
        else:
            log.error("queued-runs stream failed; re-opening in %.1fs", notice.wait,
                      exc_info=error)

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
            tasks = [t for t in batch if isinstance(t, runner_task_pb2.RunnerTask)]
            todo = [r for r in batch if isinstance(r, run_pb2.Run)
                    and r.status == run_pb2.RUN_STATUS_QUEUED and not published_by_loop(r)]
            try:
                handoff.publish_tasks(tasks)
                handoff.publish(todo)
            except Exception:  # noqa: BLE001 - the outbox sweep is the safety net
                log.exception("publishing %d streamed runs failed", len(todo))
