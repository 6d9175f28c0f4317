"""The dev stack's output: one ``name | line`` per log line, coloured on a terminal.

Stdout can go away while the stack runs: ``make run | tee log`` and Ctrl-C
kill ``tee`` at once, so writes fail with EPIPE; a closed terminal makes them
fail with EIO. Printing is a convenience and stopping the children is not, so
the console then goes quiet for good, every caller carries on, and
``on_gone`` runs once: the stack stops in order, where a plain program would
die of SIGPIPE (``make run | head`` ends once ``head`` has its lines).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TextIO

COLORS = {"registry": "35", "scheduler": "36", "runner-1": "32", "runner-2": "33",
          "stock-http": "34", "devstack": "1"}
SUPERVISOR = "devstack"


class Console:
    """Writes whole prefixed lines to ``stream`` from any thread; never raises once
    the stream is gone."""

    def __init__(self, stream: TextIO, on_gone: Callable[[], None] = lambda: None) -> None:
        self._stream = stream
        self._on_gone = on_gone
        self._lock = threading.Lock()
        self._gone = False
        try:
            self._colored = stream.isatty()
        except (OSError, ValueError):
            self._colored = False
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:  # a child's odd bytes must not read as a broken stdout
            reconfigure(errors="backslashreplace")

    @property
    def gone(self) -> bool:
        return self._gone

    def say(self, name: str, line: str) -> None:
        color = COLORS.get(name, "0") if self._colored else ""
        tag = f"\033[{color}m{name:<9}\033[0m" if color else f"{name:<9}"
        with self._lock:
            if self._gone:
                return
            try:
                self._stream.write(f"{tag} | {line}\n")
                self._stream.flush()
            except (OSError, ValueError):  # EPIPE, EIO, or a closed file
                self._gone = True
                self._silence()
                self._on_gone()

    def report(self, line: str) -> None:
        """A line from the supervisor itself."""
        self.say(SUPERVISOR, line)

    def _silence(self) -> None:
        """Point the stream's descriptor at /dev/null, so that the lines still in its
        buffer and Python's flush at exit go nowhere instead of failing again."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
        except OSError:
            return
        try:
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)
