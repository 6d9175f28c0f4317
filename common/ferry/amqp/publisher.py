"""Publishing to RabbitMQ with confirms, the way Dramatiq's RabbitmqBroker does.

``ConfirmingPublisher`` owns one lazily opened connection and a channel with
pipelined confirms (``confirms.PipelinedConfirms``): ``send_many`` publishes a
batch back to back and waits once for all its confirms (one broker round trip
per batch), with the outcome of each message. A lost connection or channel is
re-opened under the publisher's ``RetrySettings`` (``PUBLISH_RETRY``: a
bounded retry of ``TRANSIENT_AMQP_ERRORS``); when that runs out it raises
:class:`PublishError`.

- ``RunPublisher.publish_many`` sends ``ferry.v1.RunRequest`` messages to the
  run exchange, persistent, ``mandatory=True``, and reports per request None
  or the :class:`BrokerRefusedError` saying why the broker refused it (nack,
  or returned as unroutable). ``publish`` sends one and raises instead. On
  failure the caller leaves the run QUEUED in the registry and the outbox
  sweep publishes it later.
- ``RunEventPublisher.publish_many`` sends ``ferry.v1.RunLifecycleEvent``
  (and ``ferry.v1.ProfileLifecycleEvent``) messages to the run-events topic
  exchange, persistent, not mandatory (an event nobody is bound for is dropped
  by the broker, which is what a topic is for), and reports per event whether
  the broker took it. The registry's relay thread paces its reconnects itself:
  it gives this publisher a single try (``SINGLE_TRY``).

pika's BlockingConnection is not thread-safe: give each publishing thread its
own publisher. A lock still serialises calls made on one instance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Self

import pika
from pika.adapters.blocking_connection import BlockingConnection

from ferry.amqp.confirms import Message, PipelinedConfirms, PublishOutcome
from ferry.amqp.errors import TRANSIENT_AMQP_ERRORS, BrokerRefusedError, PublishError
from ferry.amqp.messages import (
    LifecycleEvent,
    lifecycle_event_properties,
    run_request_properties,
    runner_task_properties,
)
from ferry.amqp.topology import Topology, connection_parameters
from ferry.retry import RetrySettings
from ferry.v1 import run_request_pb2, runner_task_pb2

log = logging.getLogger(__name__)

# How hard one publish tries before giving up: reconnect twice, quickly.
PUBLISH_RETRY = RetrySettings(max_attempts=3, initial_backoff=0.2, max_backoff=2.0,
                              max_elapsed=None, retry_on=TRANSIENT_AMQP_ERRORS)
SINGLE_TRY = RetrySettings(max_attempts=1, max_elapsed=None, retry_on=TRANSIENT_AMQP_ERRORS)


class ConfirmingPublisher:
    """Publishes with pipelined confirms on one lazily opened connection."""

    default_retry = PUBLISH_RETRY

    def __init__(self, url: str, topology: Topology, *, client_name: str = "ferry-publisher",
                 retry: RetrySettings | None = None, declare: bool = True,
                 connect: Callable[[pika.URLParameters], BlockingConnection] | None = None,
                 ) -> None:
        self._url = url
        self.topology = topology
        self._client_name = client_name
        self._declare = declare
        self._connect = connect or pika.BlockingConnection
        self._connection: BlockingConnection | None = None
        self._confirms: PipelinedConfirms | None = None
        self._lock = threading.Lock()
        # Built once: the publish path should not pay for it per batch.
        self._retrying = (retry or self.default_retry).retrying(
            what=f"AMQP publish ({client_name})", logger=log)
        self.published = 0

    # -- connection ------------------------------------------------------------

    def _open_channel(self) -> PipelinedConfirms:
        if self._confirms is not None and self._confirms.is_open:
            return self._confirms
        self._close_quietly()
        params = connection_parameters(self._url, client_name=self._client_name)
        params.socket_timeout = 5
        self._connection = self._connect(params)
        channel = self._connection.channel()
        if self._declare:
            self.topology.declare(channel)
        self._confirms = PipelinedConfirms(channel)
        return self._confirms

    def _close_quietly(self) -> None:
        connection, self._connection, self._confirms = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken; nothing to save
                log.debug("closing a broken AMQP connection failed", exc_info=True)

    @property
    def is_open(self) -> bool:
        confirms = self._confirms
        return confirms is not None and confirms.is_open

    def connect(self) -> None:
        """Open the connection (declaring the topology) unless it is open. Raises
        :class:`PublishError` when the broker cannot be reached."""
        with self._lock:
            try:
                self._open_channel()
            except TRANSIENT_AMQP_ERRORS as exc:
                self._close_quietly()
                raise PublishError(f"cannot connect to RabbitMQ: {exc!r}") from exc

    def close(self) -> None:
        with self._lock:
            self._close_quietly()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def process_events(self) -> None:
        """Let pika answer heartbeats while this thread has nothing to publish."""
        with self._lock:
            connection = self._connection
            if connection is None or not connection.is_open:
                return
            try:
                connection.process_data_events(time_limit=0)
            except TRANSIENT_AMQP_ERRORS:
                self._close_quietly()

    # -- publishing ------------------------------------------------------------

    def send_many(self, messages: list[Message], *, what: str,
                  mandatory: bool = False) -> list[PublishOutcome]:
        """Publish ``(exchange, routing_key, body, properties)`` messages back to
        back, then wait once for all their confirms; the outcome of each message,
        in order (a returned one is told apart by its ``message_id``). A broken
        connection is re-opened and the whole batch sent again, under the
        publisher's retry settings; when they run out, raises
        :class:`PublishError` (then no outcome is known: send them again).
        ``what`` (``3 run requests to ferry.runs``) words the error."""
        with self._lock:
            try:
                outcomes = self._retrying(self._send_once, messages, mandatory)
            except TRANSIENT_AMQP_ERRORS as exc:
                raise PublishError(f"cannot publish {what}: {exc!r}") from exc
        self.published += outcomes.count(PublishOutcome.CONFIRMED)
        return outcomes

    def _send_once(self, messages: list[Message], mandatory: bool) -> list[PublishOutcome]:
        """One try; a transient failure closes the connection first, so the next
        try opens a new one."""
        try:
            return self._open_channel().publish(messages, mandatory=mandatory)
        except TRANSIENT_AMQP_ERRORS:
            self._close_quietly()
            raise


class RunPublisher(ConfirmingPublisher):
    """Publishes run requests to the run queue."""

    def publish(self, message: run_request_pb2.RunRequest) -> None:
        """Publish one request; return once the broker confirmed it. Raises
        :class:`PublishError` when it cannot (:class:`BrokerRefusedError` when
        the broker returned or nacked it)."""
        error = self.publish_many([message])[0]
        if error is not None:
            raise error

    def publish_many(self, messages: list[run_request_pb2.RunRequest]
                     ) -> list[BrokerRefusedError | None]:
        """Publish requests back to back and wait once for all their confirms.
        Per request: None when the broker has it on the queue, else the
        :class:`BrokerRefusedError` saying why. Raises :class:`PublishError` when
        the broker cannot be reached (after the bounded reconnects)."""
        if not messages:
            return []
        what = (f"run {messages[0].run_id}" if len(messages) == 1
                else f"{len(messages)} run requests")
        outcomes = self.send_many(
            [(self.topology.run_exchange, self.topology.run_routing_key,
              message.SerializeToString(), run_request_properties(message))
             for message in messages],
            what=f"{what} to {self.topology.run_exchange}", mandatory=True)
        return [self._refusal(f"run {message.run_id}", outcome, self.topology.run_queue)
                for message, outcome in zip(messages, outcomes, strict=True)]

    def publish_tasks(self, messages: list[runner_task_pb2.RunnerTaskRequest]
                      ) -> list[BrokerRefusedError | None]:
        """``publish_many`` for runner tasks (to the runner-task queue)."""
        if not messages:
            return []
        outcomes = self.send_many(
            [(self.topology.run_exchange, self.topology.runner_task_routing_key,
              message.SerializeToString(), runner_task_properties(message))
             for message in messages],
            what=f"{len(messages)} runner tasks to {self.topology.run_exchange}", mandatory=True)
        return [self._refusal(f"runner task {message.task_id}", outcome,
                              self.topology.runner_task_queue)
                for message, outcome in zip(messages, outcomes, strict=True)]

    def _refusal(self, what: str, outcome: PublishOutcome,
                 queue: str) -> BrokerRefusedError | None:
        if outcome is PublishOutcome.CONFIRMED:
            return None
        if outcome is PublishOutcome.RETURNED:
            return BrokerRefusedError(f"{what}: the broker returned the message "
                                      f"(no queue bound to {self.topology.run_exchange})")
        return BrokerRefusedError(f"{what}: the broker refused the message "
                                  f"({queue} full or failing)")


class RunEventPublisher(ConfirmingPublisher):
    """Publishes run (and profile) lifecycle events to the run-events topic exchange."""

    default_retry = SINGLE_TRY

    def publish_many(self, events: list[LifecycleEvent]) -> list[bool]:
        """Publish events in order with pipelined confirms; per event, True when
        the broker confirmed it, False when it nacked it. Raises
        :class:`PublishError` when the connection fails first."""
        outcomes = self.send_many([(self.topology.events_exchange, event.routing_key,
                                    event.SerializeToString(),
                                    lifecycle_event_properties(event))
                                   for event in events],
                                  what=f"{len(events)} run events to "
                                       f"{self.topology.events_exchange}")
        return [outcome is PublishOutcome.CONFIRMED for outcome in outcomes]
