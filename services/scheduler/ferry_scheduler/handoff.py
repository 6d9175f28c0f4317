"""Handing runs to RabbitMQ: publish each run's request with confirms, then
record in the registry which ones the broker confirmed.

The registry is the outbox: a run that could not be published stays QUEUED
and unpublished there, and the outbox sweep tries again. So a publish
failure is logged and counted, never raised to the loops.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import grpc
from ferry.amqp.publisher import PublishError, RunPublisher, run_request
from ferry.logs import log_context
from ferry.v1 import run_pb2

from ferry_scheduler.dispatch import DispatchGateway

log = logging.getLogger(__name__)


class RunHandoff:
    """Publish runs and mark them published; one instance per thread (it owns
    a RunPublisher, whose connection must stay on one thread)."""

    def __init__(self, gateway: DispatchGateway, publisher: RunPublisher) -> None:
        self._gateway = gateway
        self.publisher = publisher
        self.failures = 0

    def publish(self, runs: Iterable[run_pb2.Run], *, publish_count: int = 1) -> list[str]:
        """Publish ``runs`` in order and mark the confirmed ones published.
        Stops at the first publish failure (the broker is likely down); returns
        the ids confirmed."""
        confirmed: list[str] = []
        for run in runs:
            with log_context(run_id=run.id, profile=run.profile):
                try:
                    self.publisher.publish(run_request(run.id, run.profile, max(run.attempt, 1),
                                                       publish_count=publish_count))
                except PublishError as exc:
                    self.failures += 1
                    log.warning("run request not published; it stays queued for the outbox "
                                "sweep: %s", exc)
                    break
                confirmed.append(run.id)
                log.debug("run request published")
        if confirmed:
            try:
                self._gateway.mark_published(confirmed)
            except grpc.RpcError as exc:
                # Published but not marked: the sweep re-publishes later, and the
                # runner drops the duplicate (the run is claimed once).
                log.warning("could not mark %d runs published: %s", len(confirmed),
                            exc.code() if hasattr(exc, "code") else exc)
        return confirmed
