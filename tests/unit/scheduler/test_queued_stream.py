"""The queued-run stream's reader with a scripted registry: it re-opens a
broken stream with backoff, at once after a stream that delivered runs, and
stops promptly when the scheduler stops."""

from __future__ import annotations

import threading
import time

import grpc
from ferry.retry import RetrySettings
from ferry.v1 import dispatch_service_pb2 as dpb
from ferry.v1 import run_pb2
from ferry_scheduler.queued_stream import REOPEN, QueuedRunStream

from tests.support.net import wait_until


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code.name)
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class FakeStream:
    """A stream call: yields ``runs``, then breaks with UNAVAILABLE, or (``hold``)
    stays open until cancelled."""

    def __init__(self, runs: list[str], *, hold: bool = False) -> None:
        self.runs = runs
        self.hold = hold
        self.cancelled = threading.Event()

    def __iter__(self):  # noqa: ANN204
        for run_id in self.runs:
            yield dpb.StreamQueuedRunsResponse(run=run_pb2.Run(id=run_id))
        if self.hold:
            self.cancelled.wait()
            raise FakeRpcError(grpc.StatusCode.CANCELLED)
        raise FakeRpcError(grpc.StatusCode.UNAVAILABLE)

    def cancel(self) -> None:
        self.cancelled.set()


class ScriptedGateway:
    def __init__(self, streams: list[FakeStream]) -> None:
        self.streams = streams
        self.opened: list[float] = []

    def stream_queued(self) -> tuple[FakeStream, FakeStream]:
        self.opened.append(time.monotonic())
        stream = self.streams.pop(0) if self.streams else FakeStream([], hold=True)
        return stream, stream


def test_the_stream_is_reopened_with_backoff_and_at_once_after_it_delivered_runs(caplog):
    stopping = threading.Event()
    gateway = ScriptedGateway([FakeStream([]), FakeStream([]), FakeStream(["r1", "r2"])])
    stream = QueuedRunStream(gateway, stopping=stopping)  # type: ignore[arg-type]
    reader = threading.Thread(target=stream.read)
    reader.start()
    try:
        wait_until(lambda: len(gateway.opened) == 4, timeout=5, what="four streams")
    finally:
        stopping.set()
        stream.cancel()
        reader.join(5)
    assert not reader.is_alive()
    assert stream.received == 2
    gaps = [b - a for a, b in zip(gateway.opened, gateway.opened[1:], strict=False)]
    assert gaps[0] >= REOPEN.initial_backoff and gaps[1] >= 2 * REOPEN.initial_backoff
    assert gaps[2] < REOPEN.initial_backoff  # it had delivered runs: again at once
    assert "queued-runs stream broke (StatusCode.UNAVAILABLE); re-opening in" in caplog.text


def test_stopping_ends_a_wait_to_reopen_at_once():
    stopping = threading.Event()
    gateway = ScriptedGateway([FakeStream([])] * 20)
    slow = RetrySettings.forever(initial_backoff=30, max_backoff=30, retry_on=(Exception,))
    stream = QueuedRunStream(gateway, stopping=stopping, reopen=slow)  # type: ignore[arg-type]
    reader = threading.Thread(target=stream.read)
    reader.start()
    wait_until(lambda: len(gateway.opened) == 1, timeout=5, what="the first stream")
    time.sleep(0.1)
    started = time.monotonic()
    stopping.set()
    reader.join(5)
    assert time.monotonic() - started < 1
    assert len(gateway.opened) == 1
