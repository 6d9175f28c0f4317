"""DispatchService (internal, for schedulers): due schedules, run creation,
the outbox and the queued-run stream."""

from __future__ import annotations

import threading

from ferry.v1 import dispatch_service_pb2 as pb
from ferry.v1 import dispatch_service_pb2_grpc, run_pb2, runner_task_pb2

from ferry_registry import convert
from ferry_registry.notify import QueuedRunFanout
from ferry_registry.servicers.common import StreamSlots, require
from ferry_registry.store.runner_tasks import RunnerTaskStore
from ferry_registry.store.runs import NewRun, RunStore
from ferry_registry.store.schedule_leases import (
    DEFAULT_SCHEDULE_LEASE,
    MissedFire,
    ScheduleLeaseStore,
)

STREAM_POLL_SECONDS = 1.0
MAX_QUEUED_RUN_STREAMS = 16


class DispatchServicer(dispatch_service_pb2_grpc.DispatchServiceServicer):
    def __init__(self, runs: RunStore, leases: ScheduleLeaseStore, fanout: QueuedRunFanout,
                 stopping: threading.Event, tasks: RunnerTaskStore) -> None:
        self._runs = runs
        self._tasks = tasks
        self._leases = leases
        self._fanout = fanout
        self._stopping = stopping
        self._slots = StreamSlots("StreamQueuedRuns", MAX_QUEUED_RUN_STREAMS)

    def AcquireDueSchedules(self, request, context):
        lease = convert.lease_from(request, DEFAULT_SCHEDULE_LEASE)
        schedules = self._leases.acquire(request.scheduler_id, request.limit, lease)
        return pb.AcquireDueSchedulesResponse(schedules=schedules)

    def ReleaseSchedule(self, request, context):
        require(schedule_id=request.schedule_id, scheduler_id=request.scheduler_id)
        missed = [MissedFire(convert.from_timestamp(fire.fire_time), fire.reason,
                             convert.from_timestamp(fire.record_time)
                             if fire.HasField("record_time") else None)
                  for fire in request.missed_fires]
        released = self._leases.release(
            request.schedule_id, request.scheduler_id,
            convert.from_timestamp(request.next_fire_time)
            if request.HasField("next_fire_time") else None,
            convert.from_timestamp(request.last_fire_time)
            if request.HasField("last_fire_time") else None,
            missed)
        return pb.ReleaseScheduleResponse(released=released)

    def CreateRun(self, request, context):
        require(profile=request.profile)
        trigger = request.trigger or (run_pb2.RUN_TRIGGER_SCHEDULE if request.schedule_id
                                      else run_pb2.RUN_TRIGGER_API)
        if trigger == run_pb2.RUN_TRIGGER_SCHEDULE:
            require(schedule_id=request.schedule_id,
                    fire_time=request.HasField("fire_time"))
        created = self._runs.create(NewRun(
            profile=request.profile, trigger=trigger, schedule_id=request.schedule_id,
            fire_time=convert.from_timestamp(request.fire_time)
            if request.HasField("fire_time") else None,
            dry_run=request.dry_run, force=request.force, request_id=request.request_id))
        return pb.CreateRunResponse(run=created.run, created=created.created)

    def ListRunsToPublish(self, request, context):
        runs = self._runs.to_publish(
            convert.from_timestamp(request.published_before)
            if request.HasField("published_before") else None, request.limit)
        tasks = self._tasks.to_publish(
            convert.from_timestamp(request.published_before)
            if request.HasField("published_before") else None, request.limit)
        return pb.ListRunsToPublishResponse(runs=runs, runner_tasks=tasks)

    def MarkRunsPublished(self, request, context):
        if request.run_ids:
            self._runs.mark_published(list(request.run_ids))
        self._tasks.mark_published(list(request.runner_task_ids))
        return pb.MarkRunsPublishedResponse()

    def StreamQueuedRuns(self, request, context):
        """Each queued run goes to one connected scheduler (round robin)."""
        with self._slots.hold():
            yield from self._stream(request, context)

    def _stream(self, request, context):
        subscription = self._fanout.subscribe(request.scheduler_id or context.peer())
        context.add_callback(subscription.close)
        try:
            while not self._stopping.is_set() and context.is_active():
                run = subscription.get(STREAM_POLL_SECONDS)
                if subscription.closed:
                    return
                if isinstance(run, runner_task_pb2.RunnerTask):
                    yield pb.StreamQueuedRunsResponse(runner_task=run)
                elif run is not None:
                    yield pb.StreamQueuedRunsResponse(run=run)
        finally:
            self._fanout.unsubscribe(subscription)
            # Runs handed to this stream but not sent are left to the outbox sweep.


