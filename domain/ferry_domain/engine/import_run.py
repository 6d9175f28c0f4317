"""The import run: source parts read in chunks, chunks mapped
(``chunk_mapper``) and written in batches, one transaction per batch, with
progress, cancellation and the error threshold at batch boundaries.

For each source part: check its shape against the mapping, and its
fingerprint (columns and sampled types, ``fingerprint``) against the last
good run's: drift is a warning that ends the run WARNING, or with
``on_shape_change: fail`` a SourceShapeError before any row is read. Then
stream its rows a chunk at a
time through the chunk mapper; the rows it returns go into the open batch
(``OpenBatch``), which writes them the way the target writer declares it
can (``targets.writer.Capability``). At each batch boundary the run stops
(the open batch is rolled back and not counted) when the error threshold is
exceeded or a cancel was asked, and otherwise commits the batch and reports
progress.

Why chunks: a chunk (1,000 rows, under a megabyte of Python objects) stays
in the CPU cache from parsing through mapping, hashing and the upsert's
parameter binding. Whole 10,000-row batches do not fit, and every pass over
them (one per field) went to main memory: mapping 1M rows in 10,000-row
batches took 1.7x the CPU time of 1,000-row chunks.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2

from ferry_domain.engine.batch import Batch, classify
from ferry_domain.engine.chunk_mapper import ChunkMapper
from ferry_domain.engine.errors import EngineError, PermanentSourceError, SourceShapeError
from ferry_domain.engine.fingerprint import compare, describe, head_rows, take
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.job import RunJob
from ferry_domain.engine.mapping import MappingPlan
from ferry_domain.engine.outcomes import Outcomes, Threshold
from ferry_domain.engine.results import Counts, RunResult
from ferry_domain.engine.rows import forward_filler, row_filter
from ferry_domain.engine.shape import check_shape
from ferry_domain.engine.sources import open_parts
from ferry_domain.engine.targets.changesets.recorder import ChangesetRun
from ferry_domain.engine.targets.sql_target import RunStamp, open_writer
from ferry_domain.engine.targets.writer import Capability, TargetWriter, WriteCounts
from ferry_domain.engine.vector import BatchMapper
from ferry_domain.runs.states import ErrorClass, RunStatus

DEFAULT_BATCH_SIZE = 10000
# Rows read, mapped and written at a time within a batch (see the docstring).
CHUNK_ROWS = 1000


@contextmanager
def bulk_gc() -> Iterator[None]:
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


class OpenBatch:
    """The batch being written. Chunks go in as they are mapped (``add``);
    at the batch boundary it is committed (``commit`` returns its counts) or
    discarded (rolled back, not counted).

    By the writer's capabilities: a MULTI_ROW_UPSERT writer opens the
    transaction at the first chunk and upserts chunk by chunk; a BULK_LOAD
    writer gets the batch whole at the boundary, so chunks are held until
    then. A dry run classifies instead of writing, with the same grouping;
    with REUSABLE_LOOKUP, from the hashes looked up for the chunk."""

    def __init__(self, writer: TargetWriter, key_index: Sequence[int], dry_run: bool) -> None:
        self.writer = writer
        self._key_index = key_index
        self._dry_run = dry_run
        self._holds = Capability.BULK_LOAD in writer.capabilities
        self._reuses_lookup = dry_run and Capability.REUSABLE_LOOKUP in writer.capabilities
        self._held: list[Batch] = []
        self._open = False  # a MULTI_ROW_UPSERT transaction is open
        self._pending = [0, 0, 0]  # (created, updated, unchanged) of the batch

    def add(self, rows: Batch, stored: dict[Any, int] | None) -> None:
        """One mapped chunk; ``stored``: the hashes looked up for its keys."""
        if self._holds:
            self._held.append(rows)
            return
        if self._reuses_lookup and stored is not None:
            counts: WriteCounts = classify(rows, self._key_index, stored)[:3]
        elif self._dry_run:
            counts = self.writer.classify(rows)
        else:
            if not self._open:
                self.writer.begin()
                self._open = True
            counts = self.writer.write_chunk(rows)
        self._count(counts)

    def commit(self) -> WriteCounts:
        writer = self.writer
        if self._held:
            batch = Batch.concat(self._held)
            self._held = []
            self._count(writer.classify(batch) if self._dry_run else writer.write(batch))
        if self._open:
            self._open = False
            writer.commit()
        created, updated, unchanged = self._pending
        self._pending = [0, 0, 0]
        return created, updated, unchanged

    def discard(self) -> None:
        self._held = []
        self._pending = [0, 0, 0]
        if self._open:
            self._open = False
            self.writer.rollback()

    def _count(self, counts: Sequence[int]) -> None:
        pending = self._pending
        for i in range(3):
            pending[i] += counts[i]


class ImportRun:
    def __init__(self, job: RunJob, *, sample_size: int = 100) -> None:
        self.job = job
        profile, schema = job.profile, job.schema
        self.plan = MappingPlan.from_profile(profile.mapping, schema)
        self.threshold = Threshold.from_profile(profile)
        self.outcomes = Outcomes(sample_size)
        self.batch_size = profile.batch_size or DEFAULT_BATCH_SIZE
        self.chunk_size = min(self.batch_size, CHUNK_ROWS)
        self.result = RunResult(status=RunStatus.COMPLETED)
        # Opened on first use: a run that fails before writing opens nothing.
        self._engine: sa.Engine | None = None
        self._batch: OpenBatch | None = None
        # For the rows_total estimate of progress reports: the part being
        # read, rows read from it, and rows of the parts before it.
        self._reading: RecordStream | None = None
        self._read_all = False
        self._part_rows = 0
        self._rows_before = 0
        # The source's shape drifted from the last good run's (a WARNING run).
        self._drifted = False

    # -- the run -------------------------------------------------------------
    def run(self) -> RunResult:
        result = self.result
        try:
            stop: RunStatus | None = None
            for part in open_parts(self.job.profile.source, self.job.file_roots):
                try:
                    result.source_paths.append(part.name)
                    if part.input is not None:
                        result.inputs.append(part.input)
                    stop = self._part(part)
                finally:
                    part.close()
                if self._batch is not None:
                    self._batch.writer.end_part()
                if stop is not None:
                    break
            if stop is None and self._cancel_asked():
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
            if self._batch is not None:
                self._batch.writer.close()
            if self._engine is not None:
                self._engine.dispose()
        return self._finish(stop)

    def _part(self, part: RecordStream) -> RunStatus | None:
        """Read one source part; the status to end the run with, or None to go on."""
        plan = self.plan
        mode = self.job.profile.source.options.get("shape_check", "fail").lower()
        fp, warnings = check_shape(
            part.name, part.columns, plan.source_columns, plan.optional_columns, mode
        )
        self.result.shape_fingerprint = fp
        self.result.warnings.extend(warnings)
        head, batches = head_rows(part.batches(self.chunk_size))
        self._check_drift(part, head)
        if not self.result.rejected_columns:
            self.result.rejected_columns = list(part.columns)
        self.result.rows_total += part.rows_total
        self._rows_before += self._part_rows
        self._reading, self._part_rows, self._read_all = part, 0, False
        mapping = self.job.profile.mapping
        mapper = ChunkMapper(
            plan,
            BatchMapper(plan, list(part.columns), part.kind, part.text_rows),
            self.outcomes,
            self._lookup,
            fill=forward_filler(mapping.forward_fill, part.columns, part.kind),
            keep=row_filter(mapping.filters, part.columns, part.kind),
        )
        row_no = 0
        batch_open = False  # rows read since the last batch boundary
        for raw, ends_batch in self._chunks(batches):
            first = row_no + 1
            row_no += len(raw)
            self.outcomes.counts.rows_read += len(raw)
            self._part_rows = row_no
            rows, stored = mapper.map(raw, first)
            if rows is not None:
                self._open_batch().add(rows, stored)
            batch_open = not ends_batch
            if ends_batch:
                stop = self._end_batch()
                if stop is not None:
                    return stop
        self._read_all = True
        return self._end_batch() if batch_open else None

    def _check_drift(self, part: RecordStream, head: list[Any]) -> None:
        """Fingerprint the part from its first rows and compare it with the last
        good run's: the drift is a warning, or with ``on_shape_change: fail``
        a SourceShapeError before any of its rows is read."""
        shape = take(part.columns, head, part.kind)
        if self.result.source_shape is None:
            self.result.source_shape = shape
        previous = self.job.last_good_shape
        if previous is None:
            return
        drifts = compare(previous, shape)
        if not drifts:
            return
        message = f"{part.name}: {describe(drifts, previous)}"
        if self.job.profile.on_shape_change == profile_pb2.SHAPE_CHANGE_POLICY_FAIL:
            raise SourceShapeError(message + " (on_shape_change: fail)")
        self.result.warnings.append(message)
        self._drifted = True

    def _chunks(self, batches: Iterator[list[Any]]) -> Iterator[tuple[list[Any], bool]]:
        """The part's rows in chunks that never straddle a batch boundary,
        each with whether it completes a batch."""
        size = self.batch_size
        room = size
        for raw in batches:
            while len(raw) >= room:
                yield (raw if len(raw) == room else raw[:room]), True
                raw = raw[room:]
                room = size
            if raw:
                room -= len(raw)
                yield raw, False

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
            if r.status is RunStatus.COMPLETED and self._drifted:
                r.status = RunStatus.WARNING
            if stop is RunStatus.FAILED or r.status is RunStatus.FAILED:
                r.status = RunStatus.FAILED
                r.error_class = ErrorClass.PERMANENT
                r.error_message = "too many rows in error: " + self.threshold.describe(
                    o.counts.errors, o.counts.rows_read
                )
        self._progress(r.counts)
        return r

    # -- the target and its batches --------------------------------------------
    def _open_batch(self) -> OpenBatch:
        """The batch writer, opening the target on first use."""
        if self._batch is None:
            job = self.job
            table = job.profile.target.table or job.schema.name
            plan = self.plan
            changeset = (
                ChangesetRun(job.run_id, job.profile.name) if job.records_changeset else None
            )
            self._engine, writer = open_writer(
                job.url,
                job.schema,
                table,
                plan.targets,
                plan.key,
                job.dry_run,
                RunStamp(job.run_id, changeset),
            )
            self._batch = OpenBatch(writer, plan.key_index, self.job.dry_run)
        return self._batch

    def _lookup(self, keys: list[Any]) -> dict[Any, int]:
        """Stored row hashes of ``keys`` (the chunk mapper's unchanged check)."""
        return self._open_batch().writer.lookup(keys)

    def _end_batch(self) -> RunStatus | None:
        """At a batch boundary: stop (the open batch is rolled back and not
        counted) or commit it; None to go on, else the status to end with."""
        stop = self._stop()
        batch = self._batch
        if stop is not None:
            if batch is not None:
                batch.discard()
            return stop
        if batch is not None:
            self.outcomes.add_written(*batch.commit())
        self._progress(self.outcomes.counts)
        return None

    def _stop(self) -> RunStatus | None:
        """None to go on, else the status to end with at this batch boundary."""
        if self.threshold.count_exceeded(self.outcomes.counts.errors):
            return RunStatus.FAILED
        if self._cancel_asked():
            return RunStatus.CANCELLED
        return None

    def _cancel_asked(self) -> bool:
        return self.job.should_cancel is not None and self.job.should_cancel()

    # -- progress ----------------------------------------------------------------
    def _progress(self, counts: Counts) -> None:
        """Report a copy of ``counts``, with the rows_total estimate."""
        if self.job.on_progress:
            report = counts.copy()
            report.rows_total = self._rows_total_estimate()
            self.job.on_progress(report)

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
