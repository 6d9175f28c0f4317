"""The messages Ferry publishes (schema version 1): their protobuf bodies and
AMQP properties.

- ``run_request``: a ``ferry.v1.RunRequest``, the wake-up for one run, sent
  to the run exchange; ``message_id`` is ``<run_id>:<attempt>:<publish_count>``.
- ``run_lifecycle_event``: a ``ferry.v1.RunLifecycleEvent`` announcing a run's
  new status, sent to the run-events topic exchange; ``message_id`` is its
  ``event_id`` (subscribers dedupe on it).
- ``profile_stale_event``: a ``ferry.v1.ProfileLifecycleEvent`` announcing that
  a profile went stale, sent to the same exchange as ``profile.stale``.
- ``lifecycle_event_properties``: the AMQP properties of either event.

- ``runner_task_request``: a ``ferry.v1.RunnerTaskRequest``, the wake-up for
  one runner task, sent to the run exchange with the runner-task routing key;
  ``message_id`` is ``task:<task_id>``.

All are persistent and carry their schema version in a header.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pika

from ferry.amqp.topology import (
    PROFILE_EVENT_CONTENT_TYPE,
    PROFILE_STALE_ROUTING_KEY,
    RUN_EVENT_CONTENT_TYPE,
    RUN_EVENT_SCHEMA_VERSION,
    RUN_REQUEST_CONTENT_TYPE,
    RUN_REQUEST_SCHEMA_VERSION,
    RUNNER_TASK_CONTENT_TYPE,
    RUNNER_TASK_SCHEMA_VERSION,
    run_event_routing_key,
)
from ferry.v1 import profile_pb2, run_pb2, run_request_pb2, runner_task_pb2

LifecycleEvent = run_pb2.RunLifecycleEvent | profile_pb2.ProfileLifecycleEvent


def run_request(run_id: str, profile: str, attempt: int, *, publish_count: int = 1,
                now: datetime | None = None) -> run_request_pb2.RunRequest:
    """The message body for one run (schema version 1)."""
    message = run_request_pb2.RunRequest(
        schema_version=RUN_REQUEST_SCHEMA_VERSION, run_id=run_id, profile=profile,
        attempt=attempt, publish_count=publish_count)
    message.publish_time.FromDatetime(now or datetime.now(UTC))
    return message


def run_request_properties(message: run_request_pb2.RunRequest) -> pika.BasicProperties:
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type=RUN_REQUEST_CONTENT_TYPE,
        message_id=f"{message.run_id}:{message.attempt}:{message.publish_count}",
        type="ferry.v1.RunRequest",
        headers={"schema_version": message.schema_version or RUN_REQUEST_SCHEMA_VERSION,
                 "run_id": message.run_id},
    )


def runner_task_request(task: runner_task_pb2.RunnerTask, *, now: datetime | None = None
                        ) -> runner_task_pb2.RunnerTaskRequest:
    """The message body for one runner task (schema version 1)."""
    message = runner_task_pb2.RunnerTaskRequest(
        schema_version=RUNNER_TASK_SCHEMA_VERSION, task_id=task.id, kind=task.kind,
        profile=task.profile)
    message.publish_time.FromDatetime(now or datetime.now(UTC))
    return message


def runner_task_properties(message: runner_task_pb2.RunnerTaskRequest) -> pika.BasicProperties:
    schema = message.schema_version or RUNNER_TASK_SCHEMA_VERSION
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent, content_type=RUNNER_TASK_CONTENT_TYPE,
        message_id=f"task:{message.task_id}", type="ferry.v1.RunnerTaskRequest",
        headers={"schema_version": schema, "task_id": message.task_id})


def run_lifecycle_event(run: run_pb2.Run, event_time: datetime, *, sequence: int = 0,
                        event_id: str | None = None) -> run_pb2.RunLifecycleEvent:
    """The event announcing that ``run`` entered its current status (schema version 1);
    ``sequence`` is the timeline sequence of that change."""
    message = run_pb2.RunLifecycleEvent(
        schema_version=RUN_EVENT_SCHEMA_VERSION, event_id=event_id or uuid.uuid4().hex,
        routing_key=run_event_routing_key(run.status), run=run, sequence=sequence)
    message.event_time.FromDatetime(event_time)
    return message


def _event_properties(event: LifecycleEvent, content_type: str,
                      **headers: object) -> pika.BasicProperties:
    """Persistent, identified by ``event_id``, typed by the message's full name."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type=content_type,
        message_id=event.event_id,
        type=event.DESCRIPTOR.full_name,
        timestamp=int(event.event_time.seconds),
        headers={"schema_version": event.schema_version or RUN_EVENT_SCHEMA_VERSION,
                 **headers},
    )


def run_event_properties(event: run_pb2.RunLifecycleEvent) -> pika.BasicProperties:
    return _event_properties(event, RUN_EVENT_CONTENT_TYPE, run_id=event.run.id,
                             profile=event.run.profile, attempt=event.run.attempt,
                             sequence=event.sequence)


def profile_stale_event(profile: str, event_time: datetime, *, stale_since: datetime,
                        last_change: datetime, expect_change_within: timedelta,
                        event_id: str | None = None) -> profile_pb2.ProfileLifecycleEvent:
    """The event announcing that ``profile`` is stale since ``stale_since`` (schema 1)."""
    message = profile_pb2.ProfileLifecycleEvent(
        schema_version=RUN_EVENT_SCHEMA_VERSION, event_id=event_id or uuid.uuid4().hex,
        routing_key=PROFILE_STALE_ROUTING_KEY, profile=profile)
    message.event_time.FromDatetime(event_time)
    message.stale_since.FromDatetime(stale_since)
    message.last_change_time.FromDatetime(last_change)
    message.expect_change_within.FromTimedelta(expect_change_within)
    return message


def lifecycle_event_properties(event: LifecycleEvent) -> pika.BasicProperties:
    """The properties of a run or a profile lifecycle event."""
    if isinstance(event, run_pb2.RunLifecycleEvent):
        return run_event_properties(event)
    return _event_properties(event, PROFILE_EVENT_CONTENT_TYPE, profile=event.profile)
