"""RetrySettings: what is retried, how long, and what is reported."""

from __future__ import annotations

import threading
import time

import pytest
from ferry.retry import (
    REGISTRY_RETRY,
    RetrySettings,
    RetryStopped,
    call_registry,
    is_transient_rpc_error,
)
from ferry.v1 import profile_pb2
from google.protobuf import duration_pb2

FAST = RetrySettings(max_attempts=4, initial_backoff=0.001, max_backoff=0.002,
                     max_elapsed=5.0, jitter=0.0)


class Flaky:
    def __init__(self, failures: list[BaseException], result: str = "ok") -> None:
        self.failures = list(failures)
        self.calls = 0
        self.result = result

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.result


def test_retries_named_transient_types_until_success() -> None:
    flaky = Flaky([ConnectionResetError("reset"), TimeoutError("slow")])
    notices = []
    assert FAST.call(flaky, on_retry=notices.append, what="read") == "ok"
    assert flaky.calls == 3
    assert [n.attempt for n in notices] == [1, 2]
    assert "read: attempt 1 of 4 failed (ConnectionResetError: reset)" in notices[0].describe()


def test_does_not_retry_other_errors() -> None:
    flaky = Flaky([KeyError("bug")])
    with pytest.raises(KeyError):
        FAST.call(flaky)
    assert flaky.calls == 1


def test_gives_up_after_max_attempts_and_reraises_the_last_error() -> None:
    flaky = Flaky([ConnectionError(f"n{i}") for i in range(10)])
    with pytest.raises(ConnectionError, match="n3"):
        FAST.call(flaky)
    assert flaky.calls == 4


def test_gives_up_after_max_elapsed_time() -> None:
    settings = RetrySettings(max_attempts=1000, initial_backoff=0.05, max_backoff=0.05,
                             max_elapsed=0.3, jitter=0.0)
    flaky = Flaky([ConnectionError("down")] * 1000)
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        settings.call(flaky)
    assert time.monotonic() - started < 2.0
    assert 3 <= flaky.calls < 20


def test_backoff_is_exponential_and_capped() -> None:
    settings = RetrySettings(initial_backoff=1.0, max_backoff=5.0)
    assert [settings.backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_waits_include_jitter_within_bounds() -> None:
    settings = RetrySettings(max_attempts=6, initial_backoff=0.01, max_backoff=0.02,
                             jitter=0.01, max_elapsed=5)
    notices = []
    with pytest.raises(ConnectionError):
        settings.call(Flaky([ConnectionError()] * 6), on_retry=notices.append)
    waits = [n.wait for n in notices]
    assert all(0.01 <= w <= 0.031 for w in waits), waits
    assert len(set(waits)) > 1  # jittered


def test_predicate_extends_what_is_retried() -> None:
    settings = RetrySettings(max_attempts=3, initial_backoff=0.001, jitter=0, retry_on=(),
                             retry_if=lambda e: "429" in str(e))
    flaky = Flaky([RuntimeError("HTTP 429")])
    assert settings.call(flaky) == "ok"
    with pytest.raises(RuntimeError):
        settings.call(Flaky([RuntimeError("HTTP 400")]))


def test_stop_event_interrupts_the_wait() -> None:
    stop = threading.Event()
    settings = RetrySettings(max_attempts=5, initial_backoff=30, max_backoff=30, jitter=0)
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    with pytest.raises(RetryStopped):
        settings.call(Flaky([ConnectionError()] * 5), stop_event=stop)
    assert time.monotonic() - started < 5


def test_from_policy_reads_profile_retry_and_defaults_zero_fields() -> None:
    policy = profile_pb2.RetryPolicy(max_attempts=5,
                                     initial_backoff=duration_pb2.Duration(nanos=500_000_000),
                                     max_backoff=duration_pb2.Duration(seconds=8))
    settings = RetrySettings.from_policy(policy)
    assert (settings.max_attempts, settings.initial_backoff, settings.max_backoff,
            settings.max_elapsed) == (5, 0.5, 8.0, 300.0)
    empty = RetrySettings.from_policy(profile_pb2.RetryPolicy())
    assert (empty.max_attempts, empty.initial_backoff) == (3, 1.0)
    assert RetrySettings.from_policy(None, max_attempts=7).max_attempts == 7


def test_settings_are_frozen_and_validated() -> None:
    with pytest.raises(AttributeError):
        FAST.max_attempts = 9  # type: ignore[misc]
    with pytest.raises(ValueError):
        RetrySettings(max_attempts=0)


class FakeRpcError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._name = name

    def code(self):  # noqa: ANN201
        return type("Code", (), {"name": self._name})()


def test_registry_calls_retry_unavailable_and_deadline_only() -> None:
    assert is_transient_rpc_error(FakeRpcError("UNAVAILABLE"))
    assert is_transient_rpc_error(FakeRpcError("DEADLINE_EXCEEDED"))
    assert not is_transient_rpc_error(FakeRpcError("FAILED_PRECONDITION"))
    assert not is_transient_rpc_error(ValueError("x"))
    fast = RetrySettings(max_attempts=5, initial_backoff=0.001, jitter=0, retry_on=(),
                         retry_if=REGISTRY_RETRY.retry_if)
    calls = []

    def method(request, timeout=None):  # noqa: ANN001, ANN202
        calls.append((request, timeout))
        if len(calls) < 3:
            raise FakeRpcError("UNAVAILABLE")
        return "reply"

    assert call_registry(method, "req", what="ClaimRun", settings=fast, timeout=2) == "reply"
    assert calls == [("req", 2)] * 3
    with pytest.raises(FakeRpcError):
        call_registry(lambda r: (_ for _ in ()).throw(FakeRpcError("FAILED_PRECONDITION")),
                      "req", what="x", settings=fast)
