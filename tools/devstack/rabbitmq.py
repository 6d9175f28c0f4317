"""RabbitMQ for the dev stack: reach it at ``FERRY_AMQP_URL``, else start an
installed ``rabbitmq-server -detached`` and wait, else say what to install."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pika

from tools.devstack.errors import DevStackError

START_WAIT = 90.0


def amqp_reachable(url: str) -> bool:
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = 2
    try:
        pika.BlockingConnection(params).close()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


def find_rabbitmq_server() -> str | None:
    """``rabbitmq-server`` on PATH, or where Debian installs it (/usr/sbin is not
    on every user's PATH)."""
    found = shutil.which("rabbitmq-server")
    if found is None and Path("/usr/sbin/rabbitmq-server").exists():
        found = "/usr/sbin/rabbitmq-server"
    return found


def ensure_rabbitmq(url: str, *, report: Callable[[str], None],
                    stopping: threading.Event | None = None, wait: float = START_WAIT) -> None:
    """Return once ``url`` is reachable (or ``stopping`` is set); raise
    ``DevStackError`` with instructions when it cannot be."""
    if amqp_reachable(url):
        return
    server = find_rabbitmq_server()
    if server is None:
        raise DevStackError(
            f"RabbitMQ is not reachable at {url} and rabbitmq-server is not installed.\n"
            "Install and start it, then run `make run` again:\n"
            "  sudo apt-get install rabbitmq-server        (Debian/Ubuntu; starts the service)\n"
            "or run it in Docker:\n"
            "  docker run -d --name rabbitmq -p 5672:5672 rabbitmq:3-management")
    report(f"RabbitMQ is not reachable at {url}; starting `{server} -detached`")
    subprocess.run([server, "-detached"], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if stopping is not None and stopping.is_set():
            return
        if amqp_reachable(url):
            report("RabbitMQ is up")
            return
        time.sleep(1)
    raise DevStackError(f"started rabbitmq-server but {url} is still not reachable after "
                        f"{wait:.0f}s; see /var/log/rabbitmq/ for why")
