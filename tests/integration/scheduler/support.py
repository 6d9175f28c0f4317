"""Helpers for scheduler tests: a private broker topology, scheduler processes,
profiles and schedules in a real registry, and reading the run queue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
from ferry.amqp.topology import Topology
from ferry.grpc_client import RegistryClient, all_pages
from ferry.v1 import (
    profile_pb2,
    profile_service_pb2,
    run_pb2,
    run_request_pb2,
    run_service_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from tests.support.needs import AMQP_URL
from tests.support.net import free_port
from tests.support.processes import BIN, ServiceProcess, base_env


@dataclass
class Broker:
    """A unique topology on the shared broker, deleted at the end."""

    topology: Topology
    connection: pika.BlockingConnection

    @property
    def prefix(self) -> str:
        return self.topology.prefix

    def channel(self):  # type: ignore[no-untyped-def]
        return self.connection.channel()

    def drain(self) -> list[run_request_pb2.RunRequest]:
        """Take (and ack) every message on the run queue."""
        channel = self.connection.channel()
        found = []
        try:
            while True:
                method, properties, body = channel.basic_get(self.topology.run_queue)
                if method is None:
                    return found
                message = run_request_pb2.RunRequest()
                message.ParseFromString(body)
                found.append(message)
                channel.basic_ack(method.delivery_tag)
        finally:
            channel.close()

    def get_one(self) -> tuple[object, run_request_pb2.RunRequest] | None:
        channel = self.connection.channel()
        try:
            method, properties, body = channel.basic_get(self.topology.run_queue, auto_ack=True)
            if method is None:
                return None
            message = run_request_pb2.RunRequest()
            message.ParseFromString(body)
            return properties, message
        finally:
            channel.close()

    def depth(self) -> int:
        channel = self.connection.channel()
        try:
            return channel.queue_declare(self.topology.run_queue, passive=True
                                         ).method.message_count
        finally:
            channel.close()

    def purge(self) -> None:
        channel = self.connection.channel()
        try:
            channel.queue_purge(self.topology.run_queue)
        finally:
            channel.close()


@contextmanager
def private_broker() -> Iterator[Broker]:
    topology = Topology(f"ferry-test-{uuid.uuid4().hex[:12]}")
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        topology.declare(channel)
        channel.close()
        yield Broker(topology, connection)
    finally:
        try:
            if not connection.is_open:
                connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
            topology.delete(connection.channel())
        finally:
            connection.close()


def scheduler_process(tmp_dir: Path, registry: ServiceProcess, prefix: str, *,
                      name: str = "scheduler", **env: str) -> ServiceProcess:
    address = f"127.0.0.1:{free_port()}"
    settings = {
        "FERRY_REGISTRY": registry.address,
        "FERRY_AMQP_URL": AMQP_URL,
        "FERRY_AMQP_PREFIX": prefix,
        "FERRY_SCHEDULER_ID": name,
        "FERRY_SCHEDULER_HEALTH": address,
        "FERRY_SCHEDULER_POLL_INTERVAL": "200ms",
        "FERRY_LOG_LEVEL": "debug",
    }
    settings.update(env)
    return ServiceProcess(name=name, argv=[str(BIN / "ferry-scheduler")],
                          env=base_env(**settings),
                          log_path=tmp_dir / "logs" / f"{name}.log", address=address)


# -- registry data -----------------------------------------------------------------


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def seconds(value: float) -> Duration:
    span = Duration()
    span.FromTimedelta(timedelta(seconds=value))
    return span


def apply_profile(client: RegistryClient, name: str, tmp_dir: Path) -> profile_pb2.Profile:
    source = tmp_dir / f"{name}.csv"
    source.write_text("sku,name\nA-1,Anchor\n")
    profile = profile_pb2.Profile(
        name=name, entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location=str(source),
                                  format=profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_CSV)),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target="sku", source="sku"),
            profile_pb2.FieldMapping(target="name", source="name")]),
    )
    return client.profiles.ApplyProfile(
        profile_service_pb2.ApplyProfileRequest(profile=profile)).profile


def interval_schedule(profile: str, every: float, *, start: datetime | None = None,
                      catch_up: int = schedule_pb2.CATCH_UP_POLICY_UNSPECIFIED,
                      grace: float | None = None, **fields: object) -> schedule_pb2.Schedule:
    trigger = schedule_pb2.IntervalTrigger(every=seconds(every))
    if start is not None:
        trigger.start_time.CopyFrom(timestamp(start))
    schedule = schedule_pb2.Schedule(profile=profile, interval=trigger, catch_up=catch_up,
                                     **fields)  # type: ignore[arg-type]
    if grace is not None:
        schedule.misfire_grace.CopyFrom(seconds(grace))
    return schedule


def create_schedule(client: RegistryClient, schedule: schedule_pb2.Schedule
                    ) -> schedule_pb2.Schedule:
    return client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
        schedule=schedule, request_id=uuid.uuid4().hex)).schedule


def get_schedule(client: RegistryClient, schedule_id: str) -> schedule_pb2.Schedule:
    return client.schedules.GetSchedule(
        schedule_service_pb2.GetScheduleRequest(id=schedule_id)).schedule


def runs_of(client: RegistryClient, schedule_id: str | None = None) -> list[run_pb2.Run]:
    query = f'schedule_id = "{schedule_id}"' if schedule_id else ""
    return list(all_pages(client.runs.ListRuns, run_service_pb2.ListRunsRequest(
        page_size=500, filter=query), "runs"))


def missed_fires_of(client: RegistryClient, schedule_id: str) -> list[schedule_pb2.MissedFire]:
    return list(all_pages(client.schedules.ListMissedFires,
                          schedule_service_pb2.ListMissedFiresRequest(
                              schedule_id=schedule_id, page_size=500), "missed_fires"))


def fire_time(run_or_missed: run_pb2.Run | schedule_pb2.MissedFire) -> datetime:
    return run_or_missed.fire_time.ToDatetime(tzinfo=UTC)


def whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
