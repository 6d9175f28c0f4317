"""The chunk mapper: a chunk of raw rows of one source part in, the rows to
write out, with every skip and row error recorded in the run's outcomes.

``ChunkMapper.map(raw, first)`` runs these steps, in this order:

1. ``_fill_and_filter``: forward-fill parent rows; rows a filter leaves
   out are counted as filtered (on purpose: neither skipped nor rejected);
2. ``_map_keys``: map the key fields; a row without a key is skipped, a
   key value that cannot be mapped is a row error;
3. ``_find_unchanged``: for text sources, hash each row's mapped source
   text and look its key up in the target: a row stored with the same hash
   is unchanged, and its other fields are never mapped (it mapped cleanly
   before, with the same mapping: the hash is seeded with it);
4. ``_map_other_fields``: map the other fields of the remaining rows (row
   errors), then ``_check_required``: a required field left empty is a
   row error;
5. ``_drop_duplicates``: a key already seen in the source part is skipped
   (the first row wins, in row order);
6. ``_record``: skips and errors go to the outcomes in row order, and the
   filtered and unchanged rows are counted;
7. ``_rows_to_write``: the ``Batch`` of the rows left, with their row hashes.

Every step works a column (or the chunk) at a time; row-by-row loops run
only over the rows a step finds at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import eq
from typing import Any, NamedTuple

from ferry_domain.engine.batch import Batch
from ferry_domain.engine.mapping import MappingPlan
from ferry_domain.engine.outcomes import Outcomes
from ferry_domain.engine.vector import BatchMapper, canonical_column, row_hashes

# One rejected row: (row number, "error" or "skipped", field, message, raw row).
Reject = tuple[int, str, str, str, Any]
Lookup = Callable[[list[Any]], dict[Any, int]]


class MappedChunk(NamedTuple):
    """The rows to write (None: none), and the stored hashes looked up for
    the chunk's keys (None: no lookup was made)."""

    rows: Batch | None
    stored: dict[Any, int] | None


@dataclass(slots=True)
class _Chunk:
    """The working state of one chunk between the steps. Rows are indexed
    0..n-1 after filtering; ``todo`` indexes the rows whose other fields
    are mapped, and ``cols`` holds their value columns."""

    raw: list[Any]
    first: int
    numbers: list[int] | None = None  # source row numbers, when rows were filtered out
    filtered: int = 0
    rejects: list[Reject] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)
    key_cols: list[list[Any]] = field(default_factory=list)
    keys: list[Any] = field(default_factory=list)
    hashes: list[int] | None = None
    stored: dict[Any, int] | None = None
    unchanged: set[int] = field(default_factory=set)
    todo: Sequence[int] = ()
    cols: list[list[Any]] = field(default_factory=list)

    def number(self, j: int) -> int:
        """The source row number (1-based, header excluded) of row ``j``."""
        return self.numbers[j] if self.numbers is not None else self.first + j

    def reject(self, j: int, outcome: str, target: str, message: str) -> None:
        self.bad.add(j)
        self.rejects.append((self.number(j), outcome, target, message, self.raw[j]))


