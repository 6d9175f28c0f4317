"""ExecutionService (internal, for runners): claim, heartbeat, progress,
finish, release, freshness token, pinned failed files, kept runs. Each call:
validate, turn the request into the store's dataclasses (``store/reports.py``),
call the store, map the result."""

from __future__ import annotations

from ferry.errors import InvalidArgumentError, Violation
from ferry.v1 import execution_service_pb2 as pb
from ferry.v1 import execution_service_pb2_grpc, run_pb2
from ferry_domain.engine.results import RejectedRow
from ferry_domain.runs.states import ErrorClass, RunStatus, advances_freshness, check_finish
from ferry_domain.samples import StoredSample, cap_sample

from ferry_registry import convert
from ferry_registry.servicers.common import require
from ferry_registry.store.claims import DEFAULT_RUN_LEASE, ClaimStore
from ferry_registry.store.freshness import FreshnessStore, ImportedFile
from ferry_registry.store.history import HistoryStore
from ferry_registry.store.reports import (
    MAX_REJECTED_ROWS,
    Finish,
    Holder,
    Progress,
    Release,
    ReportedEvent,
)
from ferry_registry.store.runner_tasks import RunnerTaskStore
from ferry_registry.store.runs import RunStore

# Run ids one GetKeptRuns may ask about.
MAX_KEPT_RUN_IDS = 1000


def _holder(request) -> Holder:
    require(run_id=request.run_id, runner_id=request.runner_id)
    return Holder(request.run_id, request.runner_id, request.fencing_token)


def _error_class(value: int) -> ErrorClass:
    try:
        return ErrorClass(value)
    except ValueError:
        raise InvalidArgumentError(f"unknown error_class {value}",
                                   [Violation("error_class", "is not a known ErrorClass")]
                                   ) from None


def _events(events) -> tuple[ReportedEvent, ...]:
    return tuple(ReportedEvent(
        message=event.message, type=event.type,
        event_time=convert.from_timestamp(event.event_time)
        if event.HasField("event_time") else None,
        status=event.status, attempt=event.attempt, attributes=dict(event.attributes))
        for event in events)


def _finish(request: pb.FinishRunRequest) -> Finish:
    try:
        check_finish(request.status)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc), [Violation("status", "must be a terminal status")]
                                   ) from None
    details = run_pb2.Run(first_skip_reason=request.first_skip_reason,
                          warnings=list(request.warnings),
                          retention_actions=list(request.retention_actions),
                          sample_location=request.sample_location,
                          inputs=list(request.inputs), outputs=list(request.outputs))
    if request.HasField("first_error"):
        details.first_error.CopyFrom(request.first_error)
    shape = request.source_shape if request.HasField("source_shape") else None
    if shape is not None:
        details.source_shape.CopyFrom(shape)
    freshness_method = 0
    if request.HasField("freshness"):
        details.freshness.CopyFrom(request.freshness)
        freshness_method = request.freshness.method
    rejected = tuple(RejectedRow(row=item.row, outcome=item.outcome, field=item.field,
                                 message=item.message, values=dict(item.values))
                     for item in request.rejected_rows[:MAX_REJECTED_ROWS])
    if rejected:
        details.rejected_rows_location = f"registry:runs/{request.run_id}/rejected-rows"
    return Finish(
        status=RunStatus(request.status), counts=convert.counts_values(request.counts),
        details=convert.serialize(details), error_class=_error_class(request.error_class),
        error_message=request.error_message, hint=request.hint, rejected_rows=rejected,
        rejected_columns=tuple(request.rejected_columns), events=_events(request.events),
        new_freshness_token=request.new_freshness_token, freshness_method=freshness_method,
        imported_files=tuple(ImportedFile(item.path, item.checksum)
                             for item in request.imported_files if item.checksum),
        profile_digest=request.profile_digest, more_input_waiting=request.more_input_waiting,
        source_shape=shape, sample=_sample(request))


def _sample(request: pb.FinishRunRequest) -> StoredSample | None:
    """The reported sample within the caps of ``ferry_domain.samples``."""
    if not request.HasField("sample"):
        return None
    sample = request.sample
    return cap_sample(tuple(sample.columns), [tuple(row.values) for row in sample.rows],
                      omitted=max(sample.omitted_rows, 0))


