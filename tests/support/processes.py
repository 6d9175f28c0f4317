"""Start Ferry's services as real processes and always clean them up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ferry.grpc_client import is_serving

from tests.support.net import free_port, wait_until

BIN = Path(sys.executable).parent
PLUGINS = Path(__file__).resolve().parent / "plugins"


def base_env(**overrides: str) -> dict[str, str]:
    """The environment of a service or CLI process: no FERRY_ settings of the
    caller, JSON logs, and the test plugins (``tests/support/plugins``, such as
    the ``paced-csv`` connector) importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRY_")}
    path = [str(PLUGINS), *filter(None, [env.get("PYTHONPATH")])]
    env.update({"FERRY_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join(path)})
    env.update(overrides)
    return env


@dataclass
class ServiceProcess:
    """A running Ferry service; output goes to ``log_path``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    address: str = ""
    # Working directory; relative paths in profiles resolve against it.
    cwd: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, *, wait_healthy: bool = True, timeout: float = 30.0) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, cwd=self.cwd,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if wait_healthy and self.address:
            def ready() -> bool:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                       f"{self.output()[-4000:]}")
                return is_serving(self.address)
            wait_until(ready, timeout=timeout, what=f"{self.name} on {self.address}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.alive():
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, then SIGKILL if it does not exit."""
        if self.process is None:
            return None
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return self.process.returncode


def registry_process(tmp_dir: Path, database_url: str | None = None,
                     **env: str) -> ServiceProcess:
    address = f"127.0.0.1:{free_port()}"
    url = database_url or f"sqlite:///{tmp_dir / 'registry.db'}"
    return ServiceProcess(
        name="registry",
        argv=[str(BIN / "ferry-registry")],
        env=base_env(**{"FERRY_REGISTRY": address, "FERRY_DATABASE_URL": url,
                        "FERRY_STATE_DIR": str(tmp_dir / "state"),
                        # Run events go to the shared broker only when a test asks.
                        "FERRY_RUN_EVENTS": "off", **env}),
        log_path=tmp_dir / "logs" / f"registry-{address.rsplit(':', 1)[1]}.log",
        address=address,
    )