class ChunkMapper:
    """Maps the chunks of one source part. ``lookup(keys)`` returns the
    stored row hashes of keys (the target writer's, opened on first use)."""

    def __init__(
        self,
        plan: MappingPlan,
        mapper: BatchMapper,
        outcomes: Outcomes,
        lookup: Lookup,
        fill: Callable[[Any], Any] | None = None,
        keep: Callable[[Any], str] | None = None,
    ) -> None:
        self.plan = plan
        self.mapper = mapper
        self.outcomes = outcomes
        self.lookup = lookup
        self.fill = fill
        self.keep = keep
        # Keys seen in the part so far: a later row with one is a duplicate.
        self.seen: set[Any] = set()

    def map(self, raw: list[Any], first: int) -> MappedChunk:
        """Map ``raw``, whose first row is source row number ``first``."""
        chunk = _Chunk(raw, first)
        self._fill_and_filter(chunk)
        if chunk.raw:
            self._map_keys(chunk)
            self._find_unchanged(chunk)
            self._map_other_fields(chunk)
            self._check_required(chunk)
            self._drop_duplicates(chunk)
        self._record(chunk)
        return MappedChunk(self._rows_to_write(chunk), chunk.stored)

    # -- the steps ---------------------------------------------------------------
    def _fill_and_filter(self, chunk: _Chunk) -> None:
        raw = chunk.raw
        if self.fill is not None:
            fill = self.fill
            raw = [fill(r) for r in raw]
        if self.keep is not None:
            keep, first = self.keep, chunk.first
            kept: list[Any] = []
            numbers: list[int] = []
            for j, r in enumerate(raw):
                if not keep(r):
                    kept.append(r)
                    numbers.append(first + j)
            chunk.filtered = len(raw) - len(kept)
            raw = kept
            chunk.numbers = numbers
        chunk.raw = raw

    def _map_keys(self, chunk: _Chunk) -> None:
        targets = self.plan.targets
        key_index = self.plan.key_index
        key_cols, key_errors = self.mapper.map_columns(chunk.raw, key_index)
        bad = chunk.bad
        for col, k in zip(key_cols, key_index, strict=True):
            if None in col:
                for j, x in enumerate(col):
                    if x is None and j not in bad:
                        chunk.reject(j, "skipped", targets[k], f"missing key: {targets[k]}")
        for j, (target, message) in key_errors.items():
            if j not in bad:
                chunk.reject(j, "error", target, message)
        chunk.key_cols = key_cols
        chunk.keys = key_cols[0] if len(key_index) == 1 else list(zip(*key_cols, strict=True))

    def _find_unchanged(self, chunk: _Chunk) -> None:
        hashes = self.mapper.raw_hashes(chunk.raw)
        chunk.hashes = hashes
        if hashes is None:
            return
        keys, bad, n = chunk.keys, chunk.bad, len(chunk.raw)
        if bad:
            good = [j for j in range(n) if j not in bad]
            stored = self.lookup([keys[j] for j in good])
            if stored:
                get = stored.get
                chunk.unchanged = {j for j in good if get(keys[j]) == hashes[j]}
        else:
            stored = self.lookup(keys)
            if stored:
                # stored.get(key) == hash, row by row, in C loops
                same = list(map(eq, map(stored.get, keys), hashes))
                chunk.unchanged = set(range(n)) if all(same) else set(compress(range(n), same))
        chunk.stored = stored

    def _map_other_fields(self, chunk: _Chunk) -> None:
        bad, unchanged, n = chunk.bad, chunk.unchanged, len(chunk.raw)
        todo: Sequence[int]
        if not bad and not unchanged:
            todo = range(n)
        elif len(unchanged) == n:
            todo = []
        else:
            todo = [j for j in range(n) if j not in bad and j not in unchanged]
        chunk.todo = todo
        if not todo:
            return
        raw = chunk.raw
        sub = raw if len(todo) == n else [raw[j] for j in todo]
        targets = self.plan.targets
        key_index = self.plan.key_index
        # Key fields are already mapped: map the others and splice.
        others = [i for i in range(len(targets)) if i not in key_index]
        other_cols, errors = self.mapper.map_columns(sub, others)
        cols: list[list[Any]] = [[] for _ in targets]
        for i, col in zip(others, other_cols, strict=True):
            cols[i] = col
        for i, col in zip(key_index, chunk.key_cols, strict=True):
            cols[i] = col if len(todo) == n else [col[j] for j in todo]
        chunk.cols = cols
        for p, (target, message) in errors.items():
            chunk.reject(todo[p], "error", target, message)

    def _check_required(self, chunk: _Chunk) -> None:
        if not chunk.cols:
            return
        targets, todo, bad = self.plan.targets, chunk.todo, chunk.bad
        for k in self.plan.required_index:
            col = chunk.cols[k]
            if not (None in col or "" in col or [] in col):
                continue  # no empty value: skip the row-by-row check
            for p, x in enumerate(col):
                j = todo[p]
                if (x is None or x == "" or x == []) and j not in bad:
                    chunk.reject(j, "error", targets[k], "required field is empty")

    def _drop_duplicates(self, chunk: _Chunk) -> None:
        keys, bad, seen = chunk.keys, chunk.bad, self.seen
        n = len(keys)
        good_keys = [keys[j] for j in range(n) if j not in bad] if bad else keys
        fresh = set(good_keys)
        if len(fresh) == len(good_keys) and seen.isdisjoint(fresh):
            seen.update(fresh)
            return
        plan = self.plan
        for j in range(n):
            if j in bad:
                continue
            key = keys[j]
            if key in seen:
                shown = _show_key(plan.targets, plan.key_index, key)
                chunk.reject(
                    j,
                    "skipped",
                    plan.targets[plan.key_index[0]],
                    f"duplicate key {shown} in the same file",
                )
            else:
                seen.add(key)

    def _record(self, chunk: _Chunk) -> None:
        outcomes, mapper = self.outcomes, self.mapper
        for row, outcome, target, message, r in sorted(chunk.rejects, key=lambda x: x[0]):
            values = lambda r=r: mapper.row_values(r)  # noqa: E731
            if outcome == "error":
                outcomes.error(row, target, message, values)
            else:
                outcomes.skip(row, message, target, values)
        if chunk.filtered:
            outcomes.add_filtered(chunk.filtered)
        if chunk.unchanged:
            outcomes.add_written(0, 0, len(chunk.unchanged - chunk.bad))

    def _rows_to_write(self, chunk: _Chunk) -> Batch | None:
        todo, bad, hashes = chunk.todo, chunk.bad, chunk.hashes
        if not todo:
            return None
        cols = chunk.cols
        if hashes is not None:
            cols.append([hashes[j] for j in todo] if len(todo) != len(chunk.raw) else hashes)
        keep_pos = [p for p, j in enumerate(todo) if j not in bad] if bad else todo
        if not keep_pos:
            return None
        if len(keep_pos) != len(todo):
            cols = [[c[p] for p in keep_pos] for c in cols]
        if hashes is None:
            plan = self.plan
            canon = [canonical_column(c, f.type) for c, f in zip(cols, plan.fields, strict=True)]
            cols.append(row_hashes(canon, self.mapper.seed))
        return Batch(cols)


def _show_key(targets: list[str], key_index: Sequence[int], key: Any) -> str:
    if len(key_index) == 1:
        return f"{targets[key_index[0]]}={key!r}"
    return ", ".join(f"{targets[i]}={k!r}" for i, k in zip(key_index, key, strict=True))
