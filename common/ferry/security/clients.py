"""The security settings of a service that calls the registry (scheduler, runner).

``ClientSecurity.from_env()`` reads ``FERRY_TLS_*`` and ``FERRY_TOKEN`` once,
at start-up, and fails with one ``ConfigError`` line (naming the variable and
the file, never a secret) when a file is missing or holds no PEM block, when
the token reference cannot be resolved, or when ``FERRY_TOKEN`` holds a
literal token. ``registry_client(address)`` then builds a ``RegistryClient``
with the channel credentials, the server-name override and the bearer-token
interceptor, exactly as the CLI does.

``server_credentials`` is for the process's own gRPC server (health): TLS
when ``FERRY_TLS_CERT`` is set, plaintext otherwise. A client-only setting
such as ``FERRY_TLS_CLIENT_AUTH=require`` without a certificate is ignored
here (the process then serves health in plaintext, as before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc

from ferry.config import Env
from ferry.grpc_client import RegistryClient
from ferry.secrets import SecretRedactor
from ferry.security.auth import AuthConfig, client_auth_interceptors
from ferry.security.tls import (
    TlsConfig,
    channel_credentials,
    channel_options,
    server_credentials,
)


@dataclass
class ClientSecurity:
    tls: TlsConfig
    credentials: grpc.ChannelCredentials | None
    interceptors: list[Any]
    options: list[tuple[str, str]]
    redactor: SecretRedactor = field(default_factory=SecretRedactor)

    @classmethod
    def from_env(cls, env: Env | None = None, *,
                 redactor: SecretRedactor | None = None) -> ClientSecurity:
        """Raises ``ConfigError`` (one line) on unusable TLS files or token settings."""
        env = env or Env()
        redactor = redactor if redactor is not None else SecretRedactor()
        tls = TlsConfig.from_env(env)
        auth = AuthConfig.from_env(env)
        return cls(tls=tls, credentials=channel_credentials(tls),
                   interceptors=client_auth_interceptors(auth, redactor=redactor),
                   options=channel_options(tls), redactor=redactor)

    @property
    def describe(self) -> str:
        transport = "plaintext"
        if self.credentials is not None:
            transport = "mutual TLS" if self.tls.client_cert else "TLS"
        token = "bearer token" if self.interceptors else "no token"
        return f"{transport}, {token}"

    def registry_client(self, address: str, timeout: float = 10.0) -> RegistryClient:
        return RegistryClient(address, timeout=timeout, credentials=self.credentials,
                              interceptors=list(self.interceptors),
                              extra_options=list(self.options))

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """Credentials for the process's own (health) server."""
        if self.tls.cert is None:
            return None
        return server_credentials(self.tls)
