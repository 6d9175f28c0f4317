"""What a test needs from the machine, and what happens when it is missing.

A test declares its needs with markers (pyproject.toml): ``postgres``,
``rabbitmq`` and ``mariadb`` for the shared servers, ``tool("tmux")`` for a
command from TEST_DEBIAN_PACKAGES; ``tests/conftest.py`` checks them before
the test runs. The fixtures and helpers that create a database or a broker
topology check too, for tests that reach a server through them.

When a need is not met the test is skipped with the reason; under CI
(``CI=true``, as CI runs ``.ci/run``) it fails instead, because a CI run that
skips what it cannot reach would pass without testing it. ``make test``
installs the packages and starts the servers first (tools/test-setup.sh).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

POSTGRES_URL = os.environ.get("FERRY_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AMQP_URL = os.environ.get("FERRY_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
MARIADB_URL = os.environ.get("FERRY_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


@dataclass(frozen=True)
class Server:
    """A shared server the tests reach at ``url`` (its host and port)."""

    name: str
    url: str
    default_port: int

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or self.default_port


SERVERS = {
    "postgres": Server("PostgreSQL", POSTGRES_URL, 5432),
    "rabbitmq": Server("RabbitMQ", AMQP_URL, 5672),
    "mariadb": Server("MariaDB", MARIADB_URL, 3306),
}


def unavailable(reason: str) -> NoReturn:
    """Skip the current test for ``reason``, or fail it under CI."""
    if CI:
        pytest.fail(f"{reason} (CI=true: a test that cannot run fails)", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _server_problem(marker: str) -> str | None:
    """Why the server of ``marker`` cannot be reached, or None. Checked once
    per test process: a TCP connection to its port."""
    server = SERVERS[marker]
    host, port = server.address
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        return (f"{server.name} is not reachable on {host}:{port} ({exc.strerror or exc}); "
                "make test starts it")
    return None


def require_server(marker: str) -> None:
    """The server of ``marker`` (``postgres``, ``rabbitmq``, ``mariadb``) answers,
    or the test is skipped (failed under CI)."""
    problem = _server_problem(marker)
    if problem:
        unavailable(problem)


def require_command(name: str) -> None:
    if shutil.which(name) is None:
        unavailable(f"{name} is not installed; make test installs it (TEST_DEBIAN_PACKAGES)")
