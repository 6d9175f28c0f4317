"""A batch of mapped rows, held as columns: the values of each target field
in ``plan.targets`` order, then the row hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_MISSING = object()


class Batch:
    def __init__(self, cols: list[list[Any]]) -> None:
        self.cols = cols
        self.size = len(cols[0]) if cols else 0

    def __len__(self) -> int:
        return self.size

    @classmethod
    def concat(cls, parts: list[Batch]) -> Batch:
        """One batch of the rows of ``parts``, in order."""
        if len(parts) == 1:
            return parts[0]
        cols: list[list[Any]] = [[] for _ in parts[0].cols]
        for part in parts:
            for col, values in zip(cols, part.cols, strict=True):
                col.extend(values)
        return cls(cols)

    @property
    def hashes(self) -> list[int]:
        return self.cols[-1]

    def keys(self, key_index: Sequence[int]) -> list[Any]:
        if len(key_index) == 1:
            return self.cols[key_index[0]]
        return list(zip(*(self.cols[i] for i in key_index), strict=True))

    def rows(self, indices: Sequence[int] | None = None) -> list[tuple]:
        if indices is None:
            return list(zip(*self.cols, strict=True))
        cols = self.cols
        return [tuple(c[j] for c in cols) for j in indices]


def classify(
    batch: Batch, key_index: Sequence[int], existing: dict[Any, int]
) -> tuple[int, int, int, list[int] | None]:
    """Split a batch by stored hashes: (created, updated, unchanged, indices
    of rows to write; None means every row)."""
    if not existing:
        return len(batch), 0, 0, None
    keys = batch.keys(key_index)
    hashes = batch.hashes
    created = updated = 0
    write: list[int] = []
    get = existing.get
    missing = _MISSING
    for j, key in enumerate(keys):
        stored = get(key, missing)
        if stored is missing:
            created += 1
            write.append(j)
        elif stored != hashes[j]:
            updated += 1
            write.append(j)
    return created, updated, len(batch) - created - updated, write
