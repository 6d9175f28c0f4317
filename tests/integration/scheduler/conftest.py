"""Fixtures for scheduler integration tests: a private topology on the shared
broker, a registry client, and scheduler processes stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient

from tests.integration.scheduler.support import Broker, private_broker, scheduler_process
from tests.support.needs import require_server
from tests.support.processes import ServiceProcess


@pytest.fixture
def broker() -> Iterator[Broker]:
    require_server("rabbitmq")
    with private_broker() as found:
        yield found


@pytest.fixture
def client(registry: ServiceProcess) -> Iterator[RegistryClient]:
    with RegistryClient(registry.address) as found:
        yield found


@pytest.fixture
def start_scheduler(tmp_path: Path, registry: ServiceProcess, broker: Broker
                    ) -> Iterator[Callable[..., ServiceProcess]]:
    started: list[ServiceProcess] = []

    def start(name: str = "scheduler", **env: str) -> ServiceProcess:
        proc = scheduler_process(tmp_path, registry, broker.prefix, name=name, **env)
        started.append(proc)
        return proc.start()

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()
