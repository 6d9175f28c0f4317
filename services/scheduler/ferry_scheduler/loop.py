"""The scheduling loop: lease due schedules, plan, create runs, release, publish.

One pass:

1. ``AcquireDueSchedules(scheduler_id, limit, lease)``;
2. for each schedule: plan its fires (``planning.plan_fires``), ``CreateRun``
   for each fire (idempotent: ``request_id = "<schedule_id>@<fire_time>"``,
   unique per schedule and fire time in the registry), then ``ReleaseSchedule``
   with the new next/last fire times and the missed fires;
3. publish the pass's runs with confirms and ``MarkRunsPublished``; runs with
   jitter wait in memory until their publish time (they exist in the registry
   already, so a crash only delays them until the outbox sweep).

If the registry fails mid-schedule the lease is not released: it expires and
the schedule is acquired again, and ``CreateRun`` returns the runs already
made. On stop, schedules not yet handled in the pass are released unchanged
so another replica can take them at once.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import grpc
from ferry.clock import Clock
from ferry.errors import InvalidArgumentError
from ferry.logs import log_context
from ferry.retry import RetryNotice, RetrySettings, RetryStopped, is_transient_rpc_error
from ferry.v1 import run_pb2, schedule_pb2
from ferry_domain.schedules import fire_times_after

from ferry_scheduler.dispatch import DispatchGateway, schedule_state
from ferry_scheduler.handoff import RunHandoff
from ferry_scheduler.planning import Plan, plan_fires

log = logging.getLogger(__name__)

FireTimesOf = Callable[[schedule_pb2.Schedule], Callable[[datetime, int], list[datetime]]]


def pass_retry(poll: float) -> RetrySettings:
    """A failed pass is tried again after two poll intervals, doubling up to 32
    of them or 30 s, plus up to one poll interval of jitter, until stopped; any
    error (the loop must survive anything)."""
    return RetrySettings.forever(initial_backoff=2 * poll, max_backoff=min(32 * poll, 30.0),
                                 jitter=poll, retry_on=(Exception,))


def _fire_times_of(schedule: schedule_pb2.Schedule) -> Callable[[datetime, int], list[datetime]]:
    return partial(fire_times_after, schedule)


class SchedulerLoop:
    def __init__(self, gateway: DispatchGateway, handoff: RunHandoff, clock: Clock, *,
                 stopping: threading.Event, poll_interval: timedelta,
                 lease: timedelta, batch_size: int = 100,
                 fire_times_of: FireTimesOf = _fire_times_of) -> None:
        self._gateway = gateway
        self._handoff = handoff
        self._clock = clock
        self._stopping = stopping
        self._poll = poll_interval.total_seconds()
        self._lease = lease
        self._batch = batch_size
        self._fire_times_of = fire_times_of
        self._held: list[tuple[datetime, int, run_pb2.Run]] = []
        self._held_ids: set[str] = set()
        self._held_lock = threading.Lock()
        self._order = itertools.count()
        self.passes = 0

    # -- jitter hold -----------------------------------------------------------

    def holding(self, run_id: str) -> bool:
        """True while a run waits for its jittered publish time here."""
        with self._held_lock:
            return run_id in self._held_ids

    def _hold(self, publish_at: datetime, run: run_pb2.Run) -> None:
        with self._held_lock:
            heapq.heappush(self._held, (publish_at, next(self._order), run))
            self._held_ids.add(run.id)

    def _release_held(self, now: datetime) -> list[run_pb2.Run]:
        due: list[run_pb2.Run] = []
        with self._held_lock:
            while self._held and self._held[0][0] <= now:
                run = heapq.heappop(self._held)[2]
                self._held_ids.discard(run.id)
                due.append(run)
        return due

    def _next_held(self) -> datetime | None:
        with self._held_lock:
            return self._held[0][0] if self._held else None

    # -- the loop --------------------------------------------------------------

    def run(self) -> None:
        """Passes until stopped: one every poll interval (sooner when a held run
        is due); a failed pass is tried again under ``pass_retry``."""
        retrying = pass_retry(self._poll).retrying(
            what="scheduling pass", stop_event=self._stopping, log_retry=self._log_failed_pass,
            on_retry=lambda _notice: self._handoff.publisher.process_events(),
            max_wait=self._until_next_held)
        while not self._stopping.is_set():
            try:
                retrying(self.run_once)
            except Exception:
                # Stopping: RetryStopped, or the last failure handed back.
                if not self._stopping.is_set():
                    raise
                break
            self._handoff.publisher.process_events()
            wait = self._poll
            until_held = self._until_next_held()
            if until_held is not None:
                wait = max(0.0, min(wait, until_held))
            self._stopping.wait(wait)
        self._publish_held(flush=True)

    @staticmethod
    def _log_failed_pass(notice: RetryNotice) -> None:
        error = notice.error
        if isinstance(error, grpc.RpcError) and is_transient_rpc_error(error):
            log.warning("registry unavailable (%s); retrying in %.1fs",
                        error.code(), notice.wait)  # type: ignore[attr-defined]
        else:
            log.error("scheduling pass failed; retrying in %.1fs", notice.wait,
                      exc_info=error)

    def _until_next_held(self) -> float | None:
        held = self._next_held()
        return None if held is None else (held - self._clock.now()).total_seconds()

    def run_once(self) -> int:
        """One pass; returns the number of runs created or found."""
        self.passes += 1
        self._publish_held()
        if self._stopping.is_set():
            return 0
        schedules = self._gateway.acquire_due(self._batch, self._lease)
        ready: list[run_pb2.Run] = []
        for index, schedule in enumerate(schedules):
            if self._stopping.is_set():
                self._give_back(schedules[index:])
                break
            with log_context(schedule_id=schedule.id, profile=schedule.profile):
                ready.extend(self._fire(schedule))
        self._handoff.publish(ready)
        return len(ready)

    def _fire(self, schedule: schedule_pb2.Schedule) -> list[run_pb2.Run]:
        now = self._clock.now()
        try:
            plan = plan_fires(schedule_state(schedule), now, self._fire_times_of(schedule))
        except InvalidArgumentError as exc:
            log.error("schedule cannot fire and is left without a next fire time: %s", exc)
            self._gateway.release(schedule.id, Plan(last_fire_time=None), now)
            return []
        ready: list[run_pb2.Run] = []
        for fire in plan.fires:
            run = self._create(schedule, fire.fire_time)
            if run is None or run.status != run_pb2.RUN_STATUS_QUEUED:
                continue
            if fire.publish_at > now:
                self._hold(fire.publish_at, run)
            else:
                ready.append(run)
        for missed in plan.missed:
            log.info("fire %s missed (%s)", missed.fire_time.isoformat(), missed.reason.value)
        if not self._gateway.release(schedule.id, plan, now):
            log.warning("lease on the schedule was lost before release (another replica "
                        "took it after the lease expired); its runs are deduplicated")
        return ready

    def _create(self, schedule: schedule_pb2.Schedule, fire_time: datetime
                ) -> run_pb2.Run | None:
        try:
            run, created = self._gateway.create_run(schedule, fire_time)
        except grpc.RpcError as exc:
            if is_transient_rpc_error(exc):
                raise  # keep the lease; the fire is retried when it expires
            log.error("cannot create the run for fire %s: %s %s", fire_time.isoformat(),
                      exc.code(), exc.details())  # type: ignore[attr-defined]
            return None
        if run is None:
            log.info("fire %s skipped by the registry: a run of the profile is live "
                     "(overlap skip, recorded as a missed fire)", fire_time.isoformat())
            return None
        with log_context(run_id=run.id):
            log.info("run %s for fire %s", "created" if created else "already exists",
                     fire_time.isoformat())
        return run

    def _give_back(self, schedules: list[schedule_pb2.Schedule]) -> None:
        for schedule in schedules:
            try:
                self._gateway.release_unchanged(schedule)
            except (grpc.RpcError, RetryStopped) as exc:
                log.warning("could not release schedule %s on stop: %s", schedule.id, exc)

    def _publish_held(self, flush: bool = False) -> None:
        due = self._release_held(self._clock.now())
        if due:
            self._handoff.publish(due)
        if flush and self._held:
            # Their runs exist in the registry; the outbox sweep publishes them.
            log.info("stopping with %d jittered runs not yet published", len(self._held))
