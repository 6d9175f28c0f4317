"""The CLI's connection settings and its one lazily opened registry client.

Besides ``--registry`` and ``--timeout``, the client follows the variables
every Ferry client reads: ``FERRY_TOKEN`` (bearer token, a secret reference)
and ``FERRY_TLS_CA`` / ``FERRY_TLS_CLIENT_CERT`` / ``FERRY_TLS_CLIENT_KEY``
(TLS and mutual TLS), ``FERRY_TLS_SERVER_NAME`` (expected server name).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.grpc_client import RegistryClient

DEFAULT_REGISTRY = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 10.0


def _security() -> dict[str, object]:
    """RegistryClient keyword arguments from FERRY_TLS_* and FERRY_TOKEN; empty
    when neither is set (plaintext, no token)."""
    try:
        from ferry.security.auth import AuthConfig, client_auth_interceptors
        from ferry.security.tls import TlsConfig, channel_credentials, channel_options
    except ImportError:  # a build without the security package
        return {}
    tls = TlsConfig.from_env()
    settings: dict[str, object] = {
        "credentials": channel_credentials(tls),
        "interceptors": list(client_auth_interceptors(AuthConfig.from_env())),
        "extra_options": channel_options(tls),
    }
    return {key: value for key, value in settings.items() if value}


@dataclass
class CliContext:
    """What every command needs: where the registry is and how to print."""

    address: str = DEFAULT_REGISTRY
    timeout: float = DEFAULT_TIMEOUT
    output: str = "table"
    _client: RegistryClient | None = field(default=None, repr=False)

    @property
    def client(self) -> RegistryClient:
        if self._client is None:
            self._client = RegistryClient(self.address, timeout=self.timeout,
                                          **_security())  # type: ignore[arg-type]
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
