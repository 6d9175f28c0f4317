"""run_profile: one run of a profile, import or export.

Import: for each source part, check its shape, then stream rows through
forward-fill, filters and the mapping, a chunk of rows at a time; each
chunk is classified against the stored row hashes and (unless dry run)
upserted; a batch of chunks is one transaction. Progress, cancellation and
the error threshold are handled at batch boundaries.

Why chunks: a chunk (1,000 rows, under a megabyte of Python objects) stays
in the CPU cache from parsing through mapping, hashing and the upsert's
parameter binding. Whole 10,000-row batches do not fit, and every pass over
them (one per field) went to main memory: mapping 1M rows in 10,000-row
batches took 1.7x the CPU time of 1,000-row chunks.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from operator import eq
from pathlib import Path
from typing import Any

from ferry.v1 import profile_pb2
from sqlalchemy import exc as sa_exc

from ferry_domain.engine.batch import Batch, classify
from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.errors import EngineError, MappingError, PermanentSourceError
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.engine.limits import using as using_limits
from ferry_domain.engine.mapping import MappingPlan
from ferry_domain.engine.outcomes import Outcomes, Threshold
from ferry_domain.engine.profile_check import check_profile
from ferry_domain.engine.results import Counts, RunResult
from ferry_domain.engine.rows import forward_filler, row_filter
from ferry_domain.engine.shape import check_shape
from ferry_domain.engine.sources import open_parts
from ferry_domain.engine.sources.credentials import secret
from ferry_domain.engine.targets.writer import classify_db_error
from ferry_domain.engine.vector import canonical_column, row_hashes
from ferry_domain.runs.states import ErrorClass, RunStatus

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 10000
# Rows read, mapped and written at a time within a batch (see the docstring).
CHUNK_ROWS = 1000


def target_url(profile: profile_pb2.Profile, default_target_url: str) -> str:
    if profile.target.dsn_ref:
        return secret(profile.target.dsn_ref, "target.dsn_ref")
    if not default_target_url:
        raise MappingError("no target: target.dsn_ref is empty and no default target URL is set")
    return default_target_url


def run_profile(
    profile: profile_pb2.Profile,
    *,
    dry_run: bool,
    default_target_url: str,
    on_progress: Callable[[Counts], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    rejected_sample_size: int = 100,
    file_roots: Sequence[Path] | None = None,
    limits: SourceLimits | None = None,
) -> RunResult:
    """``file_roots``: folders file sources must stay within (None: not
    confined); ``limits``: size limits for reading sources (None: defaults)."""
    with using_limits(limits):
        return _run_profile(
            profile,
            dry_run,
            default_target_url,
            on_progress,
            should_cancel,
            rejected_sample_size,
            file_roots,
        )


def _run_profile(
    profile,
    dry_run,
    default_target_url,
    on_progress,
    should_cancel,
    rejected_sample_size,
    file_roots,
) -> RunResult:
    violations = check_profile(profile)
    if violations:
        raise MappingError("profile cannot be run: " + "; ".join(str(v) for v in violations[:10]))
    schema = get_entity(profile.entity_type)
    url = target_url(profile, default_target_url)
    if profile.operation == profile_pb2.OPERATION_EXPORT:
        if file_roots is not None:
            profile = _confined_export(profile, file_roots)
        return _export(profile, schema, url, dry_run, on_progress, should_cancel)
    with _bulk_gc():
        run = ImportRun(
            profile, schema, url, dry_run, on_progress, should_cancel, rejected_sample_size
        )
        run.file_roots = file_roots
        return run.run()


@contextmanager
def _bulk_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes while batches of short-lived rows stream by.

    Every CSV row is a list the collector tracks, so with the default
    thresholds it runs every few hundred rows and, now and then, walks every
    long-lived object of the process. During an import the long-lived
    objects are frozen out of collection and the young generation collects
    every 50,000 allocations; both are restored afterwards. The engine
    creates no reference cycles per row, so memory stays flat.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _confined_export(profile: profile_pb2.Profile, roots: Sequence[Path]) -> profile_pb2.Profile:
    """The profile with its export directory resolved inside ``roots``."""
    from ferry.security.paths import PathNotAllowedError, confine_path

    try:
        directory = confine_path(profile.export.directory, roots, must_exist=False)
    except PathNotAllowedError as exc:
        raise PermanentSourceError(f"path not allowed: export directory: {exc}") from None
    confined = profile_pb2.Profile()
    confined.CopyFrom(profile)
    confined.export.directory = str(directory)
    return confined


def _export(profile, schema, url, dry_run, on_progress, should_cancel) -> RunResult:
    from ferry_domain.engine.export import run_export
    from ferry_domain.engine.targets.sql_target import make_engine

    engine = make_engine(url)
    try:
        counts, path, cancelled = run_export(profile, schema, engine, dry_run, should_cancel)
    except sa_exc.SQLAlchemyError as exc:
        raise classify_db_error(getattr(exc, "orig", None) or exc, "export target") from None
    finally:
        engine.dispose()
    if on_progress:
        on_progress(counts.copy())
    status = RunStatus.CANCELLED if cancelled else RunStatus.COMPLETED
    return RunResult(status=status, counts=counts, output_path=path, rows_total=counts.rows_read)


class ImportRun:
    def __init__(self, profile, schema, url, dry_run, on_progress, should_cancel, sample_size):
        self.profile = profile
        self.schema = schema
        self.url = url
        self.dry_run = dry_run
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.plan = MappingPlan.from_profile(profile.mapping, schema)
        self.threshold = Threshold.from_profile(profile)
        self.outcomes = Outcomes(sample_size)
        self.batch_size = profile.batch_size or DEFAULT_BATCH_SIZE
        self.chunk_size = min(self.batch_size, CHUNK_ROWS)
        self.result = RunResult(status=RunStatus.COMPLETED)
        self.writer = None
        self.engine = None
        self.file_roots: Sequence[Path] | None = None
        # Stored hashes the current chunk's keys were looked up with (text
        # sources), reused by a SQLite dry run instead of a second read.
        self._stored: dict[Any, int] | None = None
        # For the rows_total estimate of progress reports: the part being
        # read, rows read from it, and rows of the parts before it.
        self._reading: Any = None
        self._read_all = False
        self._part_rows = 0
        self._rows_before = 0
        # The open batch: chunks kept for a writer that writes whole batches,
        # whether a streaming writer's transaction is open, and the counts
        # its chunks add once the batch commits.
        self._held: list[Batch] = []
        self._open = False
        self._pending = [0, 0, 0]

    # -- batches -----------------------------------------------------------
    def _ensure_writer(self) -> None:
        if self.writer is None:
            from ferry_domain.engine.targets.sql_target import open_writer

            table = self.profile.target.table or self.schema.name
            self.engine, self.writer = open_writer(
                self.url, self.schema, table, self.plan.targets, self.plan.key, self.dry_run
            )

    def _add(self, chunk: Batch) -> None:
        """Classify or write one mapped chunk into the open batch."""
        self._ensure_writer()
        writer = self.writer
        assert writer is not None
        if not writer.streams:
            self._held.append(chunk)
            return
        if self.dry_run and self._stored is not None and self._reuse_lookup():
            # A dry run writes nothing: the hashes read for this chunk's keys
            # a moment ago (autocommit reads, as classify's) classify it.
            counts = classify(chunk, self.plan.key_index, self._stored)[:3]
        elif self.dry_run:
            counts = writer.classify(chunk)
        else:
            if not self._open:
                writer.begin()
                self._open = True
            counts = writer.write_chunk(chunk)
        self._add_pending(counts)

    def _add_pending(self, counts: Sequence[int]) -> None:
        """(created, updated, unchanged) of the open batch, counted at commit."""
        for i in range(3):
            self._pending[i] += counts[i]

    def _end_batch(self) -> RunStatus | None:
        """At a batch boundary: stop (the open batch is rolled back and not
        counted) or commit it; None to go on, else the status to end with."""
        stop = self._stop()
        if stop is not None:
            self._discard()
            return stop
        writer = self.writer
        if self._held:
            assert writer is not None
            batch = Batch.concat(self._held)
            self._held = []
            self._add_pending(writer.classify(batch) if self.dry_run else writer.write(batch))
        if self._open:
            assert writer is not None
            self._open = False
            writer.commit()
        self.outcomes.add_written(*self._pending)
        self._pending = [0, 0, 0]
        self._progress(self.outcomes.counts)
        return None

    def _progress(self, counts: Counts) -> None:
        """Report a copy of ``counts``, with the rows_total estimate."""
        if self.on_progress:
            report = counts.copy()
            report.rows_total = self._rows_total_estimate()
            self.on_progress(report)

    def _rows_total_estimate(self) -> int:
        """Rows the source is expected to hold, for progress and ETA: those
        of the parts read before, plus the current part's size (XLSX) or its
        rows read so far scaled by the share of its bytes read; 0 if unknown."""
        part = self._reading
        if part is None:
            return 0
        if self._read_all:
            return self._rows_before + self._part_rows
        if part.rows_total:
            return self._rows_before + part.rows_total
        share = part.fraction() if part.fraction is not None else 0.0
        if share <= 0:
            return 0
        return self._rows_before + max(self._part_rows, round(self._part_rows / share))

    def _discard(self) -> None:
        self._held = []
        self._pending = [0, 0, 0]
        if self._open:
            self._open = False
            assert self.writer is not None
            self.writer.rollback()

    def _reuse_lookup(self) -> bool:
        """SQLite reads outside a transaction in a dry run, so its lookup and
        classify read the same; other targets classify in their own read."""
        return type(self.writer).__name__ == "SqliteWriter"

    def _stop(self) -> RunStatus | None:
        """None to go on, else the status to end with at this batch boundary."""
        if self.threshold.count_exceeded(self.outcomes.counts.errors):
            return RunStatus.FAILED
        if self.should_cancel is not None and self.should_cancel():
            return RunStatus.CANCELLED
        return None

    # -- the run -------------------------------------------------------------
    def run(self) -> RunResult:
        result = self.result
        try:
            stop: RunStatus | None = None
            for part in open_parts(self.profile.source, self.file_roots):
                try:
                    result.source_paths.append(part.name)
                    stop = self._part(part)
                finally:
                    part.close()
                if self.writer is not None:
                    self.writer.end_part()
                if stop is not None:
                    break
            if stop is None and self.should_cancel is not None and self.should_cancel():
                stop = RunStatus.CANCELLED
        except EngineError as exc:
            exc.counts = self.outcomes.counts.copy()
            exc.source_paths = list(result.source_paths)
            raise
        except OSError as exc:
            error = PermanentSourceError(f"cannot read the source: {exc.strerror or exc}")
            error.counts = self.outcomes.counts.copy()
            error.source_paths = list(result.source_paths)
            raise error from None
        finally:
            if self.writer is not None:
                self.writer.close()
            if self.engine is not None:
                self.engine.dispose()
        return self._finish(stop)

    def _finish(self, stop: RunStatus | None) -> RunResult:
        r = self.result
        o = self.outcomes
        r.counts = o.counts.copy()
        r.first_error = o.first_error
        r.first_skip_reason = o.first_skip_reason
        r.rejected_rows = list(o.rejected)
        if stop is RunStatus.CANCELLED:
            r.status = RunStatus.CANCELLED
            r.error_message = "cancelled at a batch boundary; committed batches stay"
        else:
            r.status = o.status(self.threshold)
            if stop is RunStatus.FAILED or r.status is RunStatus.FAILED:
                r.status = RunStatus.FAILED
                r.error_class = ErrorClass.PERMANENT
                r.error_message = "too many rows in error: " + self.threshold.describe(
                    o.counts.errors, o.counts.rows_read
                )
        self._progress(r.counts)
        return r

    def _part(self, part) -> RunStatus | None:
        plan = self.plan
        mode = self.profile.source.options.get("shape_check", "fail").lower()
        fp, warnings = check_shape(
            part.name, part.columns, plan.source_columns, plan.optional_columns, mode
        )
        self.result.shape_fingerprint = fp
        self.result.warnings.extend(warnings)
        if not self.result.rejected_columns:
            self.result.rejected_columns = list(part.columns)
        self.result.rows_total += part.rows_total
        self._rows_before += self._part_rows
        self._reading, self._part_rows, self._read_all = part, 0, False
        mapper = plan.bind(part.columns, part.kind, part.text_rows)
        fill = forward_filler(self.profile.mapping.forward_fill, part.columns, part.kind)
        keep = row_filter(self.profile.mapping.filters, part.columns, part.kind)
        seen: set = set()
        row_no = 0
        batch_open = False  # rows read since the last batch boundary
        for raw, ends_batch in self._chunks(part):
            first = row_no + 1
            row_no += len(raw)
            self.outcomes.counts.rows_read += len(raw)
            self._part_rows = row_no
            chunk = self._map_batch(mapper, raw, first, fill, keep, seen)
            if chunk is not None:
                self._add(chunk)
            batch_open = not ends_batch
            if ends_batch:
                stop = self._end_batch()
                if stop is not None:
                    return stop
        self._read_all = True
        return self._end_batch() if batch_open else None

    def _chunks(self, part) -> Iterator[tuple[list, bool]]:
        """The part's rows in chunks that never straddle a batch boundary,
        each with whether it completes a batch."""
        size = self.batch_size
        room = size
        for raw in part.batches(self.chunk_size):
            while len(raw) >= room:
                yield (raw if len(raw) == room else raw[:room]), True
                raw = raw[room:]
                room = size
            if raw:
                room -= len(raw)
                yield raw, False

    def _map_batch(self, mapper, raw, first, fill, keep, seen) -> Batch | None:
        """Map one batch of raw rows; record skips, errors and rows found
        unchanged; return the rows to write (or None).

        Keys are mapped first. For text sources the row hash is computed from
        the source text, so rows whose stored hash already matches are
        counted unchanged without mapping their other fields (they mapped
        cleanly before, with the same mapping: the hash is seeded with it).
        """
        plan = self.plan
        targets = plan.targets
        key_index = plan.key_index
        numbers: list[int] | None = None
        rejects: list[tuple[int, str, str, str, Any]] = []  # (row, outcome, field, msg, raw)
        if fill is not None:
            raw = [fill(r) for r in raw]
        if keep is not None:
            kept, numbers = [], []
            for j, r in enumerate(raw):
                reason = keep(r)
                if reason:
                    rejects.append((first + j, "skipped", "", reason, r))
                else:
                    kept.append(r)
                    numbers.append(first + j)
            raw = kept
        n = len(raw)

        def number(j: int) -> int:
            return numbers[j] if numbers is not None else first + j

        bad: set[int] = set()
        # 1. keys
        key_cols, key_errors = mapper.map_columns(raw, key_index) if n else ([], {})
        for col, k in zip(key_cols, key_index, strict=True):
            if None in col:
                for j, x in enumerate(col):
                    if x is None and j not in bad:
                        bad.add(j)
                        rejects.append(
                            (number(j), "skipped", targets[k], f"missing key: {targets[k]}", raw[j])
                        )
        for j, (field, message) in key_errors.items():
            if j not in bad:
                bad.add(j)
                rejects.append((number(j), "error", field, message, raw[j]))
        keys = (
            (key_cols[0] if len(key_index) == 1 else list(zip(*key_cols, strict=True))) if n else []
        )
        # 2. rows already stored with the same hash
        hashes = mapper.raw_hashes(raw)
        unchanged: set[int] = set()
        self._stored = None
        if hashes is not None and n:
            self._ensure_writer()
            assert self.writer is not None
            if bad:
                good = [j for j in range(n) if j not in bad]
                stored = self.writer.lookup([keys[j] for j in good])
                if stored:
                    get = stored.get
                    unchanged = {j for j in good if get(keys[j]) == hashes[j]}
            else:
                stored = self.writer.lookup(keys)
                if stored:
                    # stored.get(key) == hash, row by row, in C loops
                    same = list(map(eq, map(stored.get, keys), hashes))
                    unchanged = set(range(n)) if all(same) else set(compress(range(n), same))
            self._stored = stored
        # 3. the other fields of the remaining rows
        todo: Sequence[int]
        if not bad and not unchanged:
            todo = range(n)
        elif len(unchanged) == n:
            todo = []
        else:
            todo = [j for j in range(n) if j not in bad and j not in unchanged]
        sub = raw if len(todo) == n else [raw[j] for j in todo]
        cols, errors = [], {}
        if todo:
            # Key fields are already mapped: map the others and splice.
            others = [i for i in range(len(targets)) if i not in key_index]
            other_cols, errors = mapper.map_columns(sub, others)
            cols = [[] for _ in targets]
            for i, col in zip(others, other_cols, strict=True):
                cols[i] = col
            for i, col in zip(key_index, key_cols, strict=True):
                cols[i] = col if len(todo) == n else [col[j] for j in todo]
        for p, (field, message) in errors.items():
            j = todo[p]
            bad.add(j)
            rejects.append((number(j), "error", field, message, raw[j]))
        for k in plan.required_index:
            col = cols[k] if cols else []
            if not (None in col or "" in col or [] in col):
                continue  # no empty value: skip the row-by-row check
            for p, x in enumerate(col):
                j = todo[p]
                if (x is None or x == "" or x == []) and j not in bad:
                    bad.add(j)
                    rejects.append(
                        (number(j), "error", targets[k], "required field is empty", raw[j])
                    )
        # 4. duplicates, first row wins, in row order
        good_keys = [keys[j] for j in range(n) if j not in bad] if bad else keys
        fresh = set(good_keys)
        if len(fresh) != len(good_keys) or not seen.isdisjoint(fresh):
            for j in range(n):
                if j in bad:
                    continue
                key = keys[j]
                if key in seen:
                    bad.add(j)
                    shown = _show_key(targets, key_index, key)
                    rejects.append(
                        (
                            number(j),
                            "skipped",
                            targets[key_index[0]],
                            f"duplicate key {shown} in the same file",
                            raw[j],
                        )
                    )
                else:
                    seen.add(key)
        else:
            seen.update(fresh)
        outcomes = self.outcomes
        for row, outcome, field, message, r in sorted(rejects, key=lambda x: x[0]):
            values = lambda r=r: mapper.row_values(r)  # noqa: E731
            if outcome == "error":
                outcomes.error(row, field, message, values)
            else:
                outcomes.skip(row, message, field, values)
        if unchanged:
            outcomes.add_written(0, 0, len(unchanged - bad))
        # 5. the batch to write
        if not todo:
            return None
        if hashes is not None:
            cols.append([hashes[j] for j in todo] if len(todo) != n else hashes)
        keep_pos = [p for p, j in enumerate(todo) if j not in bad] if bad else todo
        if not keep_pos:
            return None
        if len(keep_pos) != len(todo):
            cols = [[c[p] for p in keep_pos] for c in cols]
        if hashes is None:
            canon = [canonical_column(c, f.type) for c, f in zip(cols, plan.fields, strict=True)]
            cols.append(row_hashes(canon, mapper.seed))
        return Batch(cols)


def _show_key(targets, key_index, key) -> str:
    if len(key_index) == 1:
        return f"{targets[key_index[0]]}={key!r}"
    return ", ".join(f"{targets[i]}={k!r}" for i, k in zip(key_index, key, strict=True))
