"""ferry.retry: what is retried, how long, and what is reported; the transient
gRPC codes; the reconnect-forever loop (keep_trying)."""

from __future__ import annotations

import threading
import time

import pytest
from ferry.retry import (
    REGISTRY_RETRY,
    TRANSIENT_RPC_CODES,
    RetryNotice,
    RetrySettings,
    RetryStopped,
    call_registry,
    is_transient_rpc_error,
    keep_trying,
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


def test_the_transient_codes_are_unavailable_and_deadline_exceeded_only() -> None:
    assert TRANSIENT_RPC_CODES == {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
    # A message over the size limit fails the same way every time; a conflict
    # needs a new request, not the same one again.
    assert not is_transient_rpc_error(FakeRpcError("RESOURCE_EXHAUSTED"))
    assert not is_transient_rpc_error(FakeRpcError("ABORTED"))


def test_forever_settings_retry_past_any_attempt_limit() -> None:
    settings = RetrySettings.forever(initial_backoff=0.001, max_backoff=0.001, jitter=0)
    notices: list[RetryNotice] = []
    flaky = Flaky([ConnectionError("down")] * 50)
    assert settings.call(flaky, on_retry=notices.append, what="connect") == "ok"
    assert flaky.calls == 51
    assert notices[-1].describe().startswith("connect: attempt 50 failed (ConnectionError")


def test_stop_event_set_before_a_wait_hands_back_the_last_error() -> None:
    stop = threading.Event()
    stop.set()
    flaky = Flaky([ConnectionError("down")] * 5)
    with pytest.raises(ConnectionError):
        RetrySettings.forever(initial_backoff=30, max_backoff=30).call(flaky, stop_event=stop)
    assert flaky.calls == 1


def test_retry_stopped_is_never_retried() -> None:
    flaky = Flaky([RetryStopped("stop")])
    with pytest.raises(RetryStopped):
        RetrySettings(retry_on=(Exception,)).call(flaky)
    assert flaky.calls == 1


def test_max_wait_shortens_a_wait() -> None:
    settings = RetrySettings(max_attempts=2, initial_backoff=30, max_backoff=30, jitter=0)
    notices: list[RetryNotice] = []
    started = time.monotonic()
    retrying = settings.retrying(on_retry=notices.append, max_wait=lambda: 0.01)
    assert retrying(Flaky([ConnectionError()])) == "ok"
    assert time.monotonic() - started < 2
    assert notices[0].wait == 0.01


class Sessions:
    """A scripted session for keep_trying: each entry says whether the session
    gets somewhere (calls progressed) before it breaks; the stop event is set
    when the script runs out."""

    def __init__(self, script: list[bool], stop: threading.Event) -> None:
        self.script = list(script)
        self.stop = stop
        self.started: list[float] = []

    def __call__(self, progressed) -> None:  # noqa: ANN001
        self.started.append(time.monotonic())
        if not self.script:
            self.stop.set()
            return
        if self.script.pop(0):
            progressed()
        raise ConnectionError("lost")


def test_keep_trying_backs_off_until_a_session_gets_somewhere_then_starts_over() -> None:
    stop = threading.Event()
    sessions = Sessions([False, False, False, True, False], stop)
    notices: list[RetryNotice] = []
    settings = RetrySettings.forever(initial_backoff=0.02, max_backoff=1.0, jitter=0)
    keep_trying(sessions, settings, what="broker", stop_event=stop, log_retry=notices.append)
    assert [(n.attempt, n.wait) for n in notices] == [
        (1, 0.02), (2, 0.04), (3, 0.08),  # refused: the backoff grows
        (1, 0.0),                         # lost after connecting: again at once
        (1, 0.02)]                        # ... and the backoff is back at its start
    assert len(sessions.started) == 6
    assert sessions.started[4] - sessions.started[3] < 0.02


def test_keep_trying_stops_promptly_in_a_long_wait() -> None:
    stop = threading.Event()
    sessions = Sessions([False] * 10, stop)
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    keep_trying(sessions, RetrySettings.forever(initial_backoff=30, max_backoff=30),
                what="broker", stop_event=stop, log_retry=lambda _notice: None)
    assert time.monotonic() - started < 2
    assert len(sessions.started) == 1


def test_keep_trying_lets_other_errors_through() -> None:
    stop = threading.Event()

    def session(progressed) -> None:  # noqa: ANN001
        progressed()
        raise KeyError("bug")

    with pytest.raises(KeyError):
        keep_trying(session, RetrySettings.forever(initial_backoff=0.01, max_backoff=0.01),
                    what="broker", stop_event=stop)
