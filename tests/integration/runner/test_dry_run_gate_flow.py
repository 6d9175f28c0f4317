"""The dry-run gate end to end (registry, scheduler, runner, RabbitMQ): after a
mapping change a scheduled live run ends FAILED without executing and the
runner acks its request; a passing dry run opens the gate again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import (
    dispatch_service_pb2,
    profile_service_pb2,
    run_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from google.protobuf import timestamp_pb2

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]


def scheduled_run(client: RegistryClient, schedule_id: str, hour: int) -> run_pb2.Run:
    fire = timestamp_pb2.Timestamp()
    fire.FromDatetime(datetime(2026, 3, 2, hour, tzinfo=UTC))
    return client.dispatch.CreateRun(dispatch_service_pb2.CreateRunRequest(
        profile="gated", schedule_id=schedule_id, fire_time=fire,
        trigger=run_pb2.RUN_TRIGGER_SCHEDULE)).run


def test_gated_scheduled_run_never_executes_until_a_dry_run_passes(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    csv_path = stack.write_products_csv(tmp_path / "products.csv", 10)
    profile = stack.products_profile("gated", csv_path)
    stack.apply_profile(client, profile)
    profile.mapping.fields[3].default_value = "0"  # a mapping change
    stack.apply_profile(client, profile)
    schedule = client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
        schedule=schedule_pb2.Schedule(profile="gated", manual=schedule_pb2.ManualTrigger())
    )).schedule
    alive = stack.assert_alive(*services)
    target = f"sqlite:///{tmp_path / 'target.db'}"

    gated = stack.wait_terminal(client, scheduled_run(client, schedule.id, 1).id, 60, alive)
    assert stack.status_name(gated) == "RUN_STATUS_FAILED", gated
    assert gated.error_class == run_pb2.ERROR_CLASS_MAPPING
    assert gated.error_message.startswith("dry run required after mapping change")
    assert not gated.runner_id and not gated.HasField("start_time")
    runner = services[1]
    stack.wait_for(lambda: "dry run required after mapping change" in runner.output(), 20,
                   "the runner to ack and drop the gated request")
    assert not (tmp_path / "target.db").exists()

    with pytest.raises(grpc.RpcError) as refused:
        stack.start_run(client, "gated", force=False)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    dry = stack.wait_terminal(client, stack.start_run(client, "gated", force=False,
                                                      dry_run=True).id, 60, alive)
    assert stack.status_name(dry) == "RUN_STATUS_COMPLETED", dry
    assert not client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(
        name="gated")).profile.dry_run_required
    live = stack.wait_terminal(client, scheduled_run(client, schedule.id, 2).id, 60, alive)
    assert stack.status_name(live) == "RUN_STATUS_COMPLETED", live
    assert stack.target_rows(target) == 10
