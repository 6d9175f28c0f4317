"""Pipelined publisher confirms on a pika ``BlockingChannel``.

A ``BlockingChannel`` in confirm mode makes ``basic_publish`` wait for the
broker's confirm of each message: one broker round trip per message.
``PipelinedConfirms`` sends a batch back to back and then waits once for all
its confirms, with the outcome of each message.

pika's public blocking API cannot do that, so this class is the one place in
Ferry that calls pika's private API. Each call, and why it is needed:

- ``channel._impl``: the asynchronous ``pika.channel.Channel`` the blocking
  channel drives. On it:

  - ``confirm_delivery(ack_nack_callback=..., callback=...)``: confirm mode
    with our own callback for every ack and nack. The blocking
    ``confirm_delivery`` installs a callback that holds one confirm at a time
    and turns every ``basic_publish`` into a wait for it.
  - ``add_on_return_callback``: the blocking version queues a returned message
    until the next ``process_data_events``; this one calls us while the
    confirms are awaited, and the broker sends a message's return before its
    ack, so the outcome is known when the ack comes.
  - ``basic_publish``: the blocking version flushes the socket after every
    message (and, in confirm mode, waits for the confirm).

- ``channel._flush_output(predicate)``: runs the connection's I/O loop until
  ``predicate()`` holds (every confirm in), and raises when the channel or
  connection closes meanwhile. ``process_data_events`` can only run for a
  fixed time, not until a condition.

The outcomes are keyed by delivery tag, which is per channel: open a new
``PipelinedConfirms`` for every new channel.
"""

from __future__ import annotations

from enum import Enum

import pika
import pika.frame
import pika.spec
from pika.adapters.blocking_connection import BlockingChannel

# One message: exchange, routing key, body, properties (message_id set when
# mandatory, to tell a returned message apart).
Message = tuple[str, str, bytes, pika.BasicProperties]


class PublishOutcome(Enum):
    """What the broker did with one message."""

    CONFIRMED = "confirmed"
    RETURNED = "returned"  # mandatory, and no queue was bound for it
    NACKED = "nacked"  # the broker refused it (queue full or failing)


class PipelinedConfirms:
    """A channel in confirm mode that publishes batches and waits once per batch."""

    def __init__(self, channel: BlockingChannel) -> None:
        self._channel = channel
        self._impl = channel._impl  # noqa: SLF001 - see the module docstring
        self._next_tag = 0
        # Delivery tag -> None while unconfirmed, then True (ack) or False (nack).
        self._outcomes: dict[int, bool | None] = {}
        self._unconfirmed = 0
        self._returned: set[str] = set()
        selected: list[bool] = []
        self._impl.confirm_delivery(ack_nack_callback=self._on_confirm,
                                    callback=lambda _frame: selected.append(True))
        self._impl.add_on_return_callback(self._on_return)
        channel._flush_output(lambda: bool(selected))  # noqa: SLF001

    @property
    def is_open(self) -> bool:
        return self._channel.is_open

    def publish(self, messages: list[Message], *, mandatory: bool) -> list[PublishOutcome]:
        """Publish ``messages`` back to back, then wait for all their confirms.
        Raises pika's connection or channel error when either breaks first
        (then no outcome is known)."""
        tags = []
        self._returned.clear()
        for exchange, routing_key, body, properties in messages:
            self._impl.basic_publish(exchange, routing_key, body, properties, mandatory)
            self._next_tag += 1
            self._outcomes[self._next_tag] = None
            self._unconfirmed += 1
            tags.append(self._next_tag)
        self._channel._flush_output(lambda: self._unconfirmed == 0)  # noqa: SLF001
        outcomes = []
        for tag, (_, _, _, properties) in zip(tags, messages, strict=True):
            acked = self._outcomes.pop(tag)
            if not acked:
                outcomes.append(PublishOutcome.NACKED)
            elif mandatory and (properties.message_id or "") in self._returned:
                outcomes.append(PublishOutcome.RETURNED)
            else:
                outcomes.append(PublishOutcome.CONFIRMED)
        return outcomes

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
