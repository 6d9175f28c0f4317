"""Fixtures shared by every test folder.

- ``postgres_url``: a fresh PostgreSQL database for the test, dropped after.
- ``registry``: a real ``ferry-registry`` process over a fresh SQLite file.
- ``run_cli``: run the ``ferry`` CLI as a subprocess against a registry.
- ``client``: a ``RegistryClient`` connected to ``registry``.
- ``services``: a real scheduler and runner on ``registry`` and ``queues``.
- ``queues``: a run-request topology under a unique prefix on the shared
  RabbitMQ, deleted after the test.

Before each test, the servers and commands its markers name are checked
(``tests.support.needs``): missing, the test is skipped with the reason,
or fails under CI.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient

from tests.integration.runner import stack
from tests.support import databases, needs
from tests.support.processes import BIN, ServiceProcess, base_env, registry_process


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in needs.SERVERS:
        if item.get_closest_marker(marker) is not None:
            needs.require_server(marker)
    for marker in item.iter_markers("tool"):
        for command in marker.args:
            needs.require_command(command)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url = databases.create_database()
    try:
        yield url
    finally:
        databases.drop_database(url)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ServiceProcess]:
    proc = registry_process(tmp_path).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def client(registry: ServiceProcess) -> Iterator[RegistryClient]:
    with RegistryClient(registry.address) as client:
        yield client


@pytest.fixture
def queues() -> Iterator[stack.Queues]:
    needs.require_server("rabbitmq")
    queues = stack.Queues(stack.SHARED_AMQP_URL).declare()
    try:
        yield queues
    finally:
        queues.delete()


@pytest.fixture
def services(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues
             ) -> Iterator[list[ServiceProcess]]:
    procs = [stack.scheduler_process(tmp_path, registry.address, queues),
             stack.runner_process(tmp_path, registry.address, queues)]
    try:
        for proc in procs:
            proc.start()
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, registry: ServiceProcess | None = None, input: str | None = None,
            env: dict[str, str] | None = None, timeout: float = 60.0
            ) -> subprocess.CompletedProcess[str]:
        extra = dict(env or {})
        if registry is not None:
            extra["FERRY_REGISTRY"] = registry.address
        return subprocess.run([str(BIN / "ferry"), *args], input=input, capture_output=True,
                              text=True, env=base_env(**extra), timeout=timeout)
    return run
