"""The runner's side of the registry's ExecutionService (the gRPC adapter).

Every call carries the fencing token from the claim and is retried on
transient gRPC failures (``ferry.retry.call_registry``). A
FAILED_PRECONDITION or NOT_FOUND after the claim means the lease is gone
(expired and reaped, or taken over): ``LeaseLostError``. Statuses and error
classes go on the wire as they are: ``RunStatus`` and ``ErrorClass`` values
are the ferry.v1 enum numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from ferry.grpc_client import RegistryClient
from ferry.retry import REGISTRY_RETRY, RetryNotice, RetrySettings, call_registry
from ferry.v1 import (
    execution_service_pb2 as ex,
)
from ferry.v1 import (
    profile_pb2,
    run_pb2,
    run_request_pb2,
    run_service_pb2,
    source_shape_pb2,
)
from ferry_domain.engine.run_io import RunInput
from ferry_domain.engine.sources.override import with_source_override
from ferry_domain.runs.states import ErrorClass
from google.protobuf import duration_pb2, timestamp_pb2

from ferry_runner.outcome import FinishPlan

# Run ids one GetKeptRuns call asks about (the registry takes at most 1000).
KEPT_RUNS_PER_CALL = 1000


class LeaseLostError(Exception):
    """The registry no longer holds this runner's lease on the run."""


@dataclass(frozen=True)
class Claim:
    run_id: str
    profile_name: str
    attempt: int
    fencing_token: int
    run: run_pb2.Run
    profile: profile_pb2.Profile
    # The profile's last good source shape (ferry.v1.SourceShape; empty: none).
    last_good_shape: source_shape_pb2.SourceShape | None = None


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def _now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    return ts


def _lease_lost(error: grpc.RpcError) -> bool:
    return error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)


def run_event(claim: Claim, kind: str, message: str, **attributes: str) -> run_pb2.RunEvent:
    return run_pb2.RunEvent(
        run_id=claim.run_id, event_time=_now(),
        type=run_pb2.RunEventType.Value(f"RUN_EVENT_TYPE_{kind}"),
        attempt=claim.attempt, message=message,
        attributes={k: str(v) for k, v in attributes.items()})


def counts_message(counts: dict[str, int]) -> run_pb2.RunCounts:
    return run_pb2.RunCounts(**counts)


