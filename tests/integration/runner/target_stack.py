"""Fixtures of the flows that read a runner's target: the target database
(SQLite in tmp_path, or a throw-away PostgreSQL database), and a scheduler
and a runner writing to it. Test modules import them by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def services(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues,
             target_url: str) -> Iterator[list[ServiceProcess]]:
    """A scheduler and a runner writing to ``target_url``."""
    procs = [stack.scheduler_process(tmp_path, registry.address, queues),
             stack.runner_process(tmp_path, registry.address, queues,
                                  FERRY_TARGET_URL=target_url)]
    try:
        for proc in procs:
            proc.start()
        yield procs
    finally:
        for proc in procs:
            proc.stop()
