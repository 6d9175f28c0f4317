"""Consuming a queue the Dramatiq way: one connection, work off its thread.

``MessageConsumer`` owns a dedicated ``pika.BlockingConnection``. Its thread
(the one calling ``run()``) only talks to the broker: it keeps
``process_data_events`` flowing so heartbeats are answered however long the
work takes. Each delivery is handed to a worker thread; the handler settles it
with ``delivery.ack()`` or ``delivery.nack(requeue=...)``, which are passed back
to the connection thread with ``connection.add_callback_threadsafe`` (pika's
BlockingConnection is not thread-safe).

Capacity is ``prefetch`` handlers at a time. Because handlers may ack early
(the runner acks once its claim is durable, then keeps working), the broker's
prefetch alone does not bound the work. A delivery that arrives while every
worker is busy waits in a local line (it is unacked, so the broker's prefetch
bounds the line to ``prefetch`` messages) and the next worker to free up takes
it at once, with no broker round trip: short handlers run back to back. If a
delivery has waited ``hold`` seconds (long handlers), the consumer cancels its
subscription, hands the waiting deliveries back (``nack(requeue=True)``, so
another consumer can take them) and subscribes again when a worker frees up.

A lost connection is re-opened at once, a refused one after capped exponential
backoff with jitter (``RECONNECT``, through ``ferry.retry.keep_trying``), until
``stop()``. Deliveries of the old connection can no longer be settled; the
broker redelivers them, which is safe because the handler is idempotent (a
claimed or finished run is dropped as duplicate).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pika

from ferry.amqp.errors import TRANSIENT_AMQP_ERRORS
from ferry.amqp.topology import Topology, connection_parameters
from ferry.retry import RetryNotice, RetrySettings, describe_error, keep_trying

log = logging.getLogger(__name__)

# Until stopped: 0.5 s doubling to 5 s, plus up to 0.5 s of jitter.
RECONNECT = RetrySettings.forever(initial_backoff=0.5, max_backoff=5.0,
                                  retry_on=TRANSIENT_AMQP_ERRORS)


@dataclass
class Delivery:
    """One message handed to a handler; settle it exactly once."""

    body: bytes
    properties: pika.BasicProperties
    delivery_tag: int
    redelivered: bool
    consumer: MessageConsumer = field(repr=False)
    generation: int = 0
    settled: str = ""

    @property
    def content_type(self) -> str:
        return self.properties.content_type or ""

    @property
    def delivery_count(self) -> int:
        headers = self.properties.headers or {}
        try:
            return int(headers.get("x-delivery-count", 0))
        except (TypeError, ValueError):
            return 0

    def ack(self) -> bool:
        return self._settle("ack", lambda ch: ch.basic_ack(self.delivery_tag))

    def nack(self, *, requeue: bool) -> bool:
        return self._settle("nack-requeue" if requeue else "nack-dead-letter",
                            lambda ch: ch.basic_nack(self.delivery_tag, requeue=requeue))

    def _settle(self, how: str, action: Callable[[Any], None]) -> bool:
        if self.settled:
            log.warning("delivery %s already settled (%s); ignoring %s",
                        self.delivery_tag, self.settled, how)
            return False
        self.settled = how
        return self.consumer.on_connection_thread(self.generation, action)


Handler = Callable[[Delivery], None]


class MessageConsumer:
    """Consume ``queue`` with ``prefetch`` handlers in worker threads."""

    def __init__(self, url: str, queue: str, handler: Handler, *, prefetch: int = 1,
                 topology: Topology | None = None, client_name: str = "ferry-consumer",
                 heartbeat: int = 30, reconnect: RetrySettings = RECONNECT,
                 on_connected: Callable[[bool], None] | None = None,
                 hold: float = 1.0) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self._url = url
        self._queue = queue
        self._handler = handler
        self._prefetch = prefetch
        self._topology = topology
        self._client_name = client_name
        self._heartbeat = heartbeat
        self._reconnect = reconnect
        self._on_connected = on_connected
        self._hold = hold
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0
        self._generation = 0
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None
        self._consumer_tag: str | None = None
        # Deliveries waiting for a free worker, with their arrival times.
        self._waiting: deque[tuple[float, Delivery]] = deque()
        self._pool = ThreadPoolExecutor(max_workers=prefetch, thread_name_prefix="worker")
        self._idle = threading.Condition(self._lock)

    # -- public ---------------------------------------------------------------

    def run(self) -> None:
        """Consume until ``stop()``; reconnects (``ferry.retry.keep_trying`` with
        the ``reconnect`` settings) when the broker goes."""
        try:
            keep_trying(self._session, self._reconnect, what="broker connection",
                        stop_event=self._stop, log_retry=self._log_reconnect)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop taking new messages (thread-safe). ``run()`` returns once the
        handlers in progress have finished."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no handler is running; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def on_connection_thread(self, generation: int, action: Callable[[Any], None]) -> bool:
        """Run ``action(channel)`` on the connection thread; False when the
        connection the delivery came on is gone (the broker will redeliver)."""
        connection = self._connection
        if generation != self._generation or connection is None or not connection.is_open:
            log.warning("connection of the delivery is gone; the broker will redeliver it")
            return False
        channel = self._channel

        def run() -> None:
            if generation != self._generation or channel is None or not channel.is_open:
                log.warning("channel of the delivery closed before it was settled")
                return
            action(channel)

        try:
            connection.add_callback_threadsafe(run)
        except Exception as exc:  # noqa: BLE001 - closed under our feet
            log.warning("cannot settle delivery: %s", exc)
            return False
        return True

    # -- connection thread ------------------------------------------------------

    def _session(self, connected: Callable[[], None]) -> None:
        """One connection: consume on it until stopped, or until it breaks."""
        try:
            self._connect()
            connected()
            self._loop()
        except TRANSIENT_AMQP_ERRORS:
            self._notify_connected(False)
            self._drop_connection()
            raise

    @staticmethod
    def _log_reconnect(notice: RetryNotice) -> None:
        log.warning("broker connection lost or refused (%s); reconnecting in %.1fs",
                    describe_error(notice.error), notice.wait)

    def _connect(self) -> None:
        params = connection_parameters(self._url, heartbeat=self._heartbeat,
                                       client_name=self._client_name)
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.basic_qos(prefetch_count=self._prefetch)
        if self._topology is not None:
            self._topology.declare(channel)
        with self._lock:
            self._generation += 1
            self._connection = connection
            self._channel = channel
            self._consumer_tag = None
        log.info("connected to the broker; consuming %s (prefetch %d)",
                 self._queue, self._prefetch)
        self._notify_connected(True)

    def _loop(self) -> None:
        assert self._connection is not None
        while not self._stop.is_set():
            self._adjust_subscription()
            self._connection.process_data_events(time_limit=0.2)
        self._cancel()
        self._hand_back_waiting()
        # Keep the connection serviced (heartbeats, acks from workers) until
        # the handlers in progress are done.
        while self.busy:
            self._connection.process_data_events(time_limit=0.2)
        self._connection.process_data_events(time_limit=0)

    def _adjust_subscription(self) -> None:
        with self._lock:
            full = self._busy >= self._prefetch
            oldest = self._waiting[0][0] if self._waiting else None
        if oldest is not None and time.monotonic() - oldest >= self._hold:
            # Every worker has been busy for a while: let other consumers
            # have what waits here, and take nothing more until one frees up.
            self._cancel()
            self._hand_back_waiting()
        elif not full and self._consumer_tag is None and not self._stop.is_set():
            self._consumer_tag = self._channel.basic_consume(
                self._queue, self._on_message, auto_ack=False)

    def _cancel(self) -> None:
        if self._consumer_tag is not None and self._channel is not None \
                and self._channel.is_open:
            tag, self._consumer_tag = self._consumer_tag, None
            # Messages sent but not yet dispatched are nacked back by pika.
            self._channel.basic_cancel(tag)

    def _hand_back_waiting(self) -> None:
        with self._lock:
            waiting = [delivery for _, delivery in self._waiting]
            self._waiting.clear()
        for delivery in waiting:
            delivery.nack(requeue=True)

    def _on_message(self, channel: Any, method: Any, properties: pika.BasicProperties,
                    body: bytes) -> None:
        delivery = Delivery(body=body, properties=properties,
                            delivery_tag=method.delivery_tag, redelivered=method.redelivered,
                            consumer=self, generation=self._generation)
        with self._lock:
            if self._busy >= self._prefetch:
                self._waiting.append((time.monotonic(), delivery))
                return
            self._busy += 1
        self._pool.submit(self._work, delivery)

    def _wake(self) -> None:
        """Have the connection thread look at the subscription now (a worker
        freed up while it was cancelled)."""
        connection = self._connection
        if self._consumer_tag is None and connection is not None and connection.is_open:
            try:
                connection.add_callback_threadsafe(lambda: None)
            except Exception:  # noqa: BLE001 - closing: the loop notices by itself
                pass

    # -- worker threads ---------------------------------------------------------

    def _work(self, delivery: Delivery | None) -> None:
        while delivery is not None:
            self._handle(delivery)
            with self._idle:
                # Take the next waiting delivery of the same connection, if any.
                delivery = None
                while self._waiting and not self._stop.is_set():
                    _, candidate = self._waiting.popleft()
                    if candidate.generation == self._generation:
                        delivery = candidate
                        break
                if delivery is None:
                    self._busy -= 1
                    self._idle.notify_all()
        self._wake()

    def _handle(self, delivery: Delivery) -> None:
        try:
            self._handler(delivery)
        except Exception:  # noqa: BLE001 - a handler bug must not kill the worker
            log.exception("handler failed on delivery %s", delivery.delivery_tag)
        finally:
            if not delivery.settled:
                # Bounded by the queue's delivery limit, then dead-lettered.
                log.error("handler left delivery %s unsettled; requeueing it",
                          delivery.delivery_tag)
                delivery.nack(requeue=True)

    # -- teardown -----------------------------------------------------------------

    def _notify_connected(self, connected: bool) -> None:
        if self._on_connected is not None:
            try:
                self._on_connected(connected)
            except Exception:  # noqa: BLE001
                log.exception("on_connected callback failed")

    def _drop_connection(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            self._channel = None
            self._consumer_tag = None
            self._generation += 1
            # They came on the old connection: the broker redelivers them.
            self._waiting.clear()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def _close(self) -> None:
        # Handlers may still run if the loop ended on a connection error.
        self._pool.shutdown(wait=True)
        self._drop_connection()
        log.info("consumer stopped")
