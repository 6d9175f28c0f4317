"""A file as a server lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    # Seconds since the epoch, as the server reports it.
    mtime: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]
