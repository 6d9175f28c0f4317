"""One supervised child process of the dev stack: start it, pump its output, stop
it (SIGTERM, wait ``STOP_TIMEOUT``, then SIGKILL its process group).

Each child runs in its own session, so a Ctrl-C reaches only the supervisor,
which then stops the children in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable

from tools.devstack.console import SUPERVISOR

STOP_TIMEOUT = 10.0

Say = Callable[[str, str], None]


class ChildProcess:
    """A named child whose output lines go to ``say(name, line)``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], say: Say) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self._say = say
        self.process: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> ChildProcess:
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        self._pump = threading.Thread(target=self._pump_output, name=f"pump-{self.name}",
                                      daemon=True)
        self._pump.start()
        return self

    def _pump_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self._say(self.name, raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, wait ``timeout``, then SIGKILL the child's process group."""
        if self.process is None:
            return
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._say(SUPERVISOR, f"{self.name} did not stop in {timeout:.0f}s; killing it")
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        if self._pump is not None:
            self._pump.join(timeout=2)
