"""Ferry's Prometheus metrics: exposed over HTTP under their documented names,
and gRPC calls timed by method and status code."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from ferry import errors
from ferry.config import ConfigError, Env
from ferry.grpc_server import create_server
from ferry.metrics import (
    RUN_STATUSES,
    FerryMetrics,
    GrpcMetricsInterceptor,
    metrics_address_from_env,
    parse_metrics_address,
    start_metrics_server,
    status_label,
)
from ferry.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

DOCUMENTED = {
    "ferry_runs": "counter",
    "ferry_runs_finished": "counter",
    "ferry_rows": "counter",
    "ferry_run_duration_seconds": "histogram",
    "ferry_run_requests_published": "counter",
    "ferry_run_requests_consumed": "counter",
    "ferry_lease_expiries": "counter",
    "ferry_retries": "counter",
    "ferry_grpc_server_handling_seconds": "histogram",
}


@pytest.fixture
def metrics() -> FerryMetrics:
    return FerryMetrics(CollectorRegistry())


def _scrape(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(family, suffix: str = "_total", **labels) -> float:
    for sample in family.samples:
        if sample.name == family.name + suffix and all(
                sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {family.name}{suffix} with {labels}")


def test_every_documented_metric_is_served_over_http(metrics) -> None:
    metrics.run_entered("RUN_STATUS_QUEUED")
    metrics.run_finished("RUN_STATUS_WARNING", "products", "OPERATION_IMPORT", 42.0)
    metrics.row_counts({"created": 3, "updated": 2, "skipped": 1, "errors": 1})
    metrics.request_published()
    metrics.request_consumed("duplicate")
    metrics.lease_expired()
    metrics.retried("attempt")
    metrics.grpc_call("/ferry.v1.RunService/GetRun", grpc.StatusCode.OK, 0.01)

    port = start_metrics_server("127.0.0.1:0", registry=metrics.registry)
    assert port > 0
    families = _scrape(port)

    for name, kind in DOCUMENTED.items():
        assert name in families, name
        assert families[name].type == kind, name
    assert _value(families["ferry_runs"], status="queued") == 1
    assert _value(families["ferry_runs"], status="warning") == 1
    assert _value(families["ferry_runs_finished"], status="warning", entity_type="products",
                  operation="import") == 1
    assert _value(families["ferry_rows"], outcome="created") == 3
    assert _value(families["ferry_rows"], outcome="error") == 1
    assert _value(families["ferry_rows"], outcome="unchanged") == 0
    assert _value(families["ferry_run_requests_consumed"], result="duplicate") == 1
    assert _value(families["ferry_run_requests_consumed"], result="dead_lettered") == 0
    assert _value(families["ferry_run_duration_seconds"], "_sum", operation="import") == 42.0
    assert _value(families["ferry_lease_expiries"]) == 1


def test_labels_outside_their_set_become_other(metrics) -> None:
    metrics.request_consumed("exploded")
    metrics.retried("something-new")
    assert metrics.registry.get_sample_value(
        "ferry_run_requests_consumed_total", {"result": "other"}) == 1
    assert metrics.registry.get_sample_value("ferry_retries_total", {"kind": "other"}) == 1
    assert metrics.registry.get_sample_value(
        "ferry_run_requests_consumed_total", {"result": "exploded"}) is None


def test_run_status_numbers_and_names_map_to_the_same_label(metrics) -> None:
    metrics.run_entered(3)  # RUN_STATUS_COMPLETED
    metrics.run_entered("completed")
    assert metrics.registry.get_sample_value("ferry_runs_total", {"status": "completed"}) == 2


def test_status_labels_follow_the_proto_enum(metrics) -> None:
    assert RUN_STATUSES == tuple(name.removeprefix("RUN_STATUS_").lower()
                                 for name, number in run_pb2.RunStatus.items() if number)
    for name, number in run_pb2.RunStatus.items():
        if number:
            assert status_label(number) == status_label(name) == name[11:].lower()
    assert status_label(run_pb2.RUN_STATUS_UNSPECIFIED) == "other"
    for status in RUN_STATUSES:  # a series per status from start-up
        assert metrics.registry.get_sample_value("ferry_runs_total", {"status": status}) == 0


@pytest.mark.parametrize(("address", "parsed"), [
    ("", None), ("127.0.0.1:9464", ("127.0.0.1", 9464)), (":9464", ("0.0.0.0", 9464)),
    ("[::1]:0", ("::1", 0)),
])
def test_metrics_address(address, parsed) -> None:
    assert parse_metrics_address(address) == parsed


def test_empty_address_turns_the_endpoint_off(metrics) -> None:
    assert start_metrics_server("", registry=metrics.registry) == 0


def test_bad_metrics_address_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        metrics_address_from_env(Env({"FERRY_METRICS_ADDRESS": "localhost"}))
    assert str(caught.value).startswith("FERRY_METRICS_ADDRESS")


class _Runs(run_service_pb2_grpc.RunServiceServicer):
    def GetRun(self, request, context):  # noqa: N802 - gRPC method name
        if request.id == "missing":
            raise errors.NotFoundError("run missing not found")
        return run_service_pb2.GetRunResponse()

    def WatchRun(self, request, context):  # noqa: N802
        yield run_service_pb2.WatchRunResponse()
        yield run_service_pb2.WatchRunResponse()


@pytest.fixture
def runs_stub(metrics) -> Iterator[run_service_pb2_grpc.RunServiceStub]:
    server = create_server(
        "127.0.0.1:0",
        lambda s: run_service_pb2_grpc.add_RunServiceServicer_to_server(_Runs(), s),
        ["ferry.v1.RunService"], max_workers=2,
        interceptors=[GrpcMetricsInterceptor(metrics)])
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield run_service_pb2_grpc.RunServiceStub(channel)
    finally:
        channel.close()
        server.stop(grace=0)


def _count(metrics: FerryMetrics, method: str, code: str) -> float | None:
    return metrics.registry.get_sample_value(
        "ferry_grpc_server_handling_seconds_count", {"method": method, "code": code})


def test_grpc_interceptor_records_calls_by_method_and_code(metrics, runs_stub) -> None:
    runs_stub.GetRun(run_service_pb2.GetRunRequest(id="r1"), timeout=5)
    runs_stub.GetRun(run_service_pb2.GetRunRequest(id="r2"), timeout=5)
    with pytest.raises(grpc.RpcError):
        runs_stub.GetRun(run_service_pb2.GetRunRequest(id="missing"), timeout=5)
    assert len(list(runs_stub.WatchRun(run_service_pb2.WatchRunRequest(id="r1"), timeout=5))) == 2

    assert _count(metrics, "ferry.v1.RunService/GetRun", "OK") == 2
    assert _count(metrics, "ferry.v1.RunService/GetRun", "NOT_FOUND") == 1
    assert _count(metrics, "ferry.v1.RunService/WatchRun", "OK") == 1
    assert metrics.registry.get_sample_value(
        "ferry_grpc_server_handling_seconds_sum",
        {"method": "ferry.v1.RunService/GetRun", "code": "OK"}) > 0


def test_calls_refused_by_auth_are_counted_with_their_code(metrics) -> None:
    from ferry.security.auth import AuthInterceptor
    from ferry.security.tokens import TokenTable

    guard = AuthInterceptor(TokenTable.parse("reader:reader-token-0123456789"))
    server = create_server(
        "127.0.0.1:0",
        lambda s: run_service_pb2_grpc.add_RunServiceServicer_to_server(_Runs(), s),
        ["ferry.v1.RunService"], max_workers=2,
        interceptors=[GrpcMetricsInterceptor(metrics), guard])
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = run_service_pb2_grpc.RunServiceStub(channel)
            with pytest.raises(grpc.RpcError):
                stub.GetRun(run_service_pb2.GetRunRequest(id="r1"), timeout=5)
            with pytest.raises(grpc.RpcError):
                list(stub.WatchRun(run_service_pb2.WatchRunRequest(id="r1"), timeout=5))
    finally:
        server.stop(grace=0)
    assert _count(metrics, "ferry.v1.RunService/GetRun", "UNAUTHENTICATED") == 1
    assert _count(metrics, "ferry.v1.RunService/WatchRun", "UNAUTHENTICATED") == 1


def test_every_metric_is_documented(metrics) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    for family in metrics.registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"| `{name}` | {family.type} |" in doc, name


def test_a_stream_the_client_abandons_is_recorded_as_cancelled(metrics) -> None:
    import time

    from tests.support.net import wait_until

    class Endless(run_service_pb2_grpc.RunServiceServicer):
        def WatchRun(self, request, context):  # noqa: N802
            for _ in range(200):
                yield run_service_pb2.WatchRunResponse()
                time.sleep(0.02)

    server = create_server(
        "127.0.0.1:0",
        lambda s: run_service_pb2_grpc.add_RunServiceServicer_to_server(Endless(), s),
        ["ferry.v1.RunService"], max_workers=2, interceptors=[GrpcMetricsInterceptor(metrics)])
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = run_service_pb2_grpc.RunServiceStub(channel).WatchRun(
                run_service_pb2.WatchRunRequest(id="r1"), timeout=10)
            next(call)
            call.cancel()
            wait_until(lambda: _count(metrics, "ferry.v1.RunService/WatchRun", "CANCELLED"),
                       timeout=3, what="the cancelled stream to be recorded")
    finally:
        server.stop(grace=0)
    assert _count(metrics, "ferry.v1.RunService/WatchRun", "OK") is None
