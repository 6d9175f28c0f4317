"""TLS and mutual TLS on a real gRPC server built by ferry.grpc_server,
configured the way operators configure it: FERRY_TLS_* variables."""

from __future__ import annotations

import grpc
import pytest
from ferry.config import Env
from ferry.security.tls import (
    TlsConfig,
    TlsConfigError,
    channel_credentials,
    channel_options,
    server_credentials,
)
from ferry.v1 import run_service_pb2, run_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT = 3.0


def _server_env(pki, *, mtls: bool, cert: str = "server") -> TlsConfig:
    env = {"FERRY_TLS_CERT": str(pki.cert(cert)), "FERRY_TLS_KEY": str(pki.key(cert))}
    if mtls:
        env |= {"FERRY_TLS_CA": str(pki.cert("ca")), "FERRY_TLS_CLIENT_AUTH": "require"}
    return TlsConfig.from_env(Env(env))


def _client_env(pki, *, ca: str | None = "ca", client: str | None = None,
                server_name: str = "") -> TlsConfig:
    env: dict[str, str] = {}
    if ca:
        env["FERRY_TLS_CA"] = str(pki.cert(ca))
    if client:
        env |= {"FERRY_TLS_CLIENT_CERT": str(pki.cert(client)),
                "FERRY_TLS_CLIENT_KEY": str(pki.key(client))}
    if server_name:
        env["FERRY_TLS_SERVER_NAME"] = server_name
    return TlsConfig.from_env(Env(env))


def _channel(port: int, cfg: TlsConfig | None, host: str = "127.0.0.1") -> grpc.Channel:
    address = f"{host}:{port}"
    creds = channel_credentials(cfg) if cfg is not None else None
    if creds is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, creds, options=channel_options(cfg))


def _health(channel: grpc.Channel) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=TIMEOUT).status


def _get_run(channel: grpc.Channel) -> str:
    reply = run_service_pb2_grpc.RunServiceStub(channel).GetRun(
        run_service_pb2.GetRunRequest(id="run-1"), timeout=TIMEOUT)
    return reply.run.id


def _refused(channel: grpc.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        _get_run(channel)
    return caught.value.code()


def test_tls_server_serves_a_client_that_trusts_its_ca(pki, serve, calls) -> None:
    server = serve(credentials=server_credentials(_server_env(pki, mtls=False)))
    with _channel(server.port, _client_env(pki)) as channel:
        assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
        assert _get_run(channel) == "run-1"
    assert calls.names == ["GetRun"]


def test_tls_server_refuses_a_plaintext_client(pki, serve, calls) -> None:
    server = serve(credentials=server_credentials(_server_env(pki, mtls=False)))
    with _channel(server.port, None) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE
    assert calls.names == []


def test_client_refuses_a_server_signed_by_another_ca(pki, serve, calls) -> None:
    server = serve(credentials=server_credentials(_server_env(pki, mtls=False)))
    with _channel(server.port, _client_env(pki, ca="rogue-ca")) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE
    assert calls.names == []


def test_mtls_server_refuses_a_client_without_a_certificate(pki, serve, calls) -> None:
    server = serve(credentials=server_credentials(_server_env(pki, mtls=True)))
    with _channel(server.port, _client_env(pki)) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE
    assert calls.names == []


def test_mtls_server_refuses_a_client_certificate_from_another_ca(pki, serve, calls) -> None:
    server = serve(credentials=server_credentials(_server_env(pki, mtls=True)))
    with _channel(server.port, _client_env(pki, client="rogue-client")) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE
    assert calls.names == []


def test_mtls_server_serves_a_client_with_a_certificate_from_its_ca(pki, serve, calls) -> None:
    server = serve(credentials=server_credentials(_server_env(pki, mtls=True)))
    with _channel(server.port, _client_env(pki, client="client")) as channel:
        assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
        assert _get_run(channel) == "run-1"
    assert calls.names == ["GetRun"]


def test_server_name_override_checks_the_certificate_against_that_name(pki, serve) -> None:
    server = serve(credentials=server_credentials(
        _server_env(pki, mtls=False, cert="named-server")))
    with _channel(server.port, _client_env(pki)) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE  # 127.0.0.1 is not in the cert
    with _channel(server.port, _client_env(pki, server_name="registry.ferry.test")) as channel:
        assert _get_run(channel) == "run-1"
    with _channel(server.port, _client_env(pki, server_name="other.ferry.test")) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE


def test_server_key_that_is_not_a_pem_file_is_named_in_the_error(pki, tmp_path) -> None:
    key = tmp_path / "server.key"
    key.write_text("not a key\n")
    cfg = TlsConfig.from_env(Env({"FERRY_TLS_CERT": str(pki.cert("server")),
                                  "FERRY_TLS_KEY": str(key)}))
    with pytest.raises(TlsConfigError) as caught:
        server_credentials(cfg)
    assert str(caught.value).startswith(f"FERRY_TLS_KEY: private key file {key} holds no PEM")
