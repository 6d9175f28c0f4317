"""Bearer tokens and roles on a real gRPC server built by ferry.grpc_server:
refused calls never reach the servicer's handler."""

from __future__ import annotations

import grpc
import pytest
from ferry.config import Env
from ferry.security.auth import AuthConfig, client_auth_interceptors, server_auth_interceptor
from ferry.security.tls import TlsConfig, channel_credentials, server_credentials
from ferry.v1 import execution_service_pb2, run_service_pb2, run_service_pb2_grpc
from ferry.v1.execution_service_pb2_grpc import ExecutionServiceStub
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

TIMEOUT = 3.0
READER = "reader-token-0123456789abcdef"
OPERATOR = "operator-token-0123456789abcdef"
SERVICE = "service-token-0123456789abcdef"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# Ferry tokens\nreader:{READER}\nalice:operator:{OPERATOR}\n"
                    f"runner-1:service:{SERVICE}\n")
    return path


@pytest.fixture
def guarded(serve, token_file):
    """A plaintext server that requires tokens from FERRY_AUTH_TOKENS=file:..."""
    cfg = AuthConfig.from_env(Env({"FERRY_AUTH_TOKENS": f"file:{token_file}"}))
    interceptor = server_auth_interceptor(cfg)
    assert interceptor is not None
    return serve(interceptors=(interceptor,))


def _channel(port: int, token: str | None, monkeypatch) -> grpc.Channel:
    """A channel whose client is configured like the CLI: FERRY_TOKEN=env:NAME."""
    env = {}
    if token is not None:
        monkeypatch.setenv("TEST_FERRY_TOKEN", token)
        env["FERRY_TOKEN"] = "env:TEST_FERRY_TOKEN"
    interceptors = client_auth_interceptors(AuthConfig.from_env(Env(env)))
    return grpc.intercept_channel(grpc.insecure_channel(f"127.0.0.1:{port}"), *interceptors)


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def _get_run(channel):
    return run_service_pb2_grpc.RunServiceStub(channel).GetRun(
        run_service_pb2.GetRunRequest(id="run-1"), timeout=TIMEOUT)


def _cancel_run(channel):
    return run_service_pb2_grpc.RunServiceStub(channel).CancelRun(
        run_service_pb2.CancelRunRequest(id="run-1"), timeout=TIMEOUT)


def _watch_run(channel):
    return list(run_service_pb2_grpc.RunServiceStub(channel).WatchRun(
        run_service_pb2.WatchRunRequest(id="run-1"), timeout=TIMEOUT))


def _claim_run(channel):
    return ExecutionServiceStub(channel).ClaimRun(
        execution_service_pb2.ClaimRunRequest(run_id="run-1"), timeout=TIMEOUT)


def test_call_without_a_token_is_unauthenticated_and_never_handled(
        guarded, calls, monkeypatch) -> None:
    with _channel(guarded.port, None, monkeypatch) as channel:
        assert _code(lambda: _get_run(channel)) == grpc.StatusCode.UNAUTHENTICATED
        assert _code(lambda: _cancel_run(channel)) == grpc.StatusCode.UNAUTHENTICATED
    assert calls.names == []


def test_unknown_token_is_unauthenticated(guarded, calls, monkeypatch) -> None:
    with _channel(guarded.port, "not-a-known-token-at-all", monkeypatch) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            _get_run(channel)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "not-a-known-token-at-all" not in caught.value.details()
    assert calls.names == []


def test_reader_cannot_cancel_a_run_and_the_handler_never_runs(
        guarded, calls, monkeypatch) -> None:
    with _channel(guarded.port, READER, monkeypatch) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            _cancel_run(channel)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "needs role operator" in caught.value.details()
        assert calls.names == []
        assert _get_run(channel).run.id == "run-1"  # reading is allowed
    assert calls.names == ["GetRun"]


