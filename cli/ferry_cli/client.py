"""The CLI's connection settings and its one lazily opened registry client."""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.grpc_client import RegistryClient

DEFAULT_REGISTRY = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 10.0


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
            self._client = RegistryClient(self.address, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
