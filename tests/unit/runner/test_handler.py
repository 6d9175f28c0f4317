"""RunRequestHandler with a fake delivery, registry and executor (no network)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from ferry.v1 import execution_service_pb2 as ex
from ferry.v1 import profile_pb2, run_pb2, run_request_pb2
from ferry_runner.handler import RunRequestHandler
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.shutdown import Shutdown


class FakeDelivery:
    def __init__(self, body: bytes, content_type: str = "") -> None:
        self.body = body
        self.content_type = content_type
        self.delivery_tag = 1
        self.redelivered = False
        self.settled: list[str] = []

    def ack(self) -> bool:
        self.settled.append("ack")
        return True

    def nack(self, *, requeue: bool) -> bool:
        self.settled.append("requeue" if requeue else "dead-letter")
        return True


class RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._code.name.lower()


class FakeRegistry:
    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.claims: list[run_request_pb2.RunRequest] = []

    def claim(self, request: run_request_pb2.RunRequest) -> ex.ClaimRunResponse:
        self.claims.append(request)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


class FakeExecutor:
    def __init__(self) -> None:
        self.executed: list[Any] = []

    def execute(self, claim: Any) -> None:
        self.executed.append(claim)


def request_body(**fields: Any) -> bytes:
    values = {"schema_version": 1, "run_id": "run-9", "profile": "p", "attempt": 2, **fields}
    return run_request_pb2.RunRequest(**values).SerializeToString()


def handle(reply: Any, body: bytes | None = None) -> tuple[FakeDelivery, FakeRegistry,
                                                           FakeExecutor, RunnerMetrics]:
    registry, executor, metrics = FakeRegistry(reply), FakeExecutor(), RunnerMetrics()
    delivery = FakeDelivery(request_body() if body is None else body)
    RunRequestHandler(registry, executor, metrics, Shutdown(1),  # type: ignore[arg-type]
                      requeue_delay=0.01)(delivery)  # type: ignore[arg-type]
    return delivery, registry, executor, metrics


def claimed() -> ex.ClaimRunResponse:
    return ex.ClaimRunResponse(outcome=ex.CLAIM_OUTCOME_CLAIMED, fencing_token=4,
                               run=run_pb2.Run(id="run-9", profile="p", attempt=2),
                               profile=profile_pb2.Profile(name="p"))


def test_claimed_is_acked_before_it_executes() -> None:
    delivery, registry, executor, metrics = handle(claimed())
    assert delivery.settled == ["ack"]
    assert registry.claims[0].attempt == 2
    assert executor.executed[0].fencing_token == 4
    assert metrics.get("claimed") == 1


@pytest.mark.parametrize("outcome", [ex.CLAIM_OUTCOME_ALREADY_CLAIMED,
                                     ex.CLAIM_OUTCOME_FINISHED, ex.CLAIM_OUTCOME_STALE])
def test_duplicates_are_acked_dropped_and_counted(outcome: int) -> None:
    delivery, _, executor, metrics = handle(ex.ClaimRunResponse(outcome=outcome))
    assert delivery.settled == ["ack"] and not executor.executed
    assert metrics.get("duplicates") == 1


def test_deferred_is_acked_and_not_executed() -> None:
    delivery, _, executor, metrics = handle(ex.ClaimRunResponse(
        outcome=ex.CLAIM_OUTCOME_DEFERRED))
    assert delivery.settled == ["ack"] and not executor.executed
    assert metrics.get("deferred") == 1


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE,
                                  grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL])
def test_registry_trouble_requeues_the_request(code: grpc.StatusCode) -> None:
    delivery, _, executor, metrics = handle(RpcError(code))
    assert delivery.settled == ["requeue"] and not executor.executed
    assert metrics.get("claim_unavailable") == 1


def test_unspecified_outcome_requeues() -> None:
    delivery, _, _, _ = handle(ex.ClaimRunResponse())
    assert delivery.settled == ["requeue"]


def test_an_outcome_this_runner_does_not_know_requeues() -> None:
    delivery, _, executor, _ = handle(ex.ClaimRunResponse(outcome=99))
    assert delivery.settled == ["requeue"] and not executor.executed


def test_unknown_run_is_dead_lettered() -> None:
    delivery, _, _, metrics = handle(RpcError(grpc.StatusCode.NOT_FOUND))
    assert delivery.settled == ["dead-letter"]
    assert metrics.get("poison_messages") == 1


@pytest.mark.parametrize("body", [b"\xff\x00garbage", request_body(schema_version=99)])
def test_poison_is_dead_lettered_without_a_claim(body: bytes) -> None:
    delivery, registry, _, metrics = handle(claimed(), body)
    assert delivery.settled == ["dead-letter"] and not registry.claims
    assert metrics.get("poison_messages") == 1


def test_a_request_arriving_during_shutdown_goes_back_unclaimed() -> None:
    registry, executor, metrics = FakeRegistry(claimed()), FakeExecutor(), RunnerMetrics()
    shutdown = Shutdown(1)
    shutdown.begin("SIGTERM")
    delivery = FakeDelivery(request_body())
    RunRequestHandler(registry, executor, metrics, shutdown)(delivery)  # type: ignore[arg-type]
    assert delivery.settled == ["requeue"] and not registry.claims
