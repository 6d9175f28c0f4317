"""The dev stack's output: one ``name | line`` per log line, coloured on a terminal."""

from __future__ import annotations

import threading
from typing import TextIO

COLORS = {"registry": "35", "scheduler": "36", "runner-1": "32", "runner-2": "33",
          "stock-http": "34", "devstack": "1"}
SUPERVISOR = "devstack"


class Console:
    """Writes whole prefixed lines to ``stream`` from any thread."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._colored = stream.isatty()

    def say(self, name: str, line: str) -> None:
        color = COLORS.get(name, "0") if self._colored else ""
        tag = f"\033[{color}m{name:<9}\033[0m" if color else f"{name:<9}"
        with self._lock:
            self._stream.write(f"{tag} | {line}\n")
            self._stream.flush()

    def report(self, line: str) -> None:
        """A line from the supervisor itself."""
        self.say(SUPERVISOR, line)
