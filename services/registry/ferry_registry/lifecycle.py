"""Run lifecycle events: committed status changes relayed to RabbitMQ (and,
through the same buffer and thread, ``profile.stale`` events: ``submit_event``).

``LifecycleRelay.submit`` is called after a write transaction commits (see
``notify.Notifications``) and only appends a ``ferry.v1.RunLifecycleEvent`` to
an in-memory FIFO buffer. One background thread owns its own AMQP connection
(pika's BlockingConnection is not thread-safe), declares the topology once
connected and publishes the events in order, each persistent, with publisher
confirms, to ``<prefix>.run-events`` with routing key ``run.<status>``.

The registry never waits for RabbitMQ: when the broker is down the thread
reconnects (``ferry.retry.keep_trying`` with ``RelaySettings.reconnect``:
capped exponential backoff with jitter, until the relay stops) while the
buffer fills, and warns at most once per ``outage_log_interval``; a full buffer
drops its OLDEST event (counted and logged). The head event is removed only
once the broker confirmed it, so reconnecting never reorders events.

Guarantee, while the registry runs and the buffer does not overflow: every
committed status change is published, in the order it was handed over. A
change is handed over right after its commit, before the call that made it
returns, so a run's changes (each caused by a later call) keep their order.
A publish whose confirm was lost in a reconnect is sent again: dedupe on
``event_id``. The thread sends what is buffered (up to ``batch`` events) back to
back and then waits once for the broker's confirms of all of them (pipelined
confirms), so a busy registry pays one broker round trip per batch, not per
event. Events still buffered when the registry crashes, or when a stop
cannot flush them within its grace, are lost (at most once across a registry
crash). Replicas each publish their own commits; ``sequence`` orders a run's
events across them. The registry's database stays the record:
``ListRunEvents`` and ``WatchRun`` have every state change.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ferry.amqp.errors import PublishError
from ferry.amqp.messages import LifecycleEvent, run_lifecycle_event
from ferry.amqp.publisher import RunEventPublisher
from ferry.retry import RetryNotice, RetrySettings, keep_trying
from ferry.v1 import run_pb2

log = logging.getLogger(__name__)

# Until the relay stops: 0.5 s doubling to 30 s, plus up to 0.5 s of jitter.
RECONNECT = RetrySettings.forever(initial_backoff=0.5, max_backoff=30.0,
                                  retry_on=(PublishError,))


@dataclass(frozen=True)
class RelaySettings:
    """Buffer size, batching and reconnect pacing of the relay thread."""

    capacity: int = 10_000
    # Events sent before waiting for their confirms (pipelined confirms).
    batch: int = 256
    # How long a short batch waits for more events before it goes (the cost of
    # a batch is mostly per batch, not per event).
    linger: float = 0.01
    reconnect: RetrySettings = RECONNECT
    # How often an idle connection is serviced (heartbeats are every 30 s).
    idle_interval: float = 2.0
    # At most one "cannot publish" warning this often during an outage.
    outage_log_interval: float = 60.0


class LifecycleRelay:
    """Buffers run lifecycle events and publishes them from one thread."""

    def __init__(self, publisher: RunEventPublisher,
                 settings: RelaySettings | None = None) -> None:
        self._publisher = publisher
        self._settings = settings or RelaySettings()
        self._buffer: collections.deque[LifecycleEvent] = collections.deque()
        self._condition = threading.Condition()
        self._stopping = False
        # Set with _stopping: ends a wait to reconnect at once.
        self._stop = threading.Event()
        self._deadline = 0.0
        self._thread: threading.Thread | None = None
        self._outage_since: float | None = None
        self._outage_logged = 0.0
        self._announced = False
        # The relay thread waits for events (submit must wake it).
        self._idle = False
        self.published = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        with self._condition:
            return len(self._buffer)

    # -- called by the registry's request threads ------------------------------------

    def submit(self, run: run_pb2.Run, when: datetime, sequence: int = 0) -> None:
        """Queue the event for ``run``'s current status (never waits for the broker)."""
        try:
            event = run_lifecycle_event(run, when, sequence=sequence)
        except ValueError:
            log.warning("no lifecycle event for a run without status",
                        extra={"fields": {"run_id": run.id}})
            return
        self.submit_event(event)

    def submit_event(self, event: LifecycleEvent) -> None:
        """Queue a built event (a run's or a profile's; never waits for the broker)."""
        with self._condition:
            if len(self._buffer) >= self._settings.capacity:
                lost = self._buffer.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("run event buffer full: dropped the oldest event", extra={
                        "fields": {"dropped_total": self.dropped, **_subject(lost),
                                   "routing_key": lost.routing_key,
                                   "capacity": self._settings.capacity}})
            self._buffer.append(event)
            if self._idle:
                self._condition.notify()

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="run-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.5) -> None:
        """Publish what is buffered for up to ``timeout`` seconds, then close
        (the caller waits at most ``timeout`` + 0.5 s, even for a stuck connect)."""
        with self._condition:
            self._stop.set()
            self._stopping = True
            self._deadline = time.monotonic() + timeout
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout + 0.5)
        left = self.pending
        if left:
            log.warning("run events not published at shutdown", extra={
                "fields": {"pending": left}})

    # -- the relay thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            keep_trying(self._session, self._settings.reconnect, what="run events",
                        stop_event=self._stop, log_retry=self._broker_down)
        except Exception:  # noqa: BLE001 - a bug here must be seen, not kill the registry
            log.exception("the run event relay stopped")
        finally:
            self._publisher.close()

    def _session(self, published: Callable[[], None]) -> None:
        """Connect, then publish the oldest events in order (or service the idle
        connection) until stopping with nothing left to send, or past the stop
        deadline. Raises :class:`PublishError` when the broker cannot be reached."""
        while True:
            head = self._next(wait=self._publisher.is_open)
            if not head:
                if self._stopping:
                    return
                self._publisher.connect()
                self._publisher.process_events()
                outcomes: list[bool] = []
            else:
                outcomes = self._publisher.publish_many(head)
            self._broker_up()
            published()
            for event, confirmed in zip(head, outcomes, strict=True):
                if not confirmed:
                    log.error("the broker refused a run event; dropped it", extra={"fields": {
                        **_subject(event), "error": "the broker nacked the event",
                        "routing_key": event.routing_key}})
                self._remove(event, published=confirmed)

    def _broker_down(self, notice: RetryNotice) -> None:
        now = time.monotonic()
        if self._outage_since is None or \
                now - self._outage_logged >= self._settings.outage_log_interval:
            log.warning("cannot publish run events; retrying in the background", extra={
                "fields": {"error": str(notice.error), "pending": self.pending,
                           "retry_in_s": round(notice.wait, 1)}})
            self._outage_logged = now
        if self._outage_since is None:
            self._outage_since = now

    def _broker_up(self) -> None:
        if self._outage_since is not None or not self._announced:
            log.info("publishing run events", extra={"fields": {
                "exchange": self._publisher.topology.events_exchange,
                "outage_s": round(time.monotonic() - self._outage_since, 1)
                if self._outage_since is not None else 0.0,
                "pending": self.pending}})
            self._outage_since = None
            self._announced = True

    def _next(self, *, wait: bool) -> list[LifecycleEvent]:
        """The oldest buffered events (left in place, up to ``batch``), or none:
        nothing came within the idle wait, or stopping with nothing left or past
        the stop deadline."""
        with self._condition:
            if wait and not self._buffer and not self._stopping:
                self._idle = True
                try:
                    self._condition.wait(self._settings.idle_interval)
                finally:
                    self._idle = False
            if self._stopping and (not self._buffer or time.monotonic() > self._deadline):
                return []
            if not self._buffer:
                return []
            if self._settings.linger > 0 and len(self._buffer) < self._settings.batch \
                    and not self._stopping:
                # Let a few more events come: fewer, fuller batches under load.
                self._condition.wait(self._settings.linger)
            return list(itertools.islice(self._buffer, self._settings.batch))

    def _remove(self, event: LifecycleEvent, *, published: bool) -> None:
        with self._condition:
            # The head may already be gone: an overflow dropped it meanwhile.
            if self._buffer and self._buffer[0] is event:
                self._buffer.popleft()
            if published:
                self.published += 1
            else:
                self.dropped += 1


def _subject(event: LifecycleEvent) -> dict[str, str]:
    """What a log line about ``event`` names: its run, or its profile."""
    if isinstance(event, run_pb2.RunLifecycleEvent):
        return {"run_id": event.run.id}
    return {"profile": event.profile}
