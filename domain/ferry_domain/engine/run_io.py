"""What a run read and wrote: ``RunInput`` (a source file, or the URL it
fetched) and ``RunOutput`` (a file it wrote), the one definition of each.

The engine fills them as it opens sources and writes exports; the runner
adds checksums (``ferry_domain.freshness.inputs``) and sends them with
FinishRun, and the registry stores them with the run (``Run.inputs`` /
``Run.outputs``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class RunInput:
    """A source the run read. ``path`` is the file's path, or for a URL the
    final URL after redirects (no user info or query string)."""

    path: str
    size_bytes: int = 0
    # Files: the modification time when the run opened the file.
    modify_time: datetime | None = None
    # "xxh3_128:<hex>"; empty when unknown (see freshness.inputs).
    checksum: str = ""
    # URL sources: the response's validators.
    etag: str = ""
    last_modified: str = ""
    is_url: bool = False


@dataclass(frozen=True)
class RunOutput:
    """A file the run wrote, with its data rows (header excluded)."""

    path: str
    row_count: int = 0


def file_input(path: str, info: os.stat_result) -> RunInput:
    """The input for a file opened for reading, from its ``fstat``."""
    return RunInput(path=path, size_bytes=info.st_size,
                    modify_time=datetime.fromtimestamp(info.st_mtime_ns / 1e9, UTC))
