"""The scheduling loop and the outbox sweep with a fake registry and publisher:
what is created, released, held back and published, and what happens when
the registry fails."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from ferry.clock import FakeClock
from ferry.v1 import run_pb2, schedule_pb2
from ferry_scheduler.dispatch import timestamp
from ferry_scheduler.loop import SchedulerLoop
from ferry_scheduler.outbox import OutboxSweeper
from ferry_scheduler.planning import Plan
from google.protobuf.duration_pb2 import Duration

NOW = datetime(2026, 5, 1, 10, 0, 0, 200_000, tzinfo=UTC)


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code.name)
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._code.name


class FakeGateway:
    def __init__(self, schedules: list[schedule_pb2.Schedule]) -> None:
        self.schedules = schedules
        self.created: list[tuple[str, datetime]] = []
        self.released: list[tuple[str, Plan | None]] = []
        self.given_back: list[str] = []
        self.fail_create: grpc.StatusCode | None = None
        self.skip_create = False
        self.to_publish: list[run_pb2.Run] = []

    def acquire_due(self, limit, lease):
        found, self.schedules = self.schedules[:limit], self.schedules[limit:]
        return found

    def create_run(self, schedule, fire_time):
        if self.fail_create is not None:
            raise FakeRpcError(self.fail_create)
        if self.skip_create:
            return None, False
        self.created.append((schedule.id, fire_time))
        run = run_pb2.Run(id=f"{schedule.id}@{fire_time:%H:%M:%S}", profile=schedule.profile,
                          status=run_pb2.RUN_STATUS_QUEUED, attempt=1,
                          trigger=run_pb2.RUN_TRIGGER_SCHEDULE)
        return run, True

    def release(self, schedule_id, plan, now):
        self.released.append((schedule_id, plan))
        return True

    def release_unchanged(self, schedule):
        self.given_back.append(schedule.id)
        return True

    def runs_to_publish(self, published_before, limit):
        return list(self.to_publish)

    def tasks_to_publish(self, published_before, limit):
        return []


class FakePublisher:
    def process_events(self) -> None:
        pass


class FakeHandoff:
    def __init__(self) -> None:
        self.publisher = FakePublisher()
        self.published: list[str] = []

    def publish_tasks(self, tasks):
        return []

    def publish(self, runs, *, publish_count: int = 1):
        ids = [r.id for r in runs]
        self.published.extend(ids)
        return ids


def every_minute(schedule_id: str, next_fire: datetime, jitter: float = 0.0
                 ) -> schedule_pb2.Schedule:
    schedule = schedule_pb2.Schedule(
        id=schedule_id, profile="stock",
        interval=schedule_pb2.IntervalTrigger(every=Duration(seconds=60),
                                              start_time=timestamp(NOW.replace(minute=0,
                                                                               microsecond=0))))
    schedule.next_fire_time.CopyFrom(timestamp(next_fire))
    if jitter:
        schedule.jitter.FromTimedelta(timedelta(seconds=jitter))
    return schedule


def make_loop(gateway: FakeGateway, clock: FakeClock | None = None,
              stopping: threading.Event | None = None) -> tuple[SchedulerLoop, FakeHandoff]:
    handoff = FakeHandoff()
    loop = SchedulerLoop(gateway, handoff, clock or FakeClock(NOW),  # type: ignore[arg-type]
                         stopping=stopping or threading.Event(),
                         poll_interval=timedelta(seconds=1), lease=timedelta(seconds=30))
    return loop, handoff


FIRE = NOW.replace(microsecond=0)


def test_a_due_schedule_becomes_one_run_released_with_its_next_fire_and_published():
    gateway = FakeGateway([every_minute("s1", FIRE)])
    loop, handoff = make_loop(gateway)
    assert loop.run_once() == 1
    assert gateway.created == [("s1", FIRE)]
    ((schedule_id, plan),) = gateway.released
    assert schedule_id == "s1"
    assert plan.next_fire_time == FIRE + timedelta(minutes=1)
    assert plan.last_fire_time == FIRE
    assert handoff.published == ["s1@10:00:00"]


def test_a_transient_registry_failure_keeps_the_lease_for_a_retry():
    gateway = FakeGateway([every_minute("s1", FIRE)])
    gateway.fail_create = grpc.StatusCode.UNAVAILABLE
    loop, handoff = make_loop(gateway)
    with pytest.raises(grpc.RpcError):
        loop.run_once()
    assert gateway.released == []  # the lease expires; CreateRun is idempotent
    assert handoff.published == []


def test_a_permanent_create_failure_is_logged_and_the_schedule_moves_on(caplog):
    gateway = FakeGateway([every_minute("s1", FIRE)])
    gateway.fail_create = grpc.StatusCode.NOT_FOUND
    loop, handoff = make_loop(gateway)
    assert loop.run_once() == 0
    assert [s for s, _ in gateway.released] == ["s1"]
    assert handoff.published == []
    assert "cannot create the run" in caplog.text


def test_a_fire_skipped_by_the_registry_publishes_nothing():
    gateway = FakeGateway([every_minute("s1", FIRE)])
    gateway.skip_create = True
    loop, handoff = make_loop(gateway)
    loop.run_once()
    assert handoff.published == [] and [s for s, _ in gateway.released] == ["s1"]


def test_jittered_run_is_created_at_once_and_published_at_its_publish_time():
    clock = FakeClock(NOW)
    gateway = FakeGateway([every_minute("s1", FIRE, jitter=50)])
    loop, handoff = make_loop(gateway, clock)
    loop.run_once()
    assert gateway.created == [("s1", FIRE)]
    run_id = "s1@10:00:00"
    assert handoff.published == [] and loop.holding(run_id)
    clock.advance(timedelta(seconds=51))
    loop.run_once()
    assert handoff.published == [run_id] and not loop.holding(run_id)


def test_stopping_mid_pass_gives_the_other_schedules_back_unchanged():
    stopping = threading.Event()
    gateway = FakeGateway([every_minute("s1", FIRE), every_minute("s2", FIRE)])
    loop, handoff = make_loop(gateway, stopping=stopping)
    original = gateway.create_run

    def create_then_stop(schedule, fire_time):
        stopping.set()  # SIGTERM arrives while s1 is handled
        return original(schedule, fire_time)

    gateway.create_run = create_then_stop  # type: ignore[method-assign]
    loop.run_once()
    assert [s for s, _ in gateway.released] == ["s1"]
    assert gateway.given_back == ["s2"]
    assert handoff.published == ["s1@10:00:00"]


def test_outbox_sweep_skips_held_and_just_queued_runs():
    clock = FakeClock(NOW)
    gateway = FakeGateway([])

    def run(run_id: str, queued_ago: float) -> run_pb2.Run:
        found = run_pb2.Run(id=run_id, profile="stock", status=run_pb2.RUN_STATUS_QUEUED,
                            attempt=1)
        found.queue_time.CopyFrom(timestamp(NOW - timedelta(seconds=queued_ago)))
        return found

    gateway.to_publish = [run("old", 60), run("held", 60), run("fresh", 0.5)]
    handoff = FakeHandoff()
    sweeper = OutboxSweeper(gateway, handoff, clock, stopping=threading.Event(),  # type: ignore[arg-type]
                            interval=timedelta(seconds=5), republish_after=timedelta(seconds=30),
                            holding=lambda run_id: run_id == "held")
    assert sweeper.sweep_once() == 1
    assert handoff.published == ["old"]


def test_published_marks_are_recorded_in_one_call_per_flush():
    from ferry_scheduler.handoff import PublishedMarks

    calls: list[list[str]] = []

    class Gateway:
        def mark_published(self, run_ids):
            calls.append(list(run_ids))

    marks = PublishedMarks(Gateway(), threading.Event(), limit=3)  # type: ignore[arg-type]
    marks.add(["a", "b"])
    marks.add(["c", "d"])
    marks.flush()
    assert calls == [["a", "b", "c"], ["d"]]
    marks.flush()
    assert len(calls) == 2


def test_failed_passes_back_off_exponentially_and_a_good_pass_starts_over(caplog):
    stopping = threading.Event()
    gateway = FakeGateway([])
    # Three failures, a good pass, one more failure, then stop.
    script = ["fail", "fail", "fail", "ok", "fail"]

    def acquire_due(limit, lease):
        step = script.pop(0) if script else "stop"
        if step == "fail":
            raise FakeRpcError(grpc.StatusCode.UNAVAILABLE)
        if step == "stop":
            stopping.set()
        return []

    gateway.acquire_due = acquire_due  # type: ignore[method-assign]
    handoff = FakeHandoff()
    loop = SchedulerLoop(gateway, handoff, FakeClock(NOW), stopping=stopping,  # type: ignore[arg-type]
                         poll_interval=timedelta(milliseconds=10), lease=timedelta(seconds=30))
    with caplog.at_level("WARNING", logger="ferry_scheduler.loop"):
        loop.run()
    waits = [r.args[1] for r in caplog.records if r.getMessage().startswith(
        "registry unavailable (StatusCode.UNAVAILABLE)")]
    # 20 ms doubling (two poll intervals), plus up to one poll interval of jitter.
    assert len(waits) == 4
    for wait, base in zip(waits, (0.02, 0.04, 0.08, 0.02), strict=True):
        assert base <= wait <= base + 0.01, waits


def test_a_pass_failing_on_a_bug_is_logged_with_its_traceback_and_retried(caplog):
    stopping = threading.Event()
    gateway = FakeGateway([])
    calls = []

    def acquire_due(limit, lease):
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("bug")
        stopping.set()
        return []

    gateway.acquire_due = acquire_due  # type: ignore[method-assign]
    loop = SchedulerLoop(gateway, FakeHandoff(), FakeClock(NOW), stopping=stopping,  # type: ignore[arg-type]
                         poll_interval=timedelta(milliseconds=10), lease=timedelta(seconds=30))
    loop.run()
    (record,) = [r for r in caplog.records if "scheduling pass failed" in r.getMessage()]
    assert record.levelname == "ERROR" and record.exc_info is not None
    assert len(calls) == 2


def test_the_loop_stops_at_once_while_waiting_to_retry_a_failed_pass():
    stopping = threading.Event()
    gateway = FakeGateway([every_minute("s1", FIRE)])
    gateway.fail_create = grpc.StatusCode.UNAVAILABLE
    loop, _ = make_loop(gateway, stopping=stopping)  # a failed pass waits 2 s and more
    threading.Timer(0.2, stopping.set).start()
    started = time.monotonic()
    loop.run()
    assert time.monotonic() - started < 1.5
