"""RunService (public): start, read, list, cancel, retry, roll back and watch
runs; read back what they wrote (``record_reads``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from ferry.errors import InvalidArgumentError, Violation
from ferry.v1 import run_pb2, run_service_pb2_grpc, runner_task_pb2
from ferry.v1 import run_service_pb2 as pb
from ferry_domain.engine.sources.override import check_source_override
from ferry_domain.runs.states import TERMINAL

from ferry_registry import convert
from ferry_registry.notify import RunChanges
from ferry_registry.servicers.common import StreamSlots, require
from ferry_registry.servicers.record_reads import RecordReads
from ferry_registry.store.rollbacks import Rollbacks
from ferry_registry.store.runner_tasks import RunnerTaskStore
from ferry_registry.store.runs import NewRun, RunStore

WATCH_POLL_SECONDS = 1.0
MAX_WATCH_STREAMS = 64
DEFAULT_SUMMARY_WINDOW = timedelta(hours=24)


class RunServicer(run_service_pb2_grpc.RunServiceServicer):
    def __init__(self, store: RunStore, changes: RunChanges, stopping: threading.Event,
                 tasks: RunnerTaskStore, reads: RecordReads,
                 file_roots: Sequence[Path] | None = None) -> None:
        self._store = store
        self._rollbacks = Rollbacks(store)
        self._tasks = tasks
        self._reads = reads
        self._file_roots = file_roots
        self._changes = changes
        self._stopping = stopping
        self._slots = StreamSlots("WatchRun", MAX_WATCH_STREAMS)

    def StartRun(self, request, context):
        require(profile=request.profile)
        override = check_source_override(request.source_override, self._file_roots) \
            if request.source_override.strip() else ""
        created = self._store.create(NewRun(
            profile=request.profile, trigger=run_pb2.RUN_TRIGGER_MANUAL,
            dry_run=request.dry_run, force=request.force, request_id=request.request_id,
            source_override=override))
        return pb.StartRunResponse(run=created.run)

    def CreateRunnerTask(self, request, context):
        require(profile=request.profile)
        if request.kind != runner_task_pb2.RUNNER_TASK_KIND_VALIDATE_PROFILE:
            # Records tasks are created by ListRunRecords, GetRecord, DiffRuns.
            raise InvalidArgumentError("unknown runner task kind",
                                       [Violation("kind", "must be VALIDATE_PROFILE")])
        timeout = request.timeout.ToTimedelta() if request.HasField("timeout") else None
        override = check_source_override(request.source_override, self._file_roots) \
            if request.source_override.strip() else ""
        return pb.CreateRunnerTaskResponse(
            task=self._tasks.create(request.kind, request.profile, timeout, override))

    def GetRunnerTask(self, request, context):
        require(id=request.id)
        return pb.GetRunnerTaskResponse(task=self._tasks.get(request.id))

    def ListRunRecords(self, request, context):
        page = self._reads.list_run_records(request, context)
        return pb.ListRunRecordsResponse(records=page.records,
                                         next_page_token=page.next_page_token)

    def GetRecord(self, request, context):
        return pb.GetRecordResponse(record=self._reads.get_record(request, context))

    def DiffRuns(self, request, context):
        return pb.DiffRunsResponse(diff=self._reads.diff_runs(request, context))

    def GetRun(self, request, context):
        require(id=request.id)
        return pb.GetRunResponse(run=self._store.get(request.id))

    def ListRuns(self, request, context):
        runs, token = self._store.list(page_size=request.page_size,
                                       page_token=request.page_token, filter=request.filter)
        return pb.ListRunsResponse(runs=runs, next_page_token=token)

    def ListRunEvents(self, request, context):
        require(run_id=request.run_id)
        found, token = self._store.list_events(request.run_id, page_size=request.page_size,
                                               page_token=request.page_token)
        return pb.ListRunEventsResponse(events=found, next_page_token=token)

    def CancelRun(self, request, context):
        require(id=request.id)
        return pb.CancelRunResponse(run=self._store.cancel(request.id, request.reason))

    def RetryRun(self, request, context):
        require(id=request.id)
        return pb.RetryRunResponse(run=self._store.retry(request.id, request.request_id))

    def RollbackRun(self, request, context):
        require(run_id=request.run_id)
        return pb.RollbackRunResponse(run=self._rollbacks.start(
            request.run_id, dry_run=request.dry_run, force=request.force,
            request_id=request.request_id))

    def WatchRun(self, request, context):
        """The run now, then each time it changes (with new events), until terminal."""
        require(id=request.id)
        with self._slots.hold():
            yield from self._watch(request.id, context)

    def _watch(self, run_id: str, context):
        context.add_callback(self._changes.bump)  # wake this stream when the client leaves
        last_sequence = 0
        last_sent = b""
        while True:
            version = self._changes.version
            run, new_events = self._store.snapshot(run_id, last_sequence)
            encoded = convert.serialize(run)
            if encoded != last_sent or new_events:
                yield pb.WatchRunResponse(run=run, events=new_events)
                last_sent = encoded
                if new_events:
                    last_sequence = new_events[-1].sequence
            if run.status in TERMINAL:
                return
            if self._stopping.is_set() or self._changes.closed or not context.is_active():
                return
            self._changes.wait(version, WATCH_POLL_SECONDS)

    def ListRejectedRows(self, request, context):
        require(run_id=request.run_id)
        rows, token, columns = self._store.list_rejected(
            request.run_id, page_size=request.page_size, page_token=request.page_token)
        return pb.ListRejectedRowsResponse(rows=rows, next_page_token=token, columns=columns)

    def GetRunSample(self, request, context):
        require(run_id=request.run_id)
        return pb.GetRunSampleResponse(sample=self._store.sample(request.run_id))

    def SummarizeRuns(self, request, context):
        window = convert.from_duration(request.window if request.HasField("window") else None,
                                       DEFAULT_SUMMARY_WINDOW)
        counts = [pb.StatusCount(status=s, count=c) for s, c in self._store.summarize(window)]
        return pb.SummarizeRunsResponse(counts=counts)
