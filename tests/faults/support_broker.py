"""A private RabbitMQ node for fault tests that restart the broker.

The broker at 127.0.0.1:5672 is shared by tests running at the same time, so
a test that restarts RabbitMQ starts its own node instead:
``rabbitmq-server`` with its own node name (``ferrytest-<random>@localhost``),
AMQP and distribution ports, data, log and config files under the test's
``tmp_path``, and no plugins. ``restart()`` stops the node and starts it on the
same ports and data directory, so durable quorum queues and persistent
messages survive. ``stop()`` uses ``rabbitmqctl stop`` and kills the process
group as a fallback.

``private_broker_unavailable()`` returns a reason to skip when this machine
cannot run a node (no rabbitmq-server, or it fails to boot).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.net import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


def _tool(name: str) -> str | None:
    candidate = RABBITMQ_BIN / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


def private_broker_unavailable() -> str | None:
    """Why a private node cannot be started here, or None."""
    if _tool("rabbitmq-server") is None or _tool("rabbitmqctl") is None:
        return "rabbitmq-server/rabbitmqctl are not installed"
    return None


@dataclass
class PrivateBroker:
    base: Path
    node: str = field(default_factory=lambda: f"ferrytest-{uuid.uuid4().hex[:8]}@localhost")
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = field(default=None, repr=False)
    starts: int = 0

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("")
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users = none\n"
            "disk_free_limit.absolute = 1MB\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        env.update({
            "HOME": str(self.base),  # the Erlang cookie lives here, shared with rabbitmqctl
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        })
        return env

    def _ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([_tool("rabbitmqctl") or "rabbitmqctl", "-n", self.node, *args],
                              env=self._env(), capture_output=True, text=True, timeout=timeout)

    def start(self, timeout: float = 60) -> PrivateBroker:
        self.starts += 1
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.pid").unlink(missing_ok=True)
        log = (self.base / f"server-{self.starts}.log").open("ab")
        self.process = subprocess.Popen([_tool("rabbitmq-server") or "rabbitmq-server"],
                                        env=self._env(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        waited = self._ctl("wait", str(self.base / "rabbitmq.pid"), "--timeout",
                           str(int(timeout)), timeout=timeout + 10)
        if waited.returncode != 0 or self.process.poll() is not None:
            output = self.output()
            self.kill()
            raise RuntimeError(f"private RabbitMQ node {self.node} did not start:\n"
                               f"{waited.stdout}{waited.stderr}\n{output[-3000:]}")
        return self

    def output(self) -> str:
        return "".join(p.read_text(errors="replace")
                       for p in sorted(self.base.glob("server-*.log")))

    def stop(self, timeout: float = 60) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self._ctl("stop", timeout=timeout)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()
