"""DispatchService contract: schedule leases, idempotent run creation,
overlap policy, outbox and the queued-run stream."""

from __future__ import annotations

import threading
from datetime import timedelta

import grpc
from ferry.v1 import (
    dispatch_service_pb2,
    execution_service_pb2,
    profile_pb2,
    run_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from ferry_registry import convert

from tests.contract.helpers import (
    apply,
    claim,
    create_run,
    create_schedule,
    expect_error,
    finish,
    hourly,
    profile,
    start_run,
    when,
)


def acquire(client, scheduler: str, lease: timedelta = timedelta(seconds=30), limit: int = 10):
    return list(client.dispatch.AcquireDueSchedules(dispatch_service_pb2.AcquireDueSchedulesRequest(
        scheduler_id=scheduler, limit=limit, lease_duration=convert.to_duration(lease))).schedules)


def release(client, schedule, scheduler: str, next_fire, missed=()):
    return client.dispatch.ReleaseSchedule(dispatch_service_pb2.ReleaseScheduleRequest(
        schedule_id=schedule.id, scheduler_id=scheduler,
        next_fire_time=convert.to_timestamp(next_fire),
        last_fire_time=schedule.next_fire_time, missed_fires=list(missed))).released


def test_acquire_is_exclusive_between_schedulers_until_the_lease_expires(client, clock):
    apply(client)
    schedule = create_schedule(client, hourly())
    create_schedule(client, schedule_pb2.Schedule(profile="stock",
                                                  manual=schedule_pb2.ManualTrigger()))
    assert acquire(client, "sched-a") == []  # not due yet
    clock.set(when(schedule.next_fire_time) + timedelta(seconds=1))
    got_a = acquire(client, "sched-a", lease=timedelta(seconds=20))
    assert [s.id for s in got_a] == [schedule.id]  # the manual schedule is never due
    assert acquire(client, "sched-b") == []
    clock.advance(timedelta(seconds=21))
    got_b = acquire(client, "sched-b")
    assert [s.id for s in got_b] == [schedule.id]
    # The first scheduler lost its lease: its release writes nothing.
    assert not release(client, got_a[0], "sched-a", clock.now() + timedelta(hours=1))
    assert release(client, got_b[0], "sched-b", when(schedule.next_fire_time) + timedelta(hours=1))
    stored = client.schedules.GetSchedule(schedule_service_pb2.GetScheduleRequest(id=schedule.id))
    assert when(stored.schedule.next_fire_time) == when(schedule.next_fire_time) + \
        timedelta(hours=1)
    assert when(stored.schedule.last_fire_time) == when(schedule.next_fire_time)
    assert acquire(client, "sched-a") == []


def test_concurrent_acquirers_get_disjoint_schedules(client, clock):
    apply(client)
    ids = {create_schedule(client, hourly(minute=m)).id for m in range(6)}
    clock.advance(timedelta(hours=2))
    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def grab(name: str) -> None:
        barrier.wait()
        results[name] = [s.id for s in acquire(client, name, limit=6)]

    threads = [threading.Thread(target=grab, args=(f"s{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [sid for got in results.values() for sid in got]
    assert sorted(taken) == sorted(ids)


def test_paused_schedules_are_never_due_and_release_records_missed_fires(client, clock):
    apply(client)
    schedule = create_schedule(client, hourly())
    client.schedules.PauseSchedule(schedule_service_pb2.PauseScheduleRequest(id=schedule.id))
    clock.advance(timedelta(hours=3))
    assert acquire(client, "sched-a") == []
    client.schedules.ResumeSchedule(schedule_service_pb2.ResumeScheduleRequest(id=schedule.id))
    clock.advance(timedelta(hours=1))
    got = acquire(client, "sched-a")
    assert len(got) == 1
    missed = schedule_pb2.MissedFire(
        fire_time=convert.to_timestamp(clock.now() - timedelta(hours=5)),
        reason=schedule_pb2.MISSED_FIRE_REASON_MISFIRE)
    assert release(client, got[0], "sched-a", clock.now() + timedelta(hours=1), [missed])
    fires = client.schedules.ListMissedFires(schedule_service_pb2.ListMissedFiresRequest(
        schedule_id=schedule.id)).missed_fires
    assert [f.reason for f in fires] == [schedule_pb2.MISSED_FIRE_REASON_MISFIRE]


def test_create_run_is_idempotent_and_unique_per_fire_under_concurrency(client, clock):
    apply(client)
    schedule = create_schedule(client, hourly())
    fire = when(schedule.next_fire_time)
    responses = []
    barrier = threading.Barrier(8)

    def create(index: int) -> None:
        barrier.wait()
        responses.append(create_run(client, schedule.id, fire, request_id=f"req-{index % 2}"))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.created for r in responses) == 1
    assert len({r.run.id for r in responses}) == 1
    run = responses[0].run
    assert run.trigger == run_pb2.RUN_TRIGGER_SCHEDULE
    assert run.schedule_id == schedule.id and when(run.fire_time) == fire
    again = create_run(client, schedule.id, fire, request_id="another-request")
    assert not again.created and again.run.id == run.id
    by_request = client.dispatch.CreateRun(dispatch_service_pb2.CreateRunRequest(
        profile="stock", request_id=run.request_id))
    assert not by_request.created and by_request.run.id == run.id
    next_fire = create_run(client, schedule.id, fire + timedelta(hours=1))
    assert next_fire.created and next_fire.run.id != run.id


def test_overlap_skip_records_a_missed_fire(client):
    apply(client, profile(overlap=profile_pb2.OVERLAP_POLICY_SKIP))
    schedule = create_schedule(client, hourly())
    fire = when(schedule.next_fire_time)
    live = start_run(client)
    skipped = create_run(client, schedule.id, fire)
    assert not skipped.created and not skipped.HasField("run")
    fires = client.schedules.ListMissedFires(schedule_service_pb2.ListMissedFiresRequest(
        schedule_id=schedule.id)).missed_fires
    assert [(f.reason, when(f.fire_time)) for f in fires] == \
        [(schedule_pb2.MISSED_FIRE_REASON_OVERLAP, fire)]
    finish(client, claim(client, live.id))
    later = create_run(client, schedule.id, fire + timedelta(hours=1))
    assert later.created


def test_overlap_queue_from_the_schedule_overrides_the_profile(client):
    apply(client, profile(overlap=profile_pb2.OVERLAP_POLICY_SKIP))
    schedule = create_schedule(client, hourly(overlap_policy=profile_pb2.OVERLAP_POLICY_QUEUE))
    start_run(client)
    queued = create_run(client, schedule.id, when(schedule.next_fire_time))
    assert queued.created and queued.run.status == run_pb2.RUN_STATUS_QUEUED


def test_create_run_for_unknown_profile_is_not_found(client):
    error = expect_error(grpc.StatusCode.NOT_FOUND, client.dispatch.CreateRun,
                         dispatch_service_pb2.CreateRunRequest(profile="ghost",
                                                               trigger=run_pb2.RUN_TRIGGER_API))
    assert "ghost" in error.details()


def test_outbox_lists_unpublished_and_stale_published_queued_runs(client, clock):
    apply(client)
    first = start_run(client)
    second = start_run(client)

    def to_publish(before=None) -> list[str]:
        request = dispatch_service_pb2.ListRunsToPublishRequest(limit=10)
        if before is not None:
            request.published_before.CopyFrom(convert.to_timestamp(before))
        return [r.id for r in client.dispatch.ListRunsToPublish(request).runs]

    assert to_publish() == [first.id, second.id]
    client.dispatch.MarkRunsPublished(dispatch_service_pb2.MarkRunsPublishedRequest(
        run_ids=[first.id, second.id]))
    assert to_publish() == []
    clock.advance(timedelta(minutes=2))
    assert to_publish(clock.now() - timedelta(minutes=1)) == [first.id, second.id]
    claimed = claim(client, first.id)
    assert to_publish(clock.now()) == [second.id]
    # A released run is published again.
    client.execution.ReleaseRun(execution_service_pb2.ReleaseRunRequest(
        run_id=first.id, runner_id="runner-1", fencing_token=claimed.fencing_token,
        reason="shutdown"))
    assert first.id in to_publish()


def test_stream_queued_runs_pushes_each_run_to_one_scheduler(client, internals):
    apply(client)
    streams = [client.dispatch.StreamQueuedRuns(
        dispatch_service_pb2.StreamQueuedRunsRequest(scheduler_id=f"sched-{i}"))
        for i in range(2)]
    received: dict[int, list[str]] = {0: [], 1: []}

    def consume(index: int) -> None:
        try:
            for message in streams[index]:
                received[index].append(message.run.id)
        except grpc.RpcError:
            pass

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    deadline = threading.Event()
    for _ in range(100):
        if internals.notes.fanout.subscribers == 2:
            break
        deadline.wait(0.05)
    runs = [start_run(client).id for _ in range(4)]
    for _ in range(100):
        if len(received[0]) + len(received[1]) == 4:
            break
        deadline.wait(0.05)
    for stream in streams:
        stream.cancel()
    for thread in threads:
        thread.join(5)
    assert sorted(received[0] + received[1]) == sorted(runs)
    assert received[0] and received[1]  # round robin: both schedulers got some


def test_an_update_while_leased_wins_over_the_stale_release(client, clock):
    from google.protobuf import field_mask_pb2

    apply(client)
    schedule = create_schedule(client, hourly())
    clock.set(when(schedule.next_fire_time) + timedelta(seconds=1))
    (leased,) = acquire(client, "sched-a")
    updated = client.schedules.UpdateSchedule(schedule_service_pb2.UpdateScheduleRequest(
        schedule=schedule_pb2.Schedule(id=schedule.id,
                                       hourly=schedule_pb2.HourlyTrigger(minute=30)),
        update_mask=field_mask_pb2.FieldMask(paths=["hourly"]))).schedule
    assert not release(client, leased, "sched-a", clock.now() + timedelta(hours=1))
    stored = client.schedules.GetSchedule(schedule_service_pb2.GetScheduleRequest(
        id=schedule.id)).schedule
    assert stored.next_fire_time == updated.next_fire_time
    assert when(stored.next_fire_time).minute == 30
