"""RunExecutor with a fake registry and a fake engine (no network).

Covers how a run ends: finish with counts, RETRY events for transient errors,
release when retries run out, immediate failure with a hint for permanent
errors, cancellation, lease loss, and hand-back when the shutdown grace ends.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.engine.results import Counts
from ferry_domain.engine.results import RunResult as Result
from ferry_domain.runs.states import ErrorClass, RunStatus
from ferry_runner.execution import RunExecutor
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.outcome import EndingKind
from ferry_runner.registry import Claim, LeaseLostError
from ferry_runner.shutdown import Shutdown
from google.protobuf import duration_pb2


class Transient(Exception):
    error_class = ErrorClass.TRANSIENT


class Credentials(Exception):
    error_class = ErrorClass.CREDENTIALS


class FakeRegistry:
    lease_seconds = 0.15

    def __init__(self) -> None:
        self.heartbeat_error: Exception | None = None
        self.heartbeats = 0
        self.progress: list[tuple[dict[str, int], int, list[run_pb2.RunEvent]]] = []
        self.finished: list[tuple[Any, list[run_pb2.RunEvent]]] = []
        self.released: list[dict[str, Any]] = []
        self.cancel = False
        self.lose_lease = False

    def heartbeat(self, claim: Claim) -> bool:
        self.heartbeats += 1
        if self.heartbeat_error is not None:
            raise self.heartbeat_error
        if self.lose_lease:
            raise LeaseLostError("fencing token superseded")
        return self.cancel

    def report_progress(self, claim: Claim, counts: dict[str, int], rows_total: int,
                        events: list[run_pb2.RunEvent]) -> bool:
        self.progress.append((counts, rows_total, list(events)))
        return self.cancel

    def finish(self, claim: Claim, plan: Any, events: list[run_pb2.RunEvent]) -> run_pb2.Run:
        self.finished.append((plan, list(events)))
        return run_pb2.Run(id=claim.run_id)

    def release(self, claim: Claim, reason: str, *, attempt_used: bool,
                error_class: ErrorClass = ErrorClass.UNSPECIFIED) -> run_pb2.Run:
        self.released.append({"reason": reason, "attempt_used": attempt_used,
                              "error_class": error_class})
        return run_pb2.Run(id=claim.run_id)

    def events(self) -> list[run_pb2.RunEvent]:
        found = [e for _, _, events in self.progress for e in events]
        found += [e for _, events in self.finished for e in events]
        return found


def make_claim(max_attempts: int = 3) -> Claim:
    profile = profile_pb2.Profile(name="p", entity_type="products", retry=profile_pb2.RetryPolicy(
        max_attempts=max_attempts, initial_backoff=duration_pb2.Duration(nanos=10_000_000),
        max_backoff=duration_pb2.Duration(nanos=20_000_000)))
    run = run_pb2.Run(id="run-1", profile="p", attempt=1, max_attempts=3)
    return Claim(run_id="run-1", profile_name="p", attempt=1, fencing_token=7, run=run,
                 profile=profile)


def executor(registry: FakeRegistry, engine: Any, shutdown: Shutdown | None = None,
             metrics: RunnerMetrics | None = None) -> RunExecutor:
    return RunExecutor(registry, target_url="sqlite://", heartbeat_interval=0.05,  # type: ignore[arg-type]
                       metrics=metrics or RunnerMetrics(), shutdown=shutdown or Shutdown(5),
                       engine=engine, progress_interval=0.02)


def test_completed_run_is_finished_with_counts_and_engine_arguments() -> None:
    seen: dict[str, Any] = {}

    def engine(profile: Any, **kwargs: Any) -> Result:
        seen.update(kwargs, profile=profile.name)
        kwargs["on_progress"](Counts(rows_read=5, created=5, rows_total=10))
        time.sleep(0.1)
        return Result(RunStatus.COMPLETED, Counts(rows_read=10, created=10))

    registry = FakeRegistry()
    ending = executor(registry, engine).execute(make_claim())
    assert ending.kind is EndingKind.FINISH
    plan, _ = registry.finished[0]
    assert plan.status == RunStatus.COMPLETED and plan.counts["created"] == 10
    assert seen["profile"] == "p" and seen["dry_run"] is False
    assert seen["default_target_url"] == "sqlite://"
    assert not seen["should_cancel"]()
    assert registry.heartbeats >= 1
    assert any(c["rows_read"] == 5 and total == 10 for c, total, _ in registry.progress)


def test_transient_errors_are_retried_with_retry_events() -> None:
    calls = []

    def engine(profile: Any, **kwargs: Any) -> Result:
        calls.append(1)
        if len(calls) < 3:
            raise Transient(f"HTTP 503 (call {len(calls)})")
        return Result(RunStatus.COMPLETED)

    registry = FakeRegistry()
    metrics = RunnerMetrics()
    executor(registry, engine, metrics=metrics).execute(make_claim(max_attempts=3))
    assert len(calls) == 3
    assert registry.finished[0][0].status == RunStatus.COMPLETED
    retries = [e for e in registry.events() if e.type == run_pb2.RUN_EVENT_TYPE_RETRY]
    assert len(retries) == 2
    assert "HTTP 503 (call 1)" in retries[0].message and retries[0].attempt == 1
    assert metrics.get("transient_retries") == 2


def test_transient_retries_exhausted_release_the_attempt_as_used() -> None:
    def engine(profile: Any, **kwargs: Any) -> Result:
        raise Transient("connection reset")

    registry = FakeRegistry()
    ending = executor(registry, engine).execute(make_claim(max_attempts=2))
    assert ending.kind is EndingKind.RELEASE and not registry.finished
    assert registry.released == [{"reason": "transient error, retries exhausted: "
                                            "connection reset",
                                  "attempt_used": True, "error_class": ErrorClass.TRANSIENT}]


def test_engine_reporting_a_transient_failure_is_retried_too() -> None:
    results = [Result(RunStatus.FAILED, error_class=ErrorClass.TRANSIENT, error_message="429"),
               Result(RunStatus.COMPLETED)]
    registry = FakeRegistry()
    executor(registry, lambda p, **k: results.pop(0)).execute(make_claim())
    assert registry.finished[0][0].status == RunStatus.COMPLETED


def test_permanent_errors_fail_at_once_with_class_and_hint() -> None:
    calls = []

    def engine(profile: Any, **kwargs: Any) -> Result:
        calls.append(1)
        raise Credentials("HTTP 401 from https://example.test/feed")

    registry = FakeRegistry()
    executor(registry, engine).execute(make_claim())
    assert len(calls) == 1
    plan, _ = registry.finished[0]
    assert (plan.status, plan.error_class) == (RunStatus.FAILED, ErrorClass.CREDENTIALS)
    assert "source.credentials" in plan.hint
    assert "HTTP 401" in plan.error_message


def _until_cancelled(profile: Any, **kwargs: Any) -> Result:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if kwargs["should_cancel"]():
            return Result(RunStatus.CANCELLED, Counts(rows_read=3))
        time.sleep(0.01)
    return Result(RunStatus.COMPLETED)


def test_cancel_requested_by_heartbeat_ends_the_run_cancelled() -> None:
    registry = FakeRegistry()
    registry.cancel = True
    executor(registry, _until_cancelled).execute(make_claim())
    assert registry.finished[0][0].status == RunStatus.CANCELLED


def test_lost_lease_stops_the_run_and_writes_nothing() -> None:
    registry = FakeRegistry()
    registry.lose_lease = True
    metrics = RunnerMetrics()
    ending = executor(registry, _until_cancelled, metrics=metrics).execute(make_claim())
    assert ending.kind is EndingKind.ABANDON
    assert not registry.finished and not registry.released
    assert metrics.get("lease_lost") == 1


def test_no_successful_heartbeat_for_a_whole_lease_counts_as_lost() -> None:
    registry = FakeRegistry()
    registry.heartbeat_error = ConnectionError("registry unreachable")
    ending = executor(registry, _until_cancelled).execute(make_claim())
    assert ending.kind is EndingKind.ABANDON
    assert not registry.finished and not registry.released


def test_shutdown_grace_over_hands_the_run_back_unused() -> None:
    registry = FakeRegistry()
    shutdown = Shutdown(0.1)
    shutdown.begin("SIGTERM")
    threading.Timer(0.2, shutdown.expire).start()
    ending = executor(registry, _until_cancelled, shutdown=shutdown).execute(make_claim())
    assert ending.kind is EndingKind.RELEASE
    assert registry.released[0]["attempt_used"] is False and not registry.finished


def slow_retry_claim(max_attempts: int = 3) -> Claim:
    """A claim whose retries wait a minute: longer than any test may take."""
    claim = make_claim(max_attempts)
    claim.profile.retry.initial_backoff.CopyFrom(duration_pb2.Duration(seconds=60))
    claim.profile.retry.max_backoff.CopyFrom(duration_pb2.Duration(seconds=60))
    return claim


def test_sigterm_during_retry_backoff_hands_the_run_back_at_once_unused() -> None:
    calls: list[int] = []
    failed = threading.Event()

    def engine(profile: Any, **kwargs: Any) -> Result:
        calls.append(1)
        failed.set()
        raise Transient("HTTP 503")

    registry = FakeRegistry()
    metrics = RunnerMetrics()
    shutdown = Shutdown(300)  # a grace far longer than the test
    endings: list[Any] = []
    worker = threading.Thread(target=lambda: endings.append(
        executor(registry, engine, shutdown=shutdown, metrics=metrics).execute(
            slow_retry_claim())))
    worker.start()
    assert failed.wait(5)
    time.sleep(0.1)  # in the minute-long backoff now
    started = time.monotonic()
    shutdown.begin("SIGTERM")
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - started < 2
    assert endings[0].kind is EndingKind.RELEASE and len(calls) == 1
    assert registry.released == [{"reason": "runner shutting down while the run waited to retry",
                                  "attempt_used": False, "error_class": ErrorClass.UNSPECIFIED}]
    assert not registry.finished and not shutdown.abandon.is_set()
    assert metrics.get("released_shutdown") == 1


def test_transient_failure_after_sigterm_is_handed_back_without_waiting() -> None:
    shutdown = Shutdown(300)

    def engine(profile: Any, **kwargs: Any) -> Result:
        shutdown.begin("SIGTERM")  # arrives while the engine runs
        raise Transient("connection reset")

    registry = FakeRegistry()
    started = time.monotonic()
    ending = executor(registry, engine, shutdown=shutdown).execute(slow_retry_claim())
    assert time.monotonic() - started < 5
    assert ending.kind is EndingKind.RELEASE
    assert registry.released[0]["attempt_used"] is False


def test_last_try_failing_after_sigterm_uses_the_attempt() -> None:
    shutdown = Shutdown(300)

    def engine(profile: Any, **kwargs: Any) -> Result:
        shutdown.begin("SIGTERM")
        raise Transient("connection reset")

    registry = FakeRegistry()
    ending = executor(registry, engine, shutdown=shutdown).execute(slow_retry_claim(1))
    assert ending.kind is EndingKind.RELEASE
    assert registry.released == [{"reason": "transient error, retries exhausted: "
                                            "connection reset",
                                  "attempt_used": True, "error_class": ErrorClass.TRANSIENT}]


def test_a_run_executing_at_sigterm_finishes_within_the_grace() -> None:
    shutdown = Shutdown(300)

    def engine(profile: Any, **kwargs: Any) -> Result:
        shutdown.begin("SIGTERM")
        time.sleep(0.2)
        assert not kwargs["should_cancel"]()
        return Result(RunStatus.COMPLETED, Counts(rows_read=2, created=2))

    registry = FakeRegistry()
    ending = executor(registry, engine, shutdown=shutdown).execute(make_claim())
    assert ending.kind is EndingKind.FINISH and not registry.released
    assert registry.finished[0][0].status is RunStatus.COMPLETED


def test_progress_is_throttled() -> None:
    def engine(profile: Any, **kwargs: Any) -> Result:
        for i in range(300):
            kwargs["on_progress"](Counts(rows_read=i))
            time.sleep(0.001)
        return Result(RunStatus.COMPLETED)

    registry = FakeRegistry()
    executor(registry, engine).execute(make_claim())
    assert 1 <= len(registry.progress) < 60


def test_a_runner_error_outside_the_engine_hands_the_run_back() -> None:
    def broken_engine(profile: Any, **kwargs: Any) -> Result:
        return "not a result"  # type: ignore[return-value]

    registry = FakeRegistry()
    ending = executor(registry, broken_engine).execute(make_claim())
    assert ending.kind is EndingKind.RELEASE
    assert registry.released[0]["attempt_used"] is True
    assert "runner error" in registry.released[0]["reason"]


class FakeGate:
    def __init__(self, unchanged: bool) -> None:
        from ferry_runner.freshness_gate import GateVerdict
        self.verdict = GateVerdict(unchanged=unchanged, evidence=run_pb2.FreshnessEvidence(
            verdict=run_pb2.FRESHNESS_VERDICT_UNCHANGED if unchanged
            else run_pb2.FRESHNESS_VERDICT_CHANGED), current_token="tok-2", summary="s")

    def check(self, claim: Claim) -> Any:
        return self.verdict


def _gated(registry: FakeRegistry, gate: FakeGate, engine: Any) -> RunExecutor:
    return RunExecutor(registry, target_url="sqlite://", heartbeat_interval=0.05,  # type: ignore[arg-type]
                       metrics=RunnerMetrics(), shutdown=Shutdown(5), engine=engine,
                       progress_interval=0.02, gate=gate)  # type: ignore[arg-type]


def test_unchanged_source_finishes_unchanged_without_running_the_engine() -> None:
    calls = []
    registry = FakeRegistry()
    _gated(registry, FakeGate(unchanged=True),
           lambda p, **k: calls.append(1)).execute(make_claim())
    plan, _ = registry.finished[0]
    assert plan.status == RunStatus.UNCHANGED and not calls
    assert plan.freshness.verdict == run_pb2.FRESHNESS_VERDICT_UNCHANGED
    assert plan.new_freshness_token == ""


def test_changed_source_sends_the_token_only_for_live_successes() -> None:
    registry = FakeRegistry()
    _gated(registry, FakeGate(unchanged=False),
           lambda p, **k: Result(RunStatus.WARNING)).execute(make_claim())
    assert registry.finished[0][0].new_freshness_token == "tok-2"

    dry = make_claim()
    dry.run.dry_run = True
    registry = FakeRegistry()
    _gated(registry, FakeGate(unchanged=False),
           lambda p, **k: Result(RunStatus.COMPLETED)).execute(dry)
    assert registry.finished[0][0].new_freshness_token == ""

    registry = FakeRegistry()
    _gated(registry, FakeGate(unchanged=False),
           lambda p, **k: Result(RunStatus.FAILED, error_class=ErrorClass.PERMANENT)
           ).execute(make_claim())
    plan = registry.finished[0][0]
    assert plan.status == RunStatus.FAILED and plan.new_freshness_token == ""
    assert plan.freshness.verdict == run_pb2.FRESHNESS_VERDICT_CHANGED


def test_a_run_that_ends_before_the_first_tick_makes_no_lease_call_and_no_thread(
        monkeypatch: Any) -> None:
    import ferry_runner.execution as execution_module
    from ferry_runner.heartbeat import LeaseKeeper

    keepers: list[LeaseKeeper] = []

    class Recorded(LeaseKeeper):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            keepers.append(self)

    monkeypatch.setattr(execution_module, "LeaseKeeper", Recorded)

    def engine(profile: Any, **kwargs: Any) -> Result:
        kwargs["on_progress"](Counts(rows_read=1, created=1, rows_total=1))
        return Result(RunStatus.COMPLETED, Counts(rows_read=1, created=1))

    registry = FakeRegistry()
    runner = RunExecutor(registry, target_url="sqlite://", heartbeat_interval=5.0,  # type: ignore[arg-type]
                         metrics=RunnerMetrics(), shutdown=Shutdown(5), engine=engine,
                         progress_interval=1.0)
    for _ in range(20):
        runner.execute(make_claim())
    time.sleep(1.2)  # past the first tick of every keeper
    assert len(registry.finished) == 20 and len(keepers) == 20
    assert registry.heartbeats == 0 and registry.progress == []
    assert all(keeper._thread.ident is None for keeper in keepers)  # noqa: SLF001 - never started
