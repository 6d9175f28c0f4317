"""TLS settings from FERRY_TLS_*: combinations checked up front, files named
in one-line errors."""

from __future__ import annotations

import pytest
from ferry.config import ConfigError, Env
from ferry.security.tls import (
    TlsConfig,
    TlsConfigError,
    channel_credentials,
    channel_options,
    server_credentials,
)


def test_nothing_set_means_plaintext_both_ways() -> None:
    cfg = TlsConfig.from_env(Env({}))
    assert cfg.server_mode == "plaintext"
    assert server_credentials(cfg) is None
    assert channel_credentials(cfg) is None
    assert channel_options(cfg) == []


def test_full_mtls_configuration_is_read() -> None:
    cfg = TlsConfig.from_env(Env({
        "FERRY_TLS_CERT": "/tls/server.crt", "FERRY_TLS_KEY": "/tls/server.key",
        "FERRY_TLS_CA": "/tls/ca.crt", "FERRY_TLS_CLIENT_AUTH": "require",
        "FERRY_TLS_CLIENT_CERT": "/tls/client.crt", "FERRY_TLS_CLIENT_KEY": "/tls/client.key",
        "FERRY_TLS_SERVER_NAME": "registry.ferry.internal"}))
    assert cfg.server_mode == "mtls" and cfg.client_uses_tls
    assert str(cfg.ca) == "/tls/ca.crt"
    assert channel_options(cfg) == [("grpc.ssl_target_name_override", "registry.ferry.internal")]


@pytest.mark.parametrize(("env", "message"), [
    ({"FERRY_TLS_CERT": "/c"}, "FERRY_TLS_CERT and FERRY_TLS_KEY must be set together"),
    ({"FERRY_TLS_KEY": "/k"}, "FERRY_TLS_CERT and FERRY_TLS_KEY must be set together"),
    ({"FERRY_TLS_CLIENT_CERT": "/c"},
     "FERRY_TLS_CLIENT_CERT and FERRY_TLS_CLIENT_KEY must be set together"),
    ({"FERRY_TLS_CLIENT_AUTH": "maybe"}, "FERRY_TLS_CLIENT_AUTH='maybe' must be one of"),
])
def test_unusable_combinations_fail_fast(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TlsConfig.from_env(Env(env))
    assert message in str(caught.value)


@pytest.mark.parametrize(("env", "message"), [
    ({"FERRY_TLS_CERT": "/c", "FERRY_TLS_KEY": "/k", "FERRY_TLS_CLIENT_AUTH": "require"},
     "FERRY_TLS_CLIENT_AUTH=require needs FERRY_TLS_CA"),
    ({"FERRY_TLS_CA": "/ca", "FERRY_TLS_CLIENT_AUTH": "require"},
     "FERRY_TLS_CLIENT_AUTH=require needs FERRY_TLS_CERT and FERRY_TLS_KEY"),
])
def test_required_client_auth_never_falls_back_to_plaintext(env, message) -> None:
    cfg = TlsConfig.from_env(Env(env))  # a client-only process may share these settings
    with pytest.raises(TlsConfigError) as caught:
        server_credentials(cfg)
    assert str(caught.value).startswith(message)


def test_missing_server_certificate_names_the_variable_and_file(tmp_path) -> None:
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    cert = tmp_path / "missing.crt"
    cfg = TlsConfig(cert=cert, key=key)
    with pytest.raises(TlsConfigError) as caught:
        server_credentials(cfg)
    message = str(caught.value)
    assert message == (f"FERRY_TLS_CERT: cannot read certificate file {cert}: "
                       "No such file or directory")
    assert "\n" not in message


def test_unreadable_ca_bundle_names_the_variable_and_file(tmp_path) -> None:
    ca = tmp_path / "ca.crt"
    ca.mkdir()  # unreadable as a file, even for root
    with pytest.raises(TlsConfigError) as caught:
        channel_credentials(TlsConfig(ca=ca))
    assert str(caught.value) == f"FERRY_TLS_CA: cannot read CA bundle file {ca}: Is a directory"


def test_client_key_that_is_not_pem_is_named(tmp_path) -> None:
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    key.write_text("hello\n")
    with pytest.raises(TlsConfigError) as caught:
        channel_credentials(TlsConfig(client_cert=cert, client_key=key))
    assert str(caught.value).startswith(f"FERRY_TLS_CLIENT_KEY: client private key file {key}")
