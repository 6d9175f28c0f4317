"""Builders and calls shared by the contract tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import grpc
import pytest
from ferry.clock import utc
from ferry.grpc_client import RegistryClient
from ferry.grpc_errors import field_violations
from ferry.v1 import (
    dispatch_service_pb2,
    execution_service_pb2,
    profile_pb2,
    profile_service_pb2,
    run_pb2,
    run_service_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from ferry_registry import convert

Outcome = execution_service_pb2.ClaimOutcome


def profile(name: str = "stock", *, column: str = "Name", max_attempts: int = 0,
            overlap: int = 0) -> profile_pb2.Profile:
    return profile_pb2.Profile(
        name=name, entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE,
                                  location="/data/stock.csv"),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target="sku", source="SKU"),
            profile_pb2.FieldMapping(target="name", source=column),
        ]),
        retry=profile_pb2.RetryPolicy(max_attempts=max_attempts),
        overlap_policy=overlap)


def apply(client: RegistryClient, prof: profile_pb2.Profile | None = None
          ) -> profile_service_pb2.ApplyProfileResponse:
    return client.profiles.ApplyProfile(
        profile_service_pb2.ApplyProfileRequest(profile=prof or profile()))


def hourly(profile_name: str = "stock", minute: int = 0, **fields) -> schedule_pb2.Schedule:
    return schedule_pb2.Schedule(profile=profile_name,
                                 hourly=schedule_pb2.HourlyTrigger(minute=minute), **fields)


def create_schedule(client: RegistryClient, schedule: schedule_pb2.Schedule,
                    request_id: str = "") -> schedule_pb2.Schedule:
    return client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
        schedule=schedule, request_id=request_id)).schedule


def start_run(client: RegistryClient, profile_name: str = "stock", *, dry_run: bool = False,
              force: bool = False, request_id: str = "") -> run_pb2.Run:
    return client.runs.StartRun(run_service_pb2.StartRunRequest(
        profile=profile_name, dry_run=dry_run, force=force, request_id=request_id)).run


def get_run(client: RegistryClient, run_id: str) -> run_pb2.Run:
    return client.runs.GetRun(run_service_pb2.GetRunRequest(id=run_id)).run


def create_run(client: RegistryClient, schedule_id: str, fire_time: datetime,
               profile_name: str = "stock", request_id: str = ""
               ) -> dispatch_service_pb2.CreateRunResponse:
    return client.dispatch.CreateRun(dispatch_service_pb2.CreateRunRequest(
        profile=profile_name, schedule_id=schedule_id,
        fire_time=convert.to_timestamp(fire_time), trigger=run_pb2.RUN_TRIGGER_SCHEDULE,
        request_id=request_id))


def claim(client: RegistryClient, run_id: str, runner: str = "runner-1", *,
          lease: timedelta = timedelta(seconds=30), attempt: int = 0
          ) -> execution_service_pb2.ClaimRunResponse:
    return client.execution.ClaimRun(execution_service_pb2.ClaimRunRequest(
        run_id=run_id, runner_id=runner, lease_duration=convert.to_duration(lease),
        attempt=attempt))


def finish(client: RegistryClient, claimed: execution_service_pb2.ClaimRunResponse,
           status: int = run_pb2.RUN_STATUS_COMPLETED, **fields) -> run_pb2.Run:
    return client.execution.FinishRun(execution_service_pb2.FinishRunRequest(
        run_id=claimed.run.id, runner_id=claimed.run.runner_id,
        fencing_token=claimed.fencing_token, status=status, **fields)).run


def list_runs(client: RegistryClient, filter: str = "", page_size: int = 0,
              page_token: str = "") -> run_service_pb2.ListRunsResponse:
    return client.runs.ListRuns(run_service_pb2.ListRunsRequest(
        filter=filter, page_size=page_size, page_token=page_token))


def when(stamp) -> datetime:
    return utc(stamp.ToDatetime())


def expect_error(code: grpc.StatusCode, call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    assert caught.value.code() == code, caught.value.details()
    return caught.value


def violated_fields(exc: grpc.RpcError) -> set[str]:
    return {v.field for v in field_violations(exc)}
