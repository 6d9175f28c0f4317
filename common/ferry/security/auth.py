"""Bearer-token authentication and role checks for Ferry's gRPC APIs.

Server side: ``AuthInterceptor`` reads ``authorization: Bearer <token>``
from the call's metadata, finds the token's principal in a ``TokenTable``
and checks the method's role (``ferry.security.roles``). A refused call gets
UNAUTHENTICATED (no token, malformed header, unknown token) or
PERMISSION_DENIED (the role does not cover the method); the servicer's
handler is never called and the request body is never parsed. Health
checking is always open.

Client side: ``BearerTokenInterceptor`` adds the header to every call, for
unary and streaming methods alike.

Configuration (``AuthConfig.from_env``), both values are secret references
(``env:NAME`` or ``file:/absolute/path``), never the secret itself:

- ``FERRY_AUTH_TOKENS``: the token table a server accepts. Unset: auth is
  off, every caller may call every method, and ``server_auth_interceptor``
  logs a warning.
- ``FERRY_TOKEN``: the token a client (CLI, scheduler, runner) sends.
  Unset: no header is sent.

Both are read once, when the process starts; restart to rotate tokens.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from ferry.config import ConfigError, Env
from ferry.secrets import SecretError, SecretRedactor, check_secret_ref, resolve_secret
from ferry.security.roles import allows, is_open, required_role
from ferry.security.tokens import Principal, TokenTable

log = logging.getLogger(__name__)

AUTH_TOKENS_VAR = "FERRY_AUTH_TOKENS"
TOKEN_VAR = "FERRY_TOKEN"
AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class AuthConfig:
    """Where the server's token table and the client's token live (references)."""

    tokens_ref: str = ""
    token_ref: str = ""

    @property
    def server_auth_enabled(self) -> bool:
        return bool(self.tokens_ref)

    @classmethod
    def from_env(cls, env: Env | None = None) -> AuthConfig:
        env = env or Env()
        tokens_ref = env.str(AUTH_TOKENS_VAR, "").strip()
        token_ref = env.str(TOKEN_VAR, "").strip()
        for name, ref in ((AUTH_TOKENS_VAR, tokens_ref), (TOKEN_VAR, token_ref)):
            if check_secret_ref(ref, name):
                raise ConfigError(
                    f"{name} must reference a secret as env:NAME or file:/absolute/path, "
                    f"not hold its value")
        return cls(tokens_ref=tokens_ref, token_ref=token_ref)


def load_token_table(cfg: AuthConfig) -> TokenTable | None:
    """The token table ``FERRY_AUTH_TOKENS`` references, or None when auth is off."""
    if not cfg.server_auth_enabled:
        return None
    try:
        text = resolve_secret(cfg.tokens_ref)
    except SecretError as exc:
        raise ConfigError(f"{AUTH_TOKENS_VAR}: {exc}") from None
    # A reference names a place, never a value, so it is safe to show.
    return TokenTable.parse(text, source=f"{AUTH_TOKENS_VAR} ({cfg.tokens_ref})")


def server_auth_interceptor(cfg: AuthConfig) -> AuthInterceptor | None:
    """The interceptor to pass to ``create_server``, or None (with a warning)
    when ``FERRY_AUTH_TOKENS`` is unset."""
    table = load_token_table(cfg)
    if table is None:
        log.warning("authentication is OFF: %s is not set, so every caller may call every "
                    "method; set it to require bearer tokens", AUTH_TOKENS_VAR)
        return None
    log.info("bearer-token authentication on: %r", table)
    return AuthInterceptor(table)


def bearer_token(metadata: Sequence[Any] | None) -> tuple[str | None, str]:
    """``(token, "")`` from call metadata, or ``(None, reason)``."""
    values = [m.value if hasattr(m, "value") else m[1]
              for m in (metadata or ())
              if (m.key if hasattr(m, "key") else m[0]).lower() == AUTHORIZATION]
    if not values:
        return None, "missing bearer token (send 'authorization: Bearer <token>')"
    if len(values) > 1:
        return None, "more than one authorization header"
    value = values[0]
    if isinstance(value, bytes):
        return None, "malformed authorization header"
    scheme, _, credential = value.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return None, "authorization header is not 'Bearer <token>'"
    return credential, ""


def _refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode,
             message: str) -> grpc.RpcMethodHandler:
    """A handler of the same kind as ``handler`` that only aborts.

    No request deserializer: an unauthenticated body is never parsed.
    """
    def abort(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(abort)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(abort)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(abort)
    return grpc.stream_stream_rpc_method_handler(abort)


class AuthInterceptor(grpc.ServerInterceptor):
    """Refuses calls without a known token whose role covers the method."""

    def __init__(self, tokens: TokenTable) -> None:
        self._tokens = tokens

    def authorize(self, method: str, metadata: Sequence[Any] | None
                  ) -> tuple[grpc.StatusCode | None, str, Principal | None]:
        """``(None, "", principal)`` when allowed, else ``(code, message, principal)``."""
        if is_open(method):
            return None, "", None
        token, problem = bearer_token(metadata)
        if token is None:
            return grpc.StatusCode.UNAUTHENTICATED, problem, None
        who = self._tokens.lookup(token)
        if who is None:
            return grpc.StatusCode.UNAUTHENTICATED, "unknown bearer token", None
        if not allows(who.role, method):
            needed = required_role(method)
            need = f"it needs role {needed.value}" if needed else "no role may call it"
            return (grpc.StatusCode.PERMISSION_DENIED,
                    f"{who.name} (role {who.role.value}) may not call {method}: {need}", who)
        return None, "", who

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # UNIMPLEMENTED; nothing to protect
        method = handler_call_details.method
        code, message, who = self.authorize(method, handler_call_details.invocation_metadata)
        if code is None:
            return handler
        log.warning("refused %s: %s", method, message, extra={"fields": {
            "method": method, "code": code.name, "principal": who.name if who else ""}})
        return _refusal(handler, code, message)


class _CallDetails(collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials",
                         "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    pass


class BearerTokenInterceptor(grpc.UnaryUnaryClientInterceptor,
                             grpc.UnaryStreamClientInterceptor,
                             grpc.StreamUnaryClientInterceptor,
                             grpc.StreamStreamClientInterceptor):
    """Adds ``authorization: Bearer <token>`` to every call."""

    def __init__(self, token: str) -> None:
        if not token or any(ch.isspace() or not ch.isprintable() for ch in token):
            raise ValueError("bearer token is empty or holds whitespace or control characters")
        self._value = f"Bearer {token}"

    def __repr__(self) -> str:
        return "BearerTokenInterceptor(***)"

    def _with_token(self, details: grpc.ClientCallDetails) -> _CallDetails:
        metadata = [(k, v) for k, v in (details.metadata or ()) if k.lower() != AUTHORIZATION]
        metadata.append((AUTHORIZATION, self._value))
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None),
                            getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(client_call_details), request_iterator)


def client_auth_interceptors(cfg: AuthConfig, *, redactor: SecretRedactor | None = None
                             ) -> list[BearerTokenInterceptor]:
    """``[BearerTokenInterceptor]`` for the token ``FERRY_TOKEN`` references, or
    ``[]`` when it is unset. Pass the result as ``interceptors=`` to
    ``RegistryClient``/``open_channel``. The token is added to ``redactor``."""
    if not cfg.token_ref:
        return []
    try:
        token = resolve_secret(cfg.token_ref).strip()
    except SecretError as exc:
        raise ConfigError(f"{TOKEN_VAR}: {exc}") from None
    if redactor is not None:
        redactor.add(token)
    try:
        return [BearerTokenInterceptor(token)]
    except ValueError as exc:
        raise ConfigError(f"{TOKEN_VAR} ({cfg.token_ref}): {exc}") from None
