"""Publishing to RabbitMQ with confirms, the way Dramatiq's RabbitmqBroker does.

``ConfirmingPublisher`` owns one lazily opened connection and a channel in
confirm mode: ``send`` returns only once the broker has the message. A lost
connection or channel is re-opened with a bounded tenacity retry; when that
runs out it raises :class:`PublishError`, and when the broker rejects the
message (nack, or unroutable with ``mandatory``) :class:`BrokerRefusedError`.

- ``RunPublisher.publish`` sends one ``ferry.v1.RunRequest`` to the run
  exchange, persistent, ``mandatory=True``. On failure the caller leaves the run
  QUEUED in the registry and the outbox sweep publishes it later.
  ``RunPublisher.publish_many`` sends several back to back and waits once for
  all their confirms, with the outcome of each.
- ``RunEventPublisher.publish`` sends one ``ferry.v1.RunLifecycleEvent`` to the
  run-events topic exchange, persistent, not mandatory (an event nobody is bound
  for is dropped by the broker, which is what a topic is for).
  ``RunEventPublisher.publish_many`` sends several and then waits for all their
  confirms at once (pipelined confirms: one broker round trip per batch instead
  of one per event); it reports, per event, whether the broker took it.

pika's BlockingConnection is not thread-safe: give each publishing thread its
own publisher. A lock still serialises calls made on one instance.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self, TypeVar

import pika
import pika.exceptions
import pika.frame
import pika.spec
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
    RUN_EVENT_CONTENT_TYPE,
    RUN_EVENT_SCHEMA_VERSION,
    RUN_REQUEST_CONTENT_TYPE,
    RUN_REQUEST_SCHEMA_VERSION,
    Topology,
    connection_parameters,
    run_event_routing_key,
)
from ferry.errors import UnavailableError
from ferry.v1 import run_pb2, run_request_pb2

T = TypeVar("T")

log = logging.getLogger(__name__)

# Failures worth reconnecting for; anything else is a bug or a rejection.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.StreamLostError,
    ConnectionError,
    OSError,
)


# Outcomes of one message of ``ConfirmingPublisher.send_many``.
CONFIRMED, RETURNED, NACKED = "confirmed", "returned", "nacked"


class PublishError(UnavailableError):
    """A message could not be published (broker unreachable, or it refused the
    message). For a run request: the run stays QUEUED in the registry; publish
    it again later."""


class BrokerRefusedError(PublishError):
    """The broker answered, and refused the message (nack, or returned it as
    unroutable): publishing the same message again will likely fail again."""


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


def run_lifecycle_event(run: run_pb2.Run, event_time: datetime, *, sequence: int = 0,
                        event_id: str | None = None) -> run_pb2.RunLifecycleEvent:
    """The event announcing that ``run`` entered its current status (schema version 1);
    ``sequence`` is the timeline sequence of that change."""
    message = run_pb2.RunLifecycleEvent(
        schema_version=RUN_EVENT_SCHEMA_VERSION, event_id=event_id or uuid.uuid4().hex,
        routing_key=run_event_routing_key(run.status), run=run, sequence=sequence)
    message.event_time.FromDatetime(event_time)
    return message


class ConfirmingPublisher:
    """Publishes with confirms on one lazily opened connection."""

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
        # Pipelined confirms (``send_many``): outcome per delivery tag of this channel.
        self._pipelined = False
        self._next_tag = 0
        self._outcomes: dict[int, bool | None] = {}
        self._unconfirmed = 0
        self._returned: set[str] = set()

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
        if self._pipelined:
            self._confirm_pipelined(channel)
        else:
            channel.confirm_delivery()
        self._channel = channel
        return channel

    def _confirm_pipelined(self, channel: BlockingChannel) -> None:
        """Confirm mode without BlockingChannel's one-message-at-a-time wait: acks
        and nacks land in ``_outcomes`` (pika's channel implementation, driven by
        the blocking connection's I/O loop like ``BlockingChannel`` itself)."""
        self._next_tag = 0
        self._outcomes = {}
        self._unconfirmed = 0
        selected: list[bool] = []
        self._returned = set()
        channel._impl.confirm_delivery(ack_nack_callback=self._on_confirm,  # noqa: SLF001
                                       callback=lambda _frame: selected.append(True))
        # A mandatory message nobody can take comes back (basic.return) before
        # its ack; it is told apart by its message_id.
        channel._impl.add_on_return_callback(self._on_return)  # noqa: SLF001
        channel._flush_output(lambda: bool(selected))  # noqa: SLF001

    def _on_return(self, _channel: object, _method: object, properties: pika.BasicProperties,
                   _body: bytes) -> None:
        self._returned.add(properties.message_id or "")

    def _on_confirm(self, frame: pika.frame.Method) -> None:
        method = frame.method
        acked = isinstance(method, pika.spec.Basic.Ack)
        tags = [method.delivery_tag]
        if method.multiple:
            tags = [t for t, v in self._outcomes.items() if v is None and t <= method.delivery_tag]
        for tag in tags:
            if self._outcomes.get(tag, False) is None:
                self._outcomes[tag] = acked
                self._unconfirmed -= 1

    def _close_quietly(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken; nothing to save
                log.debug("closing a broken AMQP connection failed", exc_info=True)

    @property
    def is_open(self) -> bool:
        channel = self._channel
        return channel is not None and channel.is_open

    def connect(self) -> None:
        """Open the connection (declaring the topology) unless it is open. Raises
        :class:`PublishError` when the broker cannot be reached."""
        with self._lock:
            try:
                self._open_channel()
            except TRANSIENT_ERRORS as exc:
                self._close_quietly()
                raise PublishError(f"cannot connect to RabbitMQ: {exc!r}") from exc

    def close(self) -> None:
        with self._lock:
            self._close_quietly()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- publishing ------------------------------------------------------------

    def send(self, exchange: str, routing_key: str, body: bytes,
             properties: pika.BasicProperties, *, mandatory: bool, what: str,
             destination: str) -> None:
        """Publish one message; return once the broker confirmed it. ``what``
        (``run r-1``) and ``destination`` (a queue or exchange) word the errors.
        Raises :class:`PublishError`, or :class:`BrokerRefusedError`."""
        if self._pipelined:
            outcome = self.send_many([(exchange, routing_key, body, properties)],
                                     what=f"{what} to {exchange}", mandatory=mandatory,
                                     retry=True)[0]
            if outcome == RETURNED:
                raise BrokerRefusedError(f"{what}: the broker returned the message "
                                         f"(no queue bound to {exchange})")
            if outcome == NACKED:
                raise BrokerRefusedError(f"{what}: the broker refused the message "
                                         f"({destination} full or failing)")
            return
        with self._lock:
            try:
                self._retrying(lambda: self._publish_once(exchange, routing_key, body,
                                                          properties, mandatory))
            except RetryError as exc:
                cause = exc.last_attempt.exception()
                raise PublishError(f"cannot publish {what} to {exchange}: {cause!r}") from cause
            except pika.exceptions.UnroutableError:
                raise BrokerRefusedError(f"{what}: the broker returned the message "
                                         f"(no queue bound to {exchange})") from None
            except pika.exceptions.NackError:
                raise BrokerRefusedError(f"{what}: the broker refused the message "
                                         f"({destination} full or failing)") from None
        self.published += 1

    def _retrying(self, publish: Callable[[], T]) -> T:
        """``publish()`` under the retry policy; a transient failure closes
        the connection first, so the next attempt opens a new one."""
        for attempt in self._retry.retrying():
            with attempt:
                try:
                    return publish()
                except TRANSIENT_ERRORS:
                    self._close_quietly()
                    raise
        raise AssertionError("unreachable: tenacity returns or raises RetryError")

    def _publish_once(self, exchange: str, routing_key: str, body: bytes,
                      properties: pika.BasicProperties, mandatory: bool) -> None:
        channel = self._open_channel()
        channel.basic_publish(exchange, routing_key, body, properties, mandatory=mandatory)

    def send_many(self, messages: list[tuple[str, str, bytes, pika.BasicProperties]], *,
                  what: str, mandatory: bool = False, retry: bool = False) -> list[str]:
        """Publish ``(exchange, routing_key, body, properties)`` messages back to
        back, then wait once for all their confirms (pipelined confirms). Returns
        per message ``CONFIRMED``, ``RETURNED`` (mandatory and unroutable; told
        apart by ``message_id``) or ``NACKED``. Raises :class:`PublishError` when
        the connection fails before every confirm came (then no outcome is
        known: send them again); with ``retry`` the batch is sent again on a new
        connection first, as ``send`` does."""
        if not self._pipelined:
            raise TypeError("send_many needs a publisher with pipelined confirms")
        with self._lock:
            if not retry:
                try:
                    outcomes = self._send_many_once(messages, mandatory)
                except TRANSIENT_ERRORS as exc:
                    self._close_quietly()
                    raise PublishError(f"cannot publish {what}: {exc!r}") from exc
            else:
                try:
                    outcomes = self._retrying(
                        lambda: self._send_many_once(messages, mandatory))
                except RetryError as exc:
                    cause = exc.last_attempt.exception()
                    raise PublishError(f"cannot publish {what}: {cause!r}") from cause
        self.published += outcomes.count(CONFIRMED)
        return outcomes

    def _send_many_once(self, messages: list[tuple[str, str, bytes, pika.BasicProperties]],
                        mandatory: bool) -> list[str]:
        channel = self._open_channel()
        tags = []
        self._returned.clear()
        for exchange, routing_key, body, properties in messages:
            channel._impl.basic_publish(exchange, routing_key, body,  # noqa: SLF001
                                        properties, mandatory)
            self._next_tag += 1
            self._outcomes[self._next_tag] = None
            self._unconfirmed += 1
            tags.append(self._next_tag)
        channel._flush_output(lambda: self._unconfirmed == 0)  # noqa: SLF001
        outcomes = []
        for tag, (_, _, _, properties) in zip(tags, messages, strict=True):
            acked = self._outcomes.pop(tag)
            if not acked:
                outcomes.append(NACKED)
            elif mandatory and (properties.message_id or "") in self._returned:
                outcomes.append(RETURNED)
            else:
                outcomes.append(CONFIRMED)
        return outcomes

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


class RunPublisher(ConfirmingPublisher):
    """Publishes run requests to the run queue (pipelined confirms)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pipelined = True

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
              message.SerializeToString(), self._properties(message)) for message in messages],
            what=f"{what} to {self.topology.run_exchange}", mandatory=True, retry=True)
        return [self._refusal(message, outcome) for message, outcome in
                zip(messages, outcomes, strict=True)]

    def _refusal(self, message: run_request_pb2.RunRequest,
                 outcome: str) -> BrokerRefusedError | None:
        if outcome == CONFIRMED:
            return None
        if outcome == RETURNED:
            return BrokerRefusedError(f"run {message.run_id}: the broker returned the message "
                                      f"(no queue bound to {self.topology.run_exchange})")
        return BrokerRefusedError(f"run {message.run_id}: the broker refused the message "
                                  f"({self.topology.run_queue} full or failing)")

    @staticmethod
    def _properties(message: run_request_pb2.RunRequest) -> pika.BasicProperties:
        return pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=RUN_REQUEST_CONTENT_TYPE,
            message_id=f"{message.run_id}:{message.attempt}:{message.publish_count}",
            type="ferry.v1.RunRequest",
            headers={"schema_version": message.schema_version or RUN_REQUEST_SCHEMA_VERSION,
                     "run_id": message.run_id},
        )


class RunEventPublisher(ConfirmingPublisher):
    """Publishes run lifecycle events to the run-events topic exchange."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pipelined = True

    def publish(self, event: run_pb2.RunLifecycleEvent) -> None:
        """Publish one event with its routing key; return once the broker confirmed
        it. Raises :class:`PublishError` when it cannot, :class:`BrokerRefusedError`
        when the broker nacked it."""
        if not self.publish_many([event])[0]:
            raise BrokerRefusedError(f"{event.routing_key} event of run {event.run.id}: the "
                                     f"broker refused the message "
                                     f"({self.topology.events_exchange} failing)")

    def publish_many(self, events: list[run_pb2.RunLifecycleEvent]) -> list[bool]:
        """Publish events in order with pipelined confirms; per event, True when
        the broker confirmed it, False when it nacked it. Raises
        :class:`PublishError` when the connection fails first."""
        outcomes = self.send_many([(self.topology.events_exchange, event.routing_key,
                                    event.SerializeToString(), self._properties(event))
                                   for event in events],
                                  what=f"{len(events)} run events to "
                                       f"{self.topology.events_exchange}")
        return [outcome == CONFIRMED for outcome in outcomes]

    @staticmethod
    def _properties(event: run_pb2.RunLifecycleEvent) -> pika.BasicProperties:
        return pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=RUN_EVENT_CONTENT_TYPE,
            message_id=event.event_id,
            type="ferry.v1.RunLifecycleEvent",
            timestamp=int(event.event_time.seconds),
            headers={"schema_version": event.schema_version or RUN_EVENT_SCHEMA_VERSION,
                     "run_id": event.run.id, "profile": event.run.profile,
                     "attempt": event.run.attempt, "sequence": event.sequence},
        )
