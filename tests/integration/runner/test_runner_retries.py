"""Transient and permanent source failures, end to end, over a local HTTP source.

- 503 twice, then the feed: retried inside the attempt, a RETRY event per
  retry on the run's timeline, COMPLETED in attempt 1.
- 503 for ever: retries run out, the attempt is handed back as used, the next
  attempt fails the same way, and the run ends FAILED / ATTEMPTS_EXHAUSTED —
  nothing stays running.
- 401: fails at once, class CREDENTIALS, with a hint about the secret.
- SIGTERM while the run waits a minute to retry: the runner hands it back
  at once, QUEUED again as the same attempt, and exits long before its
  shutdown grace is over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2
from google.protobuf import duration_pb2

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

FEED = "sku,name,price,quantity\n" + "".join(f"H-{i},Item {i},{i}.00,{i}\n" for i in range(30))


class Feed:
    """Answers the first ``failures`` requests with ``status``, then the CSV."""

    def __init__(self) -> None:
        self.status = 503
        self.failures = 0
        self.requests = 0
        self.lock = threading.Lock()


@pytest.fixture
def feed() -> Iterator[tuple[Feed, str]]:
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            with state.lock:
                state.requests += 1
                fail = state.failures != 0
                if state.failures > 0:
                    state.failures -= 1
            if fail:
                self.send_response(state.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = FEED.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/feed.csv"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stack_procs(tmp_path: Path, registry: ServiceProcess) -> Iterator[ServiceProcess]:
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    procs = [stack.scheduler_process(tmp_path, registry.address, queues),
             stack.runner_process(tmp_path, registry.address, queues)]
    try:
        for proc in procs:
            proc.start()
        yield procs[1]
    finally:
        for proc in procs:
            proc.stop()
        queues.delete()


def http_profile(name: str, url: str, max_attempts: int) -> profile_pb2.Profile:
    profile = stack.products_profile(name, Path("unused"), max_attempts=max_attempts,
                                     location=url)
    profile.source.kind = profile_pb2.SOURCE_KIND_HTTP
    profile.retry.max_elapsed.CopyFrom(duration_pb2.Duration(seconds=5))
    return profile


def test_transient_errors_are_retried_with_retry_events(
        registry: ServiceProcess, stack_procs: ServiceProcess, feed: tuple[Feed, str]) -> None:
    state, url = feed
    state.failures = 2
    with RegistryClient(registry.address) as client:
        stack.apply_profile(client, http_profile("flaky", url, max_attempts=4))
        run = stack.start_run(client, "flaky")
        done = stack.wait_terminal(client, run.id, 60, stack.assert_alive(stack_procs))
        assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
        assert done.attempt == 1 and done.counts.created == 30
        retries = [e for e in stack.run_events(client, run.id)
                   if e.type == run_pb2.RUN_EVENT_TYPE_RETRY]
        assert len(retries) == 2, retries
        assert "503" in retries[0].message
    assert state.requests == 3


def test_transient_errors_exhaust_every_attempt_then_fail(
        registry: ServiceProcess, stack_procs: ServiceProcess, feed: tuple[Feed, str]) -> None:
    state, url = feed
    state.failures = -1  # for ever
    with RegistryClient(registry.address) as client:
        stack.apply_profile(client, http_profile("down", url, max_attempts=2))
        run = stack.start_run(client, "down")
        done = stack.wait_terminal(client, run.id, 90, stack.assert_alive(stack_procs))
        assert stack.status_name(done) == "RUN_STATUS_FAILED", done
        assert done.error_class == run_pb2.ERROR_CLASS_ATTEMPTS_EXHAUSTED, done
        assert done.attempt == 2
    # Two attempts of two tries each.
    assert state.requests == 4


def test_credentials_error_fails_at_once_with_a_hint(
        registry: ServiceProcess, stack_procs: ServiceProcess, feed: tuple[Feed, str]) -> None:
    state, url = feed
    state.status, state.failures = 401, -1
    with RegistryClient(registry.address) as client:
        stack.apply_profile(client, http_profile("locked", url, max_attempts=3))
        run = stack.start_run(client, "locked")
        done = stack.wait_terminal(client, run.id, 60, stack.assert_alive(stack_procs))
        assert stack.status_name(done) == "RUN_STATUS_FAILED", done
        assert done.error_class == run_pb2.ERROR_CLASS_CREDENTIALS, done
        assert "source.credentials" in done.hint
        assert done.attempt == 1
    assert state.requests == 1


def test_sigterm_during_retry_backoff_hands_the_run_back_at_once(
        tmp_path: Path, registry: ServiceProcess, feed: tuple[Feed, str]) -> None:
    state, url = feed
    state.failures = -1  # for ever
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    procs = [stack.scheduler_process(tmp_path, registry.address, queues),
             stack.runner_process(tmp_path, registry.address, queues,
                                  FERRY_SHUTDOWN_GRACE="120s")]
    try:
        for proc in procs:
            proc.start()
        runner = procs[1]
        profile = http_profile("backoff", url, max_attempts=3)
        profile.retry.initial_backoff.CopyFrom(duration_pb2.Duration(seconds=60))
        profile.retry.max_backoff.CopyFrom(duration_pb2.Duration(seconds=60))
        profile.retry.max_elapsed.CopyFrom(duration_pb2.Duration(seconds=600))
        with RegistryClient(registry.address) as client:
            stack.apply_profile(client, profile)
            run = stack.start_run(client, "backoff")
            stack.wait_for(lambda: any(e.type == run_pb2.RUN_EVENT_TYPE_RETRY
                                       for e in stack.run_events(client, run.id)),
                           60, "the run's first RETRY event")
            started = time.monotonic()
            assert runner.stop(timeout=60) == 0, runner.output()[-3000:]
            assert time.monotonic() - started < 15  # not the minute, nor the grace
            back = stack.get_run(client, run.id)
            assert stack.status_name(back) == "RUN_STATUS_QUEUED", back
            assert back.attempt == 1
            assert "handed back" in runner.output()
        assert state.requests == 1
    finally:
        for proc in reversed(procs):
            proc.stop()
        queues.delete()
