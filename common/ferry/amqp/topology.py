"""Ferry's RabbitMQ topology: every queue and exchange name comes from here.

- ``<prefix>.runs`` (direct exchange) routes run requests to
  ``<prefix>.run-requests``: a durable quorum queue with a delivery limit,
  dead-lettering (at-least-once) to ``<prefix>.dlx`` → ``<prefix>.run-requests.dead``.
- ``<prefix>.runs`` also routes runner tasks (routing key ``runner-task``) to
  ``<prefix>.runner-tasks``: a durable quorum queue any runner consumes
  besides the run requests, so a short task never waits behind long runs.
- ``<prefix>.run-events`` (topic exchange) carries run lifecycle events
  (``ferry.v1.RunLifecycleEvent``) with routing keys ``run.<status>``:
  ``run.queued``, ``run.started`` (RUNNING), ``run.completed``, ``run.warning``,
  ``run.failed``, ``run.unchanged``, ``run.cancelled`` (``run_event_routing_key``),
  and profile lifecycle events (``ferry.v1.ProfileLifecycleEvent``) with
  ``profile.stale`` (``PROFILE_STALE_ROUTING_KEY``): a profile's input has not
  changed for longer than its ``expect_change_within``.

The prefix (``FERRY_AMQP_PREFIX``, default ``ferry``) lets several Ferry
installations, or tests running side by side, share one broker.
"""

from __future__ import annotations

from dataclasses import dataclass

import pika
from pika.adapters.blocking_connection import BlockingChannel

from ferry.v1 import run_pb2

RUN_REQUEST_SCHEMA_VERSION = 1
RUN_REQUEST_CONTENT_TYPE = "application/x-protobuf; proto=ferry.v1.RunRequest"
RUNNER_TASK_SCHEMA_VERSION = 1
RUNNER_TASK_CONTENT_TYPE = "application/x-protobuf; proto=ferry.v1.RunnerTaskRequest"
RUN_EVENT_SCHEMA_VERSION = 1
RUN_EVENT_CONTENT_TYPE = "application/x-protobuf; proto=ferry.v1.RunLifecycleEvent"
PROFILE_EVENT_CONTENT_TYPE = "application/x-protobuf; proto=ferry.v1.ProfileLifecycleEvent"
PROFILE_STALE_ROUTING_KEY = "profile.stale"

# RunStatus number -> routing key on the run-events exchange (RUNNING is "started").
RUN_EVENT_ROUTING_KEYS = {
    run_pb2.RUN_STATUS_QUEUED: "run.queued",
    run_pb2.RUN_STATUS_RUNNING: "run.started",
    run_pb2.RUN_STATUS_COMPLETED: "run.completed",
    run_pb2.RUN_STATUS_WARNING: "run.warning",
    run_pb2.RUN_STATUS_FAILED: "run.failed",
    run_pb2.RUN_STATUS_CANCELLED: "run.cancelled",
    run_pb2.RUN_STATUS_UNCHANGED: "run.unchanged",
}


def run_event_routing_key(status: int) -> str:
    """``run.<status>`` for a ``ferry.v1.RunStatus``; ValueError for UNSPECIFIED or unknown."""
    try:
        return RUN_EVENT_ROUTING_KEYS[status]
    except KeyError:
        raise ValueError(f"no run event for run status {status}") from None


@dataclass(frozen=True)
class Topology:
    prefix: str = "ferry"
    delivery_limit: int = 5

    @property
    def run_exchange(self) -> str:
        return f"{self.prefix}.runs"

    @property
    def run_queue(self) -> str:
        return f"{self.prefix}.run-requests"

    @property
    def run_routing_key(self) -> str:
        return "run-request"

    @property
    def runner_task_queue(self) -> str:
        return f"{self.prefix}.runner-tasks"

    @property
    def runner_task_routing_key(self) -> str:
        return "runner-task"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dlx"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.prefix}.run-requests.dead"

    @property
    def events_exchange(self) -> str:
        return f"{self.prefix}.run-events"

    def declare(self, channel: BlockingChannel) -> None:
        """Declare everything (idempotent; safe from every process at start-up)."""
        channel.exchange_declare(self.dead_letter_exchange, exchange_type="fanout", durable=True)
        channel.queue_declare(self.dead_letter_queue, durable=True,
                              arguments={"x-queue-type": "quorum"})
        channel.queue_bind(self.dead_letter_queue, self.dead_letter_exchange)
        channel.exchange_declare(self.run_exchange, exchange_type="direct", durable=True)
        channel.queue_declare(self.run_queue, durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        })
        channel.queue_bind(self.run_queue, self.run_exchange, routing_key=self.run_routing_key)
        channel.queue_declare(self.runner_task_queue, durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-strategy": "at-least-once",
        })
        channel.queue_bind(self.runner_task_queue, self.run_exchange,
                           routing_key=self.runner_task_routing_key)
        channel.exchange_declare(self.events_exchange, exchange_type="topic", durable=True)

    def delete(self, channel: BlockingChannel) -> None:
        """Remove everything (tests clean up with this)."""
        for queue in (self.run_queue, self.runner_task_queue, self.dead_letter_queue):
            channel.queue_delete(queue)
        for exchange in (self.run_exchange, self.dead_letter_exchange, self.events_exchange):
            channel.exchange_delete(exchange)


def connection_parameters(url: str, *, heartbeat: int = 30,
                          client_name: str = "ferry") -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat
    params.blocked_connection_timeout = 60
    params.connection_attempts = 1
    params.client_properties = {"connection_name": client_name}
    return params
