"""The outbox sweep: the registry is the outbox of run requests.

Every ``FERRY_OUTBOX_SWEEP_INTERVAL`` the sweep asks the registry for QUEUED
runs that were never published, or were published before
``now - FERRY_REPUBLISH_AFTER`` and are still unclaimed (the message was lost:
broker restart, purge, a publish that never got its confirm), publishes them
again and marks them published. Runs queued in the last two seconds are left to
the loop or the stream that is publishing them. A duplicate message is
harmless: the runner's claim lets one delivery through and drops the others.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, timedelta

import grpc
from ferry.clock import Clock
from ferry.retry import RetryStopped, is_transient_rpc_error

from ferry_scheduler.dispatch import DispatchGateway
from ferry_scheduler.handoff import RunHandoff

log = logging.getLogger(__name__)

SWEEP_LIMIT = 500
# A run queued less than this ago is being published by the loop or the stream
# right now (the registry lists never-published runs at once); leave it to them.
FRESH = timedelta(seconds=2)


class OutboxSweeper:
    def __init__(self, gateway: DispatchGateway, handoff: RunHandoff, clock: Clock, *,
                 stopping: threading.Event, interval: timedelta, republish_after: timedelta,
                 holding: Callable[[str], bool] = lambda _run_id: False,
                 limit: int = SWEEP_LIMIT) -> None:
        self._gateway = gateway
        self._handoff = handoff
        self._clock = clock
        self._stopping = stopping
        self._interval = interval.total_seconds()
        self._republish_after = republish_after
        self._holding = holding
        self._limit = limit
        self._sweeps_of: OrderedDict[str, int] = OrderedDict()
        self.republished = 0

    def run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.sweep_once()
            except RetryStopped:
                return
            except grpc.RpcError as exc:
                level = logging.WARNING if is_transient_rpc_error(exc) else logging.ERROR
                log.log(level, "outbox sweep failed: %s", exc.code())  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - the sweep must survive anything
                log.exception("outbox sweep failed")
            self._handoff.publisher.process_events()

    def sweep_once(self) -> int:
        """One sweep; returns how many runs were published."""
        now = self._clock.now()
        fresh = now - min(FRESH, self._republish_after)
        runs = [r for r in self._gateway.runs_to_publish(now - self._republish_after,
                                                         self._limit)
                if not self._holding(r.id) and r.queue_time.ToDatetime(tzinfo=UTC) < fresh]
        published = 0
        for run in runs:
            count = self._sweeps_of.pop(run.id, 0) + 1
            self._sweeps_of[run.id] = count
            if not self._handoff.publish([run], publish_count=count):
                break
            published += 1
        published += self._sweep_tasks(now)
        while len(self._sweeps_of) > 10_000:
            self._sweeps_of.popitem(last=False)
        if published:
            self.republished += published
            log.info("outbox sweep published %d queued runs and runner tasks", published)
        return published

    def _sweep_tasks(self, now) -> int:
        """Runner tasks still queued and unpublished (no scheduler listened when
        they were created), or published ``republish_after`` ago and not taken."""
        tasks = [t for t in self._gateway.tasks_to_publish(now - self._republish_after,
                                                           self._limit)
                 if t.create_time.ToDatetime(tzinfo=UTC) < now - FRESH]
        return len(self._handoff.publish_tasks(tasks))
