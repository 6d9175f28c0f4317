"""In-process notifications after committed writes.

- ``RunChanges``: a version counter and a condition. Every committed write
  that touches a run bumps it; ``WatchRun`` streams wait on it (with a short
  timeout, so changes made by another registry replica on the same
  PostgreSQL database are seen by polling too).
- ``Notifications.tasks``: another ``RunChanges`` counter, bumped when a
  runner answers a runner task; callers waiting for an answer
  (``record_reads``) wait on it.
- ``QueuedRunFanout``: each newly queued or re-queued run is handed to ONE
  connected ``StreamQueuedRuns`` subscriber, round robin. With no subscriber
  the run waits for the scheduler's outbox sweep.
- Run lifecycle events: ``record_status_change`` notes each status change in
  the write session; once the transaction commits, the changes go, in order,
  to the ``RunEventSink`` (``lifecycle.LifecycleRelay``, which publishes them
  to RabbitMQ). The hand-over is registered by ``run_changed``/``run_queued``.
  ``store.transitions.RunTransitions`` calls all three for every status change.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from datetime import datetime
from typing import Any, Protocol

from ferry.v1 import run_pb2
from sqlalchemy.orm import Session

from ferry_registry.db.engine import WriteSession

log = logging.getLogger(__name__)


class RunChanges:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._version = 0
        self._closed = False
        self._waiting = 0

    @property
    def version(self) -> int:
        with self._condition:
            return self._version

    @property
    def closed(self) -> bool:
        return self._closed

    def bump(self) -> None:
        with self._condition:
            self._version += 1
            if self._waiting:  # notify_all costs even with nobody waiting
                self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the version moves past ``seen``, the timeout, or close."""
        with self._condition:
            self._waiting += 1
            try:
                self._condition.wait_for(lambda: self._version != seen or self._closed,
                                         timeout)
            finally:
                self._waiting -= 1
            return self._version

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()


class Subscription:
    def __init__(self, scheduler_id: str) -> None:
        self.scheduler_id = scheduler_id
        # Queued runs, and runner tasks (ferry.v1.RunnerTask) to publish.
        self.queue: queue.Queue[Any] = queue.Queue()
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.queue.put(None)

    def get(self, timeout: float) -> Any:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class QueuedRunFanout:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []
        self._turn = itertools.count()

    def subscribe(self, scheduler_id: str) -> Subscription:
        subscription = Subscription(scheduler_id)
        with self._lock:
            self._subscribers.append(subscription)
        log.info("scheduler subscribed to queued runs",
                 extra={"fields": {"scheduler_id": scheduler_id}})
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, run: Any) -> bool:
        """Hand ``run`` (a queued run, or a runner task) to one live subscriber;
        False when nobody listens."""
        with self._lock:
            live = [s for s in self._subscribers if not s.closed]
            if not live:
                return False
            target = live[next(self._turn) % len(live)]
        target.queue.put(run)
        return True

    def close(self) -> None:
        with self._lock:
            for subscription in self._subscribers:
                subscription.close()


_PENDING_STATUS_CHANGES = "ferry.pending_status_changes"
_ANNOUNCING_STATUS_CHANGES = "ferry.announcing_status_changes"


class RunEventSink(Protocol):
    def submit(self, run: run_pb2.Run, when: datetime, sequence: int = 0) -> None:
        """Take one committed status change; must not block."""


def record_status_change(session: Session, run: run_pb2.Run, when: datetime,
                         sequence: int) -> None:
    """Note that ``run`` (a snapshot) entered its status at ``when`` in this
    transaction, with timeline sequence ``sequence``."""
    session.info.setdefault(_PENDING_STATUS_CHANGES, []).append((run, when, sequence))


class Notifications:
    """What store writes announce, after their transaction commits."""

    def __init__(self, run_events: RunEventSink | None = None) -> None:
        self.changes = RunChanges()
        # Bumped when a runner answers a runner task.
        self.tasks = RunChanges()
        self.fanout = QueuedRunFanout()
        self.run_events = run_events

    def run_changed(self, session: WriteSession) -> None:
        self._announce_status_changes(session)
        session.after_commit(self.changes.bump)

    def run_queued(self, session: WriteSession, run: run_pb2.Run) -> None:
        # Before the fan-out: a runner must not be able to start the run before
        # its run.queued event is handed over.
        self._announce_status_changes(session)
        session.after_commit(lambda: self.fanout.publish(run))

    def _announce_status_changes(self, session: WriteSession) -> None:
        """Once per transaction: after commit, hand its status changes to the sink."""
        sink = self.run_events
        if sink is None or session.info.get(_ANNOUNCING_STATUS_CHANGES):
            return
        session.info[_ANNOUNCING_STATUS_CHANGES] = True

        def announce() -> None:
            for run, when, sequence in session.info.pop(_PENDING_STATUS_CHANGES, []):
                sink.submit(run, when, sequence)

        session.after_commit(announce)

    def close(self) -> None:
        self.changes.close()
        self.tasks.close()
        self.fanout.close()