class RunnerRegistry:
    """ExecutionService calls for one runner."""

    def __init__(self, client: RegistryClient, runner_id: str, lease_seconds: float, *,
                 settings: RetrySettings = REGISTRY_RETRY,
                 stop_event: threading.Event | None = None,
                 on_retry: Callable[[RetryNotice], None] | None = None) -> None:
        self._stub = client.execution
        self.runner_id = runner_id
        self.lease_seconds = lease_seconds
        self._settings = settings
        self._stop = stop_event
        self._on_retry = on_retry

    def _call(self, method: Any, request: Any, what: str, *, timeout: float | None = None,
              interruptible: bool = True) -> Any:
        return call_registry(method, request, what=what, settings=self._settings,
                             stop_event=self._stop if interruptible else None,
                             timeout=timeout, on_retry=self._on_retry)

    def claim(self, request: run_request_pb2.RunRequest) -> ex.ClaimRunResponse:
        return self._call(self._stub.ClaimRun, ex.ClaimRunRequest(
            run_id=request.run_id, runner_id=self.runner_id,
            lease_duration=_duration(self.lease_seconds), attempt=request.attempt),
            "ClaimRun")

    def heartbeat(self, claim: Claim) -> bool:
        """Extend the lease once (no retry: the next beat is the retry).
        Returns cancel_requested; raises LeaseLostError."""
        try:
            reply = self._stub.HeartbeatRun(ex.HeartbeatRunRequest(
                run_id=claim.run_id, runner_id=self.runner_id,
                fencing_token=claim.fencing_token,
                lease_duration=_duration(self.lease_seconds)),
                timeout=max(1.0, self.lease_seconds / 3))
        except grpc.RpcError as error:
            if _lease_lost(error):
                raise LeaseLostError(error.details() or "lease lost") from None
            raise
        return reply.cancel_requested

    def report_progress(self, claim: Claim, counts: dict[str, int], rows_total: int,
                        events: list[run_pb2.RunEvent]) -> bool:
        """One try with a short deadline (the lease keeper's next tick retries)."""
        try:
            reply = self._stub.ReportProgress(ex.ReportProgressRequest(
                run_id=claim.run_id, runner_id=self.runner_id,
                fencing_token=claim.fencing_token, counts=counts_message(counts),
                rows_total=rows_total, events=events), timeout=5.0)
        except grpc.RpcError as error:
            if _lease_lost(error):
                raise LeaseLostError(error.details() or "lease lost") from None
            raise
        return reply.cancel_requested

    def finish(self, claim: Claim, plan: FinishPlan,
               events: list[run_pb2.RunEvent]) -> run_pb2.Run:
        request = ex.FinishRunRequest(
            run_id=claim.run_id, runner_id=self.runner_id, fencing_token=claim.fencing_token,
            status=plan.status, error_class=plan.error_class,
            counts=counts_message(plan.counts),
            first_skip_reason=plan.first_skip_reason, warnings=list(plan.warnings),
            error_message=plan.error_message, hint=plan.hint,
            rejected_columns=list(plan.rejected_columns), events=events)
        request.retention_actions.extend(plan.retention_actions)
        if plan.sample_location:
            request.sample_location = plan.sample_location
        if plan.sample is not None:
            request.sample.CopyFrom(run_pb2.RunSample(
                columns=plan.sample.columns, omitted_rows=plan.sample.omitted_rows,
                rows=[run_pb2.RunSampleRow(values=row) for row in plan.sample.rows]))
        if plan.freshness is not None:
            request.freshness.CopyFrom(plan.freshness)
        if plan.source_shape is not None:
            request.source_shape.CopyFrom(plan.source_shape)
        if plan.new_freshness_token:
            request.new_freshness_token = plan.new_freshness_token
        for path, checksum in plan.imported_files:
            request.imported_files.add(path=path, checksum=checksum)
        request.profile_digest = plan.profile_digest
        request.inputs.extend(run_input_message(item) for item in plan.inputs)
        request.outputs.extend(run_pb2.RunOutput(path=item.path, row_count=item.row_count)
                               for item in plan.outputs)
        request.more_input_waiting = plan.more_input_waiting
        if plan.first_error is not None:
            request.first_error.CopyFrom(run_pb2.RowError(
                row=plan.first_error.row, field=plan.first_error.field,
                message=plan.first_error.message))
        for r in plan.rejected_rows:
            request.rejected_rows.append(run_service_pb2.RejectedRow(
                row=r.row, outcome=r.outcome, field=r.field, message=r.message,
                values=r.values))
        try:
            # Not interruptible: at shutdown the result must still be recorded.
            return self._call(self._stub.FinishRun, request, "FinishRun",
                              interruptible=False).run
        except grpc.RpcError as error:
            if _lease_lost(error):
                raise LeaseLostError(error.details() or "lease lost") from None
            raise

    def failed_file_pins(self, profile: str) -> dict[str, datetime | None]:
        """The failed source files of ``profile``'s live failed runs, each with
        when its failure was released, or None while it is pinned."""
        reply = self._call(self._stub.GetFailedFilePins,
                           ex.GetFailedFilePinsRequest(profile=profile), "GetFailedFilePins")
        return {pin.path: pin.release_time.ToDatetime(tzinfo=UTC)
                if pin.HasField("release_time") else None for pin in reply.pins}

    def kept_runs(self, run_ids: Sequence[str]) -> list[str]:
        """The runs of ``run_ids`` whose history the registry still keeps
        (``GetKeptRuns``, asked ``KEPT_RUNS_PER_CALL`` ids at a time)."""
        ids = list(run_ids)
        kept: list[str] = []
        for start in range(0, len(ids), KEPT_RUNS_PER_CALL):
            reply = self._call(self._stub.GetKeptRuns, ex.GetKeptRunsRequest(
                run_ids=ids[start:start + KEPT_RUNS_PER_CALL]), "GetKeptRuns")
            kept += reply.run_ids
        return kept

    def claim_task(self, task_id: str) -> ex.ClaimRunnerTaskResponse:
        return self._call(self._stub.ClaimRunnerTask, ex.ClaimRunnerTaskRequest(
            task_id=task_id, runner_id=self.runner_id), "ClaimRunnerTask")

    def complete_task(self, task_id: str, checks: list[Any], error: str,
                      answer: Any = None) -> ex.CompleteRunnerTaskResponse:
        """Answer a task: ``checks`` (VALIDATE_PROFILE), ``answer`` (a RunnerTask
        with the answer of a records task) or ``error``."""
        return self._call(self._stub.CompleteRunnerTask, ex.CompleteRunnerTaskRequest(
            task_id=task_id, runner_id=self.runner_id, checks=checks, error_message=error,
            answer=answer), "CompleteRunnerTask", interruptible=False)

    def release(self, claim: Claim, reason: str, *, attempt_used: bool,
                error_class: ErrorClass = ErrorClass.UNSPECIFIED) -> run_pb2.Run:
        request = ex.ReleaseRunRequest(
            run_id=claim.run_id, runner_id=self.runner_id, fencing_token=claim.fencing_token,
            reason=reason, attempt_used=attempt_used, error_class=error_class)
        try:
            return self._call(self._stub.ReleaseRun, request, "ReleaseRun",
                              interruptible=False).run
        except grpc.RpcError as error:
            if _lease_lost(error):
                raise LeaseLostError(error.details() or "lease lost") from None
            raise


def claim_from_response(reply: ex.ClaimRunResponse, request: run_request_pb2.RunRequest
                        ) -> Claim:
    """The claim; its profile reads the run's source override, when it has one."""
    run = reply.run
    return Claim(run_id=run.id or request.run_id,
                 profile_name=run.profile or reply.profile.name or request.profile,
                 attempt=run.attempt or request.attempt, fencing_token=reply.fencing_token,
                 run=run, profile=with_source_override(reply.profile, run.source_override),
                 last_good_shape=reply.last_good_shape if reply.HasField("last_good_shape")
                 else None)


def run_input_message(item: RunInput) -> run_pb2.RunInput:
    """The ``ferry.v1.RunInput`` of a source the run read."""
    message = run_pb2.RunInput(path=item.path, size_bytes=item.size_bytes,
                               checksum=item.checksum, etag=item.etag,
                               last_modified=item.last_modified)
    if item.modify_time is not None:
        message.modify_time.FromDatetime(item.modify_time)
    return message
