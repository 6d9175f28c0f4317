"""ScheduleService contract: create, validate, update by mask, pause/resume, preview."""

from __future__ import annotations

from datetime import timedelta

import grpc
from ferry.v1 import schedule_pb2, schedule_service_pb2
from ferry_registry import convert
from google.protobuf import field_mask_pb2

from tests.contract.conftest import START
from tests.contract.helpers import (
    apply,
    create_schedule,
    expect_error,
    hourly,
    violated_fields,
    when,
)


def cron(expression: str, **fields) -> schedule_pb2.Schedule:
    return schedule_pb2.Schedule(profile="stock", cron=schedule_pb2.CronTrigger(
        expression=expression), **fields)


def test_create_applies_defaults_and_computes_the_next_fire(client):
    apply(client)
    schedule = create_schedule(client, hourly(minute=30))
    assert schedule.id
    assert schedule.time_zone == "UTC"
    assert schedule.misfire_grace.ToTimedelta() == timedelta(minutes=5)
    assert schedule.catch_up == schedule_pb2.CATCH_UP_POLICY_LATEST
    assert schedule.auto_pause_after == 5
    assert when(schedule.next_fire_time) == START.replace(minute=30)
    got = client.schedules.GetSchedule(schedule_service_pb2.GetScheduleRequest(id=schedule.id))
    assert got.schedule == schedule


def test_create_is_idempotent_by_request_id(client):
    apply(client)
    first = create_schedule(client, hourly(), request_id="abc")
    again = create_schedule(client, hourly(minute=5), request_id="abc")
    assert again.id == first.id
    listed = client.schedules.ListSchedules(schedule_service_pb2.ListSchedulesRequest())
    assert len(listed.schedules) == 1


def test_invalid_cron_and_time_zone_name_the_fields(client):
    apply(client)
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, create_schedule, client,
                         cron("61 * * *", time_zone="Mars/Olympus"))
    assert {"schedule.cron.expression", "schedule.time_zone"} <= violated_fields(error)
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, create_schedule, client,
                         cron("99 * * * *"))
    assert "schedule.cron.expression" in violated_fields(error)


def test_unknown_profile_is_not_found(client):
    error = expect_error(grpc.StatusCode.NOT_FOUND, create_schedule, client,
                         hourly("ghost"))
    assert "ghost" in error.details()


def test_update_with_field_mask(client, clock):
    apply(client)
    schedule = create_schedule(client, hourly(minute=30, description="keep me"))
    change = schedule_pb2.Schedule(id=schedule.id, cron=schedule_pb2.CronTrigger(
        expression="0 6 * * *"), time_zone="Europe/Paris", description="ignored")
    updated = client.schedules.UpdateSchedule(schedule_service_pb2.UpdateScheduleRequest(
        schedule=change, update_mask=field_mask_pb2.FieldMask(paths=["cron", "time_zone"])
    )).schedule
    assert updated.WhichOneof("trigger") == "cron"
    assert updated.time_zone == "Europe/Paris"
    assert updated.description == "keep me"
    # 06:00 in Paris (UTC+1 in March before DST) on the next day.
    assert when(updated.next_fire_time) == (START + timedelta(days=1)).replace(hour=5, minute=0)
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.schedules.UpdateSchedule,
                         schedule_service_pb2.UpdateScheduleRequest(
                             schedule=change,
                             update_mask=field_mask_pb2.FieldMask(paths=["next_fire_time"])))
    assert "update_mask" in violated_fields(error)
    bad_cron = schedule_pb2.Schedule(id=schedule.id,
                                     cron=schedule_pb2.CronTrigger(expression="nope"))
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.schedules.UpdateSchedule,
                 schedule_service_pb2.UpdateScheduleRequest(
                     schedule=bad_cron, update_mask=field_mask_pb2.FieldMask(paths=["cron"])))
    expect_error(grpc.StatusCode.NOT_FOUND, client.schedules.UpdateSchedule,
                 schedule_service_pb2.UpdateScheduleRequest(
                     schedule=schedule_pb2.Schedule(id="missing", time_zone="UTC"),
                     update_mask=field_mask_pb2.FieldMask(paths=["time_zone"])))


def test_pause_and_resume_from_now_without_backlog(client, clock):
    apply(client)
    schedule = create_schedule(client, hourly())
    paused = client.schedules.PauseSchedule(schedule_service_pb2.PauseScheduleRequest(
        id=schedule.id, reason="supplier maintenance")).schedule
    assert paused.paused and paused.pause_reason == "supplier maintenance"
    assert not paused.HasField("next_fire_time")
    clock.advance(timedelta(hours=5, minutes=10))
    resumed = client.schedules.ResumeSchedule(schedule_service_pb2.ResumeScheduleRequest(
        id=schedule.id)).schedule
    assert not resumed.paused and resumed.pause_reason == ""
    assert when(resumed.next_fire_time) == START + timedelta(hours=6)
    listed = client.schedules.ListSchedules(schedule_service_pb2.ListSchedulesRequest(
        filter="paused = false AND profile = stock"))
    assert [s.id for s in listed.schedules] == [schedule.id]


def test_preview_stored_and_draft(client):
    apply(client)
    schedule = create_schedule(client, hourly(minute=15))
    times = client.schedules.PreviewSchedule(schedule_service_pb2.PreviewScheduleRequest(
        id=schedule.id)).fire_times
    assert [when(t) for t in times] == [START.replace(minute=15) + timedelta(hours=h)
                                        for h in range(5)]
    draft = client.schedules.PreviewSchedule(schedule_service_pb2.PreviewScheduleRequest(
        schedule=cron("0 0 * * *"), count=500,
        after_time=convert.to_timestamp(START))).fire_times
    assert len(draft) == 100
    assert when(draft[0]) == (START + timedelta(days=1)).replace(hour=0)
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.schedules.PreviewSchedule,
                 schedule_service_pb2.PreviewScheduleRequest(schedule=cron("bad")))


def test_list_filters_and_delete(client):
    apply(client)
    from tests.contract.helpers import profile

    apply(client, profile("other"))
    a = create_schedule(client, hourly())
    create_schedule(client, hourly("other"))
    client.schedules.PauseSchedule(schedule_service_pb2.PauseScheduleRequest(id=a.id))
    paused = client.schedules.ListSchedules(schedule_service_pb2.ListSchedulesRequest(
        filter="paused = true"))
    assert [s.id for s in paused.schedules] == [a.id]
    client.schedules.DeleteSchedule(schedule_service_pb2.DeleteScheduleRequest(id=a.id))
    expect_error(grpc.StatusCode.NOT_FOUND, client.schedules.GetSchedule,
                 schedule_service_pb2.GetScheduleRequest(id=a.id))
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.schedules.ListSchedules,
                 schedule_service_pb2.ListSchedulesRequest(filter="paused = maybe"))
