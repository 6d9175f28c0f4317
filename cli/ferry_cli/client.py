"""The CLI's connection settings and its one lazily opened registry client.

Besides ``--registry`` and ``--timeout``, the client follows the variables
every Ferry client reads: ``FERRY_TOKEN`` (bearer token, a secret reference)
and ``FERRY_TLS_CA`` / ``FERRY_TLS_CLIENT_CERT`` / ``FERRY_TLS_CLIENT_KEY``
(TLS and mutual TLS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.grpc_client import RegistryClient

DEFAULT_REGISTRY = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 10.0


def _security() -> tuple[object | None, list[object]]:
    """Channel credentials and interceptors from FERRY_TLS_* and FERRY_TOKEN."""
    try:
        from ferry.security.auth import AuthConfig, client_auth_interceptors
        from ferry.security.tls import TlsConfig, channel_credentials
    except ImportError:  # a build without the security package
        return None, []
    credentials = channel_credentials(TlsConfig.from_env())
    interceptors = client_auth_interceptors(AuthConfig.from_env())
    return credentials, list(interceptors)


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
            credentials, interceptors = _security()
            if credentials is None and not interceptors:
                self._client = RegistryClient(self.address, timeout=self.timeout)
            else:
                self._client = RegistryClient(self.address, timeout=self.timeout,
                                              credentials=credentials,
                                              interceptors=interceptors)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
