from __future__ import annotations

import pytest
from click.testing import CliRunner
from ferry_cli import client as client_module
from ferry_cli.app import cli

from tests.unit.cli.fakes import FakeRegistry


@pytest.fixture
def fake_registry(monkeypatch) -> FakeRegistry:
    fake = FakeRegistry()
    monkeypatch.setattr(client_module, "RegistryClient", lambda address, timeout: fake)
    return fake


@pytest.fixture
def invoke(monkeypatch):
    monkeypatch.delenv("FERRY_REGISTRY", raising=False)

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return run
