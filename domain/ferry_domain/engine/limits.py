"""Size limits for reading sources, so a hostile file cannot exhaust memory or disk.

``SourceLimits`` holds every limit; ``run_profile(..., limits=...)`` makes
them the current ones for the run (a context variable, so readers deep in
``formats/`` see them without a parameter on every function). The engine
never reads the environment: the runner builds ``SourceLimits`` from
``FERRY_MAX_*`` variables. 0 means unlimited for every byte limit.

| limit | default | refuses |
|---|---|---|
| ``max_source_bytes`` | 5 GiB | a file (or HTTP body) larger than this, before reading it |
| ``max_decompressed_bytes`` | 20 GiB | gzip / zip data inflating beyond this |
| ``max_compression_ratio`` | 200 | inflated/compressed above this once more than 64 MiB came out |
| ``max_field_bytes`` | 4 MiB | a CSV field longer than this; a physical line longer than 4x this |
| ``max_columns`` | 4096 | a header (or first row) with more columns |
| ``max_json_depth`` | 64 | JSON records nested deeper than this |
| ``max_sheet_cells`` | 10,000,000 | an XLSX sheet reaching more cells (rows x columns) |
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

GIB = 1 << 30
MIB = 1 << 20
# Below this much inflated output the ratio is not checked: small, very
# repetitive files are fine.
RATIO_GRACE_BYTES = 64 * MIB


@dataclass(frozen=True)
class SourceLimits:
    max_source_bytes: int = 5 * GIB
    max_decompressed_bytes: int = 20 * GIB
    max_compression_ratio: int = 200
    max_field_bytes: int = 4 * MIB
    max_columns: int = 4096
    max_json_depth: int = 64
    # An XLSX sheet is loaded whole (about 90 bytes a cell): 10M cells is
    # about 900 MB, e.g. 1M rows of 10 columns. 0 means unlimited.
    max_sheet_cells: int = 10_000_000

    @property
    def max_line_bytes(self) -> int:
        """A physical text line (CSV, NDJSON) may hold several fields."""
        return 4 * self.max_field_bytes if self.max_field_bytes else 0

    def inflated_too_much(self, out_bytes: int, in_bytes: int) -> str:
        """Why ``out_bytes`` inflated from ``in_bytes`` compressed bytes is refused, or ""."""
        if self.max_decompressed_bytes and out_bytes > self.max_decompressed_bytes:
            return (
                f"decompressed data exceeds the limit of {self.max_decompressed_bytes} "
                "bytes (FERRY_MAX_DECOMPRESSED_BYTES)"
            )
        ratio = self.max_compression_ratio
        if ratio and out_bytes > RATIO_GRACE_BYTES and out_bytes > ratio * max(in_bytes, 1):
            return (
                f"compression ratio above {ratio}:1 ({out_bytes} bytes from "
                f"{in_bytes} compressed; FERRY_MAX_COMPRESSION_RATIO): "
                "refused as a likely decompression bomb"
            )
        return ""


_current: contextvars.ContextVar[SourceLimits] = contextvars.ContextVar(
    "ferry_source_limits",
    default=SourceLimits(),  # noqa: B039 - frozen, never mutated
)


def current() -> SourceLimits:
    return _current.get()


@contextlib.contextmanager
def using(limits: SourceLimits | None) -> Iterator[SourceLimits]:
    if limits is None:
        yield _current.get()
        return
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)
