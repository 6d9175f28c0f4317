"""What can go wrong talking to RabbitMQ: the transient pika errors (the one
tuple every reconnect and publish retry uses) and the publisher's errors."""

from __future__ import annotations

import pika.exceptions

from ferry.errors import UnavailableError

# The connection or channel broke or could not be opened: reconnecting may
# help. Anything else is a bug or a refusal of the message itself.
TRANSIENT_AMQP_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.StreamLostError,
    ConnectionError,
    OSError,
)


class PublishError(UnavailableError):
    """A message could not be published (broker unreachable, or it refused the
    message). For a run request: the run stays QUEUED in the registry; publish
    it again later."""


class BrokerRefusedError(PublishError):
    """The broker answered, and refused the message (nack, or returned it as
    unroutable): publishing the same message again will likely fail again."""