class ExecutionServicer(execution_service_pb2_grpc.ExecutionServiceServicer):
    def __init__(self, claims: ClaimStore, freshness: FreshnessStore,
                 tasks: RunnerTaskStore, runs: RunStore | None = None,
                 history: HistoryStore | None = None) -> None:
        self._claims = claims
        self._history = history
        self._tasks = tasks
        self._freshness = freshness
        self._runs = runs

    def ClaimRun(self, request, context):
        require(run_id=request.run_id, runner_id=request.runner_id)
        lease = convert.lease_from(request, DEFAULT_RUN_LEASE)
        claim = self._claims.claim(request.run_id, request.runner_id, lease, request.attempt)
        response = pb.ClaimRunResponse(outcome=claim.outcome, fencing_token=claim.fencing_token)
        if claim.run is not None:
            response.run.CopyFrom(claim.run)
        if claim.profile is not None:
            response.profile.CopyFrom(claim.profile)
        if claim.lease_expire_time is not None:
            response.lease_expire_time.CopyFrom(convert.to_timestamp(claim.lease_expire_time))
        if claim.last_good_shape is not None:
            response.last_good_shape.CopyFrom(claim.last_good_shape)
        return response

    def HeartbeatRun(self, request, context):
        holder = _holder(request)
        lease = convert.lease_from(request, DEFAULT_RUN_LEASE) \
            if request.HasField("lease_duration") else None
        expires, cancel = self._claims.heartbeat(holder, lease)
        return pb.HeartbeatRunResponse(lease_expire_time=convert.to_timestamp(expires),
                                       cancel_requested=cancel)

    def ReportProgress(self, request, context):
        holder = _holder(request)
        cancel = self._claims.progress(holder, Progress(
            counts=convert.counts_values(request.counts), rows_total=request.rows_total,
            events=_events(request.events)))
        return pb.ReportProgressResponse(cancel_requested=cancel)

    def FinishRun(self, request, context):
        holder = _holder(request)
        finish = _finish(request)
        run = self._claims.finish(holder, finish)
        if (finish.more_input_waiting and self._runs is not None
                and advances_freshness(finish.status, dry_run=run.dry_run)):
            self._runs.follow_up(run)
        return pb.FinishRunResponse(run=run)

    def ReleaseRun(self, request, context):
        holder = _holder(request)
        run = self._claims.release(holder, Release(
            reason=request.reason, error_class=_error_class(request.error_class),
            attempt_used=request.attempt_used))
        return pb.ReleaseRunResponse(run=run)

    def ClaimRunnerTask(self, request, context):
        require(task_id=request.task_id, runner_id=request.runner_id)
        claimed, task, profile, shape = self._tasks.claim(request.task_id, request.runner_id)
        response = pb.ClaimRunnerTaskResponse(claimed=claimed, task=task)
        if profile is not None:
            response.profile.CopyFrom(profile)
        if shape is not None:
            response.last_good_shape.CopyFrom(shape)
        return response

    def CompleteRunnerTask(self, request, context):
        require(task_id=request.task_id, runner_id=request.runner_id)
        return pb.CompleteRunnerTaskResponse(task=self._tasks.complete(
            request.task_id, request.runner_id, list(request.checks), request.error_message,
            request.answer if request.HasField("answer") else None))

    def GetFreshnessToken(self, request, context):
        require(profile=request.profile)
        stored = self._freshness.token(request.profile, request.profile_digest,
                                       tuple(request.checksums))
        response = pb.GetFreshnessTokenResponse(token=stored.token, method=stored.method)
        for item in stored.imported:
            found = response.imported_files.add(path=item.path, checksum=item.checksum,
                                                run_id=item.run_id)
            if item.import_time is not None:
                found.import_time.CopyFrom(convert.to_timestamp(item.import_time))
        if stored.update_time is not None:
            response.update_time.CopyFrom(convert.to_timestamp(stored.update_time))
        return response

    def GetFailedFilePins(self, request, context):
        require(profile=request.profile)
        response = pb.GetFailedFilePinsResponse()
        pins = self._history.failed_file_pins(request.profile) if self._history else {}
        for path, released_at in sorted(pins.items()):
            pin = response.pins.add(path=path)
            if released_at is not None:
                pin.release_time.CopyFrom(convert.to_timestamp(released_at))
        return response

    def GetKeptRuns(self, request, context):
        if len(request.run_ids) > MAX_KEPT_RUN_IDS:
            raise InvalidArgumentError(
                f"at most {MAX_KEPT_RUN_IDS} run ids per call, got {len(request.run_ids)}",
                [Violation("run_ids", f"at most {MAX_KEPT_RUN_IDS} per call")])
        kept = self._history.kept_runs(list(request.run_ids)) if self._history else []
        return pb.GetKeptRunsResponse(run_ids=kept)
