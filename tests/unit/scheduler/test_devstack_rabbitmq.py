"""make run without a reachable RabbitMQ: start it when installed, else say
exactly what to install and exit 1."""

from __future__ import annotations

import pytest

from tests.support.net import free_port
from tools.devstack import rabbitmq
from tools.devstack.errors import DevStackError
from tools.devstack.stack import main

NOWHERE = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"


def test_missing_rabbitmq_says_what_to_install(monkeypatch):
    monkeypatch.setattr(rabbitmq, "find_rabbitmq_server", lambda: None)
    with pytest.raises(DevStackError) as caught:
        rabbitmq.ensure_rabbitmq(NOWHERE, report=lambda line: None)
    message = str(caught.value)
    assert "apt-get install rabbitmq-server" in message
    assert "docker run" in message and "5672:5672" in message


def test_installed_rabbitmq_is_started_detached_and_waited_for(monkeypatch):
    calls = []
    reachable = iter([False, False, True])
    monkeypatch.setattr(rabbitmq, "find_rabbitmq_server", lambda: "/usr/sbin/rabbitmq-server")
    monkeypatch.setattr(rabbitmq, "amqp_reachable", lambda url: next(reachable))
    monkeypatch.setattr(rabbitmq.subprocess, "run", lambda argv, **kw: calls.append(argv))
    monkeypatch.setattr(rabbitmq.time, "sleep", lambda seconds: None)
    rabbitmq.ensure_rabbitmq(NOWHERE, report=lambda line: None)
    assert calls == [["/usr/sbin/rabbitmq-server", "-detached"]]


def test_main_exits_1_with_the_instructions(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FERRY_AMQP_URL", NOWHERE)
    monkeypatch.setattr(rabbitmq, "find_rabbitmq_server", lambda: None)
    assert main() == 1
    out = capsys.readouterr().out
    assert "apt-get install rabbitmq-server" in out
