"""One supervised child process of the dev stack: start it, pump its output, stop it.

A child dies with the supervisor, whatever ends the supervisor:

- an orderly stop (Ctrl-C, SIGTERM, SIGHUP, an error) sends SIGTERM, waits
  ``STOP_TIMEOUT``, then SIGKILLs the child's process group;
- when the supervisor itself is killed (SIGKILL, a crash) nobody is left to
  stop anything, so on Linux each child is started through util-linux's
  ``setpriv --pdeathsig KILL``, which asks the kernel to SIGKILL it when its
  parent dies (``prctl(PR_SET_PDEATHSIG)``, kept across ``execve``). SIGKILL,
  not SIGTERM, because no one remains to escalate if a child hangs in its
  shutdown; what the stack keeps (the registry's SQLite file, leased runs) is
  crash-safe by design.

The setting is made by ``setpriv`` after the fork, not by a Python
``preexec_fn``: the supervisor has gRPC threads running (it waits on the
registry's health), and Python code run in a child forked from a threaded
process can deadlock or crash before ``exec``.

Each child runs in its own session, so a Ctrl-C reaches only the supervisor,
which then stops the children in order. The output pump keeps reading a
child's output after stdout is gone: a child blocked on a full pipe could not
stop.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from tools.devstack.console import SUPERVISOR

STOP_TIMEOUT = 10.0

Say = Callable[[str, str], None]


def die_with_parent_prefix() -> list[str]:
    """The argv prefix that makes the child receive SIGKILL when this process dies,
    or ``[]`` where there is no ``setpriv`` (not Linux).

    The kernel sends the signal when the *thread* that started the child ends,
    so children are started from the main thread only (``ChildProcess.start``).
    """
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


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
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError(f"start {self.name} from the main thread: the parent-death "
                               "signal fires when the starting thread ends")
        self.process = subprocess.Popen([*die_with_parent_prefix(), *self.argv], env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
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