def test_operator_can_cancel_but_not_claim(guarded, calls, monkeypatch) -> None:
    with _channel(guarded.port, OPERATOR, monkeypatch) as channel:
        _cancel_run(channel)
        assert _code(lambda: _claim_run(channel)) == grpc.StatusCode.PERMISSION_DENIED
    assert calls.names == ["CancelRun"]


def test_service_token_claims_and_reads_but_cannot_cancel(guarded, calls, monkeypatch) -> None:
    with _channel(guarded.port, SERVICE, monkeypatch) as channel:
        _claim_run(channel)
        _get_run(channel)
        assert _code(lambda: _cancel_run(channel)) == grpc.StatusCode.PERMISSION_DENIED
    assert calls.names == ["ClaimRun", "GetRun"]


def test_streaming_method_is_guarded_too(guarded, calls, monkeypatch) -> None:
    with _channel(guarded.port, None, monkeypatch) as channel:
        assert _code(lambda: _watch_run(channel)) == grpc.StatusCode.UNAUTHENTICATED
    assert calls.names == []
    with _channel(guarded.port, SERVICE, monkeypatch) as channel:
        assert len(_watch_run(channel)) == 2
    assert calls.names == ["WatchRun"]


def test_health_needs_no_token(guarded, monkeypatch) -> None:
    with _channel(guarded.port, None, monkeypatch) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="ferry.v1.RunService"), timeout=TIMEOUT)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _list_services(channel) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=TIMEOUT)
    return [s.name for reply in replies for s in reply.list_services_response.service]


def test_reflection_needs_a_reader_token(guarded, monkeypatch) -> None:
    with _channel(guarded.port, None, monkeypatch) as channel:
        assert _code(lambda: _list_services(channel)) == grpc.StatusCode.UNAUTHENTICATED
    with _channel(guarded.port, READER, monkeypatch) as channel:
        assert "ferry.v1.RunService" in _list_services(channel)


def test_malformed_authorization_header_is_unauthenticated(guarded, calls) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        stub = run_service_pb2_grpc.RunServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetRun(run_service_pb2.GetRunRequest(id="run-1"), timeout=TIMEOUT,
                        metadata=[("authorization", f"Basic {READER}")])
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert calls.names == []


def test_server_without_token_table_lets_every_call_through(serve, calls, monkeypatch,
                                                            caplog) -> None:
    with caplog.at_level("WARNING", logger="ferry.security.auth"):
        assert server_auth_interceptor(AuthConfig.from_env(Env({}))) is None
    assert "authentication is OFF" in caplog.text
    server = serve()
    with _channel(server.port, None, monkeypatch) as channel:
        _cancel_run(channel)
    assert calls.names == ["CancelRun"]


def test_tokens_over_mutual_tls(pki, serve, calls, token_file, monkeypatch) -> None:
    tls = TlsConfig.from_env(Env({
        "FERRY_TLS_CERT": str(pki.cert("server")), "FERRY_TLS_KEY": str(pki.key("server")),
        "FERRY_TLS_CA": str(pki.cert("ca")), "FERRY_TLS_CLIENT_AUTH": "require",
        "FERRY_TLS_CLIENT_CERT": str(pki.cert("client")),
        "FERRY_TLS_CLIENT_KEY": str(pki.key("client"))}))
    auth = AuthConfig.from_env(Env({"FERRY_AUTH_TOKENS": f"file:{token_file}"}))
    server = serve(credentials=server_credentials(tls),
                   interceptors=(server_auth_interceptor(auth),))
    monkeypatch.setenv("TEST_FERRY_TOKEN", OPERATOR)
    client_auth = AuthConfig.from_env(Env({"FERRY_TOKEN": "env:TEST_FERRY_TOKEN"}))
    channel = grpc.intercept_channel(
        grpc.secure_channel(f"127.0.0.1:{server.port}", channel_credentials(tls)),
        *client_auth_interceptors(client_auth))
    with channel:
        _cancel_run(channel)
    assert calls.names == ["CancelRun"]
