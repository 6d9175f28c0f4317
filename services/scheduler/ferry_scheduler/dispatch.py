"""The scheduler's side of the registry's DispatchService: each call with a
deadline and a bounded retry of transient failures (``DISPATCH_RETRY``), and
the conversions between ``ferry.v1`` messages and the planning core's types."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
from ferry.grpc_client import RegistryClient
from ferry.retry import RetrySettings, call_registry, is_transient_rpc_error
from ferry.v1 import dispatch_service_pb2 as dpb
from ferry.v1 import run_pb2, runner_task_pb2, schedule_pb2
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from ferry_scheduler.planning import CatchUp, MissedReason, Plan, ScheduleState

log = logging.getLogger(__name__)

# A pass that cannot reach the registry gives up within seconds and is tried
# again by the loop; its leases expire and another replica may take over.
DISPATCH_RETRY = RetrySettings(max_attempts=5, initial_backoff=0.1, max_backoff=2.0,
                               max_elapsed=15.0, jitter=1.0, retry_on=(),
                               retry_if=is_transient_rpc_error)

_CATCH_UP = {
    schedule_pb2.CATCH_UP_POLICY_ALL: CatchUp.ALL,
    schedule_pb2.CATCH_UP_POLICY_SKIP: CatchUp.SKIP,
    schedule_pb2.CATCH_UP_POLICY_LATEST: CatchUp.LATEST,
}
_REASON = {
    MissedReason.MISFIRE: schedule_pb2.MISSED_FIRE_REASON_MISFIRE,
    MissedReason.COALESCED: schedule_pb2.MISSED_FIRE_REASON_COALESCED,
}


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def when(stamp: Timestamp, present: bool = True) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None


def duration(value: timedelta) -> Duration:
    span = Duration()
    span.FromTimedelta(value)
    return span


def schedule_state(schedule: schedule_pb2.Schedule) -> ScheduleState:
    return ScheduleState(
        schedule_id=schedule.id,
        next_fire_time=when(schedule.next_fire_time, schedule.HasField("next_fire_time")),
        last_fire_time=when(schedule.last_fire_time, schedule.HasField("last_fire_time")),
        catch_up=_CATCH_UP.get(schedule.catch_up, CatchUp.LATEST),
        jitter=schedule.jitter.ToTimedelta() if schedule.HasField("jitter") else timedelta(0),
        misfire_grace=schedule.misfire_grace.ToTimedelta(),
        paused=schedule.paused,
    )


def fire_request_id(schedule_id: str, fire_time: datetime) -> str:
    """The idempotency key of a scheduled run: one per (schedule, fire time)."""
    return f"{schedule_id}@{fire_time.astimezone(UTC).isoformat()}"


class DispatchGateway:
    """DispatchService calls, retried while the registry is unreachable."""

    def __init__(self, client: RegistryClient, scheduler_id: str, *,
                 retry: RetrySettings = DISPATCH_RETRY,
                 stopping: threading.Event | None = None) -> None:
        self._client = client
        self.scheduler_id = scheduler_id
        self._retry = retry
        self._stopping = stopping

    def _call(self, method: grpc.UnaryUnaryMultiCallable, request: object, what: str) -> object:
        return call_registry(method, request, what=what, settings=self._retry,
                             stop_event=self._stopping, logger=log)

    def acquire_due(self, limit: int, lease: timedelta) -> list[schedule_pb2.Schedule]:
        reply = self._call(self._client.dispatch.AcquireDueSchedules,
                           dpb.AcquireDueSchedulesRequest(scheduler_id=self.scheduler_id,
                                                          limit=limit,
                                                          lease_duration=duration(lease)),
                           "AcquireDueSchedules")
        return list(reply.schedules)  # type: ignore[attr-defined]

    def create_run(self, schedule: schedule_pb2.Schedule, fire_time: datetime
                   ) -> tuple[run_pb2.Run | None, bool]:
        """The fire's run and whether this call created it; no run when the
        registry skipped the fire (overlap policy skip records a missed fire)."""
        reply = self._call(self._client.dispatch.CreateRun, dpb.CreateRunRequest(
            profile=schedule.profile, schedule_id=schedule.id, fire_time=timestamp(fire_time),
            trigger=run_pb2.RUN_TRIGGER_SCHEDULE,
            request_id=fire_request_id(schedule.id, fire_time)), "CreateRun")
        run = reply.run if reply.HasField("run") else None  # type: ignore[attr-defined]
        return run, reply.created  # type: ignore[attr-defined]

    def release(self, schedule_id: str, plan: Plan | None, now: datetime) -> bool:
        """Write the plan's next/last fire times and missed fires; with no plan,
        give the schedule back unchanged."""
        request = dpb.ReleaseScheduleRequest(schedule_id=schedule_id,
                                             scheduler_id=self.scheduler_id)
        if plan is not None:
            if plan.next_fire_time is not None:
                request.next_fire_time.CopyFrom(timestamp(plan.next_fire_time))
            if plan.last_fire_time is not None:
                request.last_fire_time.CopyFrom(timestamp(plan.last_fire_time))
            for missed in plan.missed:
                request.missed_fires.append(schedule_pb2.MissedFire(
                    schedule_id=schedule_id, fire_time=timestamp(missed.fire_time),
                    reason=_REASON[missed.reason], record_time=timestamp(now)))
        reply = self._call(self._client.dispatch.ReleaseSchedule, request, "ReleaseSchedule")
        return reply.released  # type: ignore[attr-defined]

    def release_unchanged(self, schedule: schedule_pb2.Schedule) -> bool:
        request = dpb.ReleaseScheduleRequest(schedule_id=schedule.id,
                                             scheduler_id=self.scheduler_id)
        if schedule.HasField("next_fire_time"):
            request.next_fire_time.CopyFrom(schedule.next_fire_time)
        if schedule.HasField("last_fire_time"):
            request.last_fire_time.CopyFrom(schedule.last_fire_time)
        reply = self._call(self._client.dispatch.ReleaseSchedule, request, "ReleaseSchedule")
        return reply.released  # type: ignore[attr-defined]

    def runs_to_publish(self, published_before: datetime, limit: int) -> list[run_pb2.Run]:
        reply = self._call(self._client.dispatch.ListRunsToPublish, dpb.ListRunsToPublishRequest(
            published_before=timestamp(published_before), limit=limit), "ListRunsToPublish")
        return list(reply.runs)  # type: ignore[attr-defined]

    def tasks_to_publish(self, published_before: datetime, limit: int
                         ) -> list[runner_task_pb2.RunnerTask]:
        """Runner tasks still queued within their deadline and never published,
        or published before ``published_before``."""
        reply = self._call(self._client.dispatch.ListRunsToPublish, dpb.ListRunsToPublishRequest(
            published_before=timestamp(published_before), limit=limit), "ListRunsToPublish")
        return list(reply.runner_tasks)  # type: ignore[attr-defined]

    def mark_published(self, run_ids: Iterable[str], task_ids: Iterable[str] = ()) -> None:
        ids, tasks = list(run_ids), list(task_ids)
        if ids or tasks:
            self._call(self._client.dispatch.MarkRunsPublished,
                       dpb.MarkRunsPublishedRequest(run_ids=ids, runner_task_ids=tasks),
                       "MarkRunsPublished")

    def stream_queued(self) -> tuple[Iterator[dpb.StreamQueuedRunsResponse], grpc.Call]:
        """Open the stream of newly queued runs (no deadline; cancel it to stop)."""
        call = self._client.dispatch.StreamQueuedRuns(
            dpb.StreamQueuedRunsRequest(scheduler_id=self.scheduler_id))
        return call, call  # type: ignore[return-value]
