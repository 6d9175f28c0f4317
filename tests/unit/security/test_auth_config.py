"""Auth configuration by reference, and the client's bearer-token header."""

from __future__ import annotations

import grpc
import pytest
from ferry.config import ConfigError, Env
from ferry.secrets import SecretRedactor
from ferry.security.auth import (
    AuthConfig,
    AuthInterceptor,
    BearerTokenInterceptor,
    bearer_token,
    client_auth_interceptors,
    load_token_table,
)
from ferry.security.roles import Role
from ferry.security.tokens import TokenTable

TOKEN = "operator-token-0123456789"


def test_unset_means_auth_off_and_no_client_header() -> None:
    cfg = AuthConfig.from_env(Env({}))
    assert not cfg.server_auth_enabled
    assert load_token_table(cfg) is None
    assert client_auth_interceptors(cfg) == []


@pytest.mark.parametrize("name", ["FERRY_AUTH_TOKENS", "FERRY_TOKEN"])
def test_literal_secrets_are_refused(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AuthConfig.from_env(Env({name: TOKEN}))
    assert str(caught.value).startswith(f"{name} must reference a secret")
    assert TOKEN not in str(caught.value)


def test_token_table_from_a_file_reference(tmp_path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"alice:operator:{TOKEN}\n")
    table = load_token_table(AuthConfig(tokens_ref=f"file:{path}"))
    assert table is not None and table.lookup(TOKEN).role is Role.OPERATOR


def test_missing_token_file_names_the_variable_and_file(tmp_path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as caught:
        load_token_table(AuthConfig(tokens_ref=f"file:{missing}"))
    assert str(caught.value).startswith("FERRY_AUTH_TOKENS: secret file:")
    assert str(missing) in str(caught.value)


def test_client_token_from_env_reference_is_sent_and_redacted(monkeypatch) -> None:
    monkeypatch.setenv("MY_FERRY_TOKEN", TOKEN + "\n")
    redactor = SecretRedactor()
    [interceptor] = client_auth_interceptors(AuthConfig(token_ref="env:MY_FERRY_TOKEN"),
                                             redactor=redactor)
    seen = []

    def continuation(details, request):
        seen.append(details)
        return "response"

    details = grpc.ClientCallDetails()
    details.method, details.timeout, details.credentials = "/ferry.v1.RunService/GetRun", 5, None
    details.metadata = [("x-request-id", "1"), ("authorization", "Bearer stale")]
    assert interceptor.intercept_unary_unary(continuation, details, object()) == "response"
    assert seen[0].metadata == [("x-request-id", "1"), ("authorization", f"Bearer {TOKEN}")]
    assert seen[0].timeout == 5
    assert redactor.redact(f"token={TOKEN}") == "token=***"
    assert TOKEN not in repr(interceptor)


def test_client_token_must_be_one_word() -> None:
    with pytest.raises(ValueError):
        BearerTokenInterceptor("two words")


@pytest.mark.parametrize(("metadata", "token"), [
    ([("authorization", f"Bearer {TOKEN}")], TOKEN),
    ([("authorization", f"bearer   {TOKEN} ")], TOKEN),
    ([("Authorization", f"Bearer {TOKEN}")], TOKEN),
    ([], None),
    ([("authorization", f"Basic {TOKEN}")], None),
    ([("authorization", "Bearer ")], None),
    ([("authorization", f"Bearer {TOKEN}"), ("authorization", f"Bearer {TOKEN}")], None),
])
def test_bearer_token_parsing(metadata, token) -> None:
    assert bearer_token(metadata)[0] == token


def test_authorize_explains_the_refusal() -> None:
    guard = AuthInterceptor(TokenTable.parse(f"alice:reader:{TOKEN}"))
    method = "/ferry.v1.RunService/CancelRun"
    assert guard.authorize(method, [])[0] == grpc.StatusCode.UNAUTHENTICATED
    code, message, who = guard.authorize(method, [("authorization", f"Bearer {TOKEN}")])
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert message == ("alice (role reader) may not call /ferry.v1.RunService/CancelRun: "
                       "it needs role operator")
    code, message, _ = guard.authorize("/ferry.v1.RunService/Nope",
                                       [("authorization", f"Bearer {TOKEN}")])
    assert code == grpc.StatusCode.PERMISSION_DENIED and "no role may call it" in message
    assert guard.authorize("/grpc.health.v1.Health/Check", [])[0] is None
