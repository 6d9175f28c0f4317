"""A real registry gRPC server in-process on port 0, over SQLite and PostgreSQL.

Every test gets a fresh database and a ``FakeClock`` it can move; the lease
reaper thread is off, tests call ``reap()`` to run one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ferry.clock import FakeClock
from ferry.grpc_client import RegistryClient
from ferry.grpc_server import GrpcServer
from ferry_registry.config import RegistryConfig
from ferry_registry.server import Registry, create_registry_server

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def server(database_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[GrpcServer]:
    config = RegistryConfig(address="127.0.0.1:0", database_url=database_url,
                            state_dir=tmp_path, grace=0.5)
    grpc_server, stop = create_registry_server(config, clock, start_reaper=False)
    try:
        yield grpc_server
    finally:
        stop()


@pytest.fixture
def internals(server: GrpcServer) -> Registry:
    return server.registry  # type: ignore[attr-defined]


@pytest.fixture
def reap(internals: Registry) -> Callable[[], int]:
    return internals.reaper.reap_once


@pytest.fixture
def client(server: GrpcServer) -> Iterator[RegistryClient]:
    with RegistryClient(f"127.0.0.1:{server.port}", timeout=15) as registry_client:
        yield registry_client
