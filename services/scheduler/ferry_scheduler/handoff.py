"""Handing runs to RabbitMQ: publish each run's request with confirms, then
record in the registry which ones the broker confirmed.

The registry is the outbox: a run that could not be published stays QUEUED
and unpublished there, and the outbox sweep tries again. So a publish
failure is logged and counted, never raised to the loops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import grpc
from ferry.amqp.errors import PublishError
from ferry.amqp.messages import run_request, runner_task_request
from ferry.amqp.publisher import RunPublisher
from ferry.logs import log_context
from ferry.metrics import METRICS
from ferry.retry import RetryStopped
from ferry.v1 import run_pb2, runner_task_pb2

from ferry_scheduler.dispatch import DispatchGateway

log = logging.getLogger(__name__)


class PublishedMarks:
    """Collects confirmed run ids from several publishing threads and records
    them with one ``MarkRunsPublished`` call per ``interval`` (fewer registry
    writes under load). A run published but not yet marked is at worst
    published again by the outbox sweep; the runner's claim drops duplicates."""

    def __init__(self, gateway: DispatchGateway, stopping: threading.Event, *,
                 interval: float = 0.05, limit: int = 500) -> None:
        self._gateway = gateway
        self._stopping = stopping
        self._interval = interval
        self._limit = limit
        self._pending: list[str] = []
        self._lock = threading.Lock()

    def add(self, run_ids: list[str]) -> None:
        with self._lock:
            self._pending.extend(run_ids)

    def flush(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending[:self._limit], self._pending[self._limit:]
            if not batch:
                return
            try:
                self._gateway.mark_published(batch)
            except (grpc.RpcError, RetryStopped) as exc:
                log.warning("could not mark %d runs published: %s", len(batch),
                            exc.code() if hasattr(exc, "code") else exc)
                return

    def run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.flush()
        self.flush()


class RunHandoff:
    """Publish runs and mark them published; one instance per thread (it owns
    a RunPublisher, whose connection must stay on one thread)."""

    def __init__(self, gateway: DispatchGateway, publisher: RunPublisher,
                 marks: PublishedMarks | None = None) -> None:
        self._gateway = gateway
        self.publisher = publisher
        self._marks = marks
        self.failures = 0

    def publish_tasks(self, tasks: Iterable[runner_task_pb2.RunnerTask]) -> list[str]:
        """Publish runner tasks to the runner-task queue with confirms and mark
        the confirmed ones published; what is not stays for the outbox sweep
        (within the task's deadline). Returns the ids confirmed."""
        tasks = list(tasks)
        if not tasks:
            return []
        try:
            errors = self.publisher.publish_tasks([runner_task_request(t) for t in tasks])
        except PublishError as exc:
            self.failures += 1
            log.warning("%d runner tasks not published; they stay queued for the outbox "
                        "sweep: %s", len(tasks), exc)
            return []
        confirmed = [t.id for t, error in zip(tasks, errors, strict=True) if error is None]
        for error in filter(None, errors):
            self.failures += 1
            log.warning("runner task not published; it stays queued for the outbox sweep: %s",
                        error)
        if confirmed:
            try:
                self._gateway.mark_published([], confirmed)
            except (grpc.RpcError, RetryStopped) as exc:
                log.warning("could not mark %d runner tasks published: %s", len(confirmed),
                            exc.code() if hasattr(exc, "code") else exc)
        return confirmed

    def publish(self, runs: Iterable[run_pb2.Run], *, publish_count: int = 1) -> list[str]:
        """Publish ``runs`` (back to back, then one wait for all the confirms)
        and mark the confirmed ones published. A run the broker refused, or
        every run when the broker cannot be reached, stays queued for the
        outbox sweep; returns the ids confirmed."""
        runs = list(runs)
        confirmed: list[str] = []
        if not runs:
            return confirmed
        messages = [run_request(run.id, run.profile, max(run.attempt, 1),
                                publish_count=publish_count) for run in runs]
        try:
            errors: list[PublishError | None] = self.publisher.publish_many(messages)
        except PublishError as exc:  # the broker is likely down
            self.failures += 1
            log.warning("%d run requests not published; they stay queued for the outbox "
                        "sweep: %s", len(runs), exc)
            return confirmed
        for run, error in zip(runs, errors, strict=True):
            with log_context(run_id=run.id, profile=run.profile):
                if error is not None:
                    self.failures += 1
                    log.warning("run request not published; it stays queued for the outbox "
                                "sweep: %s", error)
                    continue
                confirmed.append(run.id)
                METRICS.request_published()
                log.debug("run request published")
        if confirmed and self._marks is not None:
            self._marks.add(confirmed)
        elif confirmed:
            try:
                self._gateway.mark_published(confirmed)
            except (grpc.RpcError, RetryStopped) as exc:
                # Published but not marked: the sweep re-publishes later, and the
                # runner drops the duplicate (the run is claimed once).
                log.warning("could not mark %d runs published: %s", len(confirmed),
                            exc.code() if hasattr(exc, "code") else exc)
        return confirmed
