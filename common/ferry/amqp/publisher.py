"""Publishing run requests to RabbitMQ, the way Dramatiq's RabbitmqBroker does.

``RunPublisher.publish`` sends one ``ferry.v1.RunRequest`` to the run exchange
as a persistent message with ``mandatory=True`` on a channel in confirm mode,
so it returns only once the broker has the message on the run queue. A lost
connection or channel is re-opened with a bounded tenacity retry; when that
runs out, or the broker rejects the message (nack, unroutable, queue full), it
raises :class:`PublishError` — the caller leaves the run QUEUED in the
registry and the outbox sweep publishes it later.

pika's BlockingConnection is not thread-safe: give each publishing thread its
own ``RunPublisher``. A lock still serialises calls made on one instance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from ferry.amqp.topology import (
    RUN_REQUEST_CONTENT_TYPE,
    RUN_REQUEST_SCHEMA_VERSION,
    Topology,
    connection_parameters,
)
from ferry.errors import UnavailableError
from ferry.v1 import run_request_pb2

log = logging.getLogger(__name__)

# Failures worth reconnecting for; anything else is a bug or a rejection.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.StreamLostError,
    ConnectionError,
    OSError,
)


class PublishError(UnavailableError):
    """A run request could not be published (broker unreachable, or it refused
    the message). The run stays QUEUED in the registry; publish it again later."""


def _log_reconnect(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning("AMQP publish failed (%s: %s), attempt %d; reconnecting in %.1fs",
                type(exc).__name__, exc, state.attempt_number, wait)


@dataclass(frozen=True)
class PublishRetry:
    """How hard to try before giving up on one publish."""

    attempts: int = 3
    initial_wait: float = 0.2
    max_wait: float = 2.0

    def retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.initial_wait, max=self.max_wait),
            retry=retry_if_exception_type(TRANSIENT_ERRORS),
            before_sleep=_log_reconnect,
            reraise=False,
        )


def run_request(run_id: str, profile: str, attempt: int, *, publish_count: int = 1,
                now: datetime | None = None) -> run_request_pb2.RunRequest:
    """The message body for one run (schema version 1)."""
    message = run_request_pb2.RunRequest(
        schema_version=RUN_REQUEST_SCHEMA_VERSION, run_id=run_id, profile=profile,
        attempt=attempt, publish_count=publish_count)
    message.publish_time.FromDatetime(now or datetime.now(UTC))
    return message


class RunPublisher:
    """Publishes run requests with confirms on one lazily opened connection."""

    def __init__(self, url: str, topology: Topology, *, client_name: str = "ferry-publisher",
                 retry: PublishRetry | None = None, declare: bool = True,
                 connect: Callable[[pika.URLParameters], BlockingConnection] | None = None,
                 ) -> None:
        self._url = url
        self.topology = topology
        self._client_name = client_name
        self._retry = retry or PublishRetry()
        self._declare = declare
        self._connect = connect or pika.BlockingConnection
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._lock = threading.Lock()
        self.published = 0

    # -- connection ------------------------------------------------------------

    def _open_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._close_quietly()
        params = connection_parameters(self._url, client_name=self._client_name)
        params.socket_timeout = 5
        self._connection = self._connect(params)
        channel = self._connection.channel()
        if self._declare:
            self.topology.declare(channel)
        channel.confirm_delivery()
        self._channel = channel
        return channel

    def _close_quietly(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken; nothing to save
                log.debug("closing a broken AMQP connection failed", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._close_quietly()

    def __enter__(self) -> RunPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- publishing ------------------------------------------------------------

    def publish(self, message: run_request_pb2.RunRequest) -> None:
        """Publish one request; return once the broker confirmed it. Raises
        :class:`PublishError` when it cannot."""
        body = message.SerializeToString()
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=RUN_REQUEST_CONTENT_TYPE,
            message_id=f"{message.run_id}:{message.attempt}:{message.publish_count}",
            type="ferry.v1.RunRequest",
            headers={"schema_version": message.schema_version or RUN_REQUEST_SCHEMA_VERSION,
                     "run_id": message.run_id},
        )
        with self._lock:
            try:
                for attempt in self._retry.retrying():
                    with attempt:
                        try:
                            self._publish_once(body, properties)
                        except TRANSIENT_ERRORS:
                            self._close_quietly()
                            raise
            except RetryError as exc:
                cause = exc.last_attempt.exception()
                raise PublishError(f"cannot publish run {message.run_id} to "
                                   f"{self.topology.run_exchange}: {cause!r}") from cause
            except pika.exceptions.UnroutableError:
                raise PublishError(f"run {message.run_id}: the broker returned the message "
                                   f"(no queue bound to {self.topology.run_exchange})") from None
            except pika.exceptions.NackError:
                raise PublishError(f"run {message.run_id}: the broker refused the message "
                                   f"({self.topology.run_queue} full or failing)") from None
        self.published += 1

    def _publish_once(self, body: bytes, properties: pika.BasicProperties) -> None:
        channel = self._open_channel()
        channel.basic_publish(self.topology.run_exchange, self.topology.run_routing_key,
                              body, properties, mandatory=True)

    def process_events(self) -> None:
        """Let pika answer heartbeats while this thread has nothing to publish."""
        with self._lock:
            connection = self._connection
            if connection is None or not connection.is_open:
                return
            try:
                connection.process_data_events(time_limit=0)
            except TRANSIENT_ERRORS:
                self._close_quietly()
