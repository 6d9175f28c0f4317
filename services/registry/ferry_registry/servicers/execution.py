"""ExecutionService (internal, for runners): claim, heartbeat, progress,
finish, release, freshness token."""

from __future__ import annotations

from ferry.v1 import execution_service_pb2 as pb
from ferry.v1 import execution_service_pb2_grpc

from ferry_registry import convert
from ferry_registry.servicers.common import require
from ferry_registry.store.leases import DEFAULT_RUN_LEASE, Holder, LeaseStore


def _holder(request) -> Holder:
    require(run_id=request.run_id, runner_id=request.runner_id)
    return Holder(request.run_id, request.runner_id, request.fencing_token)


class ExecutionServicer(execution_service_pb2_grpc.ExecutionServiceServicer):
    def __init__(self, leases: LeaseStore) -> None:
        self._leases = leases

    def ClaimRun(self, request, context):
        require(run_id=request.run_id, runner_id=request.runner_id)
        lease = convert.from_duration(
            request.lease_duration if request.HasField("lease_duration") else None,
            DEFAULT_RUN_LEASE)
        claim = self._leases.claim(request.run_id, request.runner_id, lease, request.attempt)
        response = pb.ClaimRunResponse(outcome=claim.outcome, fencing_token=claim.fencing_token)
        if claim.run is not None:
            response.run.CopyFrom(claim.run)
        if claim.profile is not None:
            response.profile.CopyFrom(claim.profile)
        if claim.lease_expire_time is not None:
            response.lease_expire_time.CopyFrom(convert.to_timestamp(claim.lease_expire_time))
        return response

    def HeartbeatRun(self, request, context):
        holder = _holder(request)
        lease = convert.from_duration(request.lease_duration, DEFAULT_RUN_LEASE) \
            if request.HasField("lease_duration") else None
        expires, cancel = self._leases.heartbeat(holder, lease)
        return pb.HeartbeatRunResponse(lease_expire_time=convert.to_timestamp(expires),
                                       cancel_requested=cancel)

    def ReportProgress(self, request, context):
        cancel = self._leases.progress(_holder(request), request.counts, request.rows_total,
                                       list(request.events))
        return pb.ReportProgressResponse(cancel_requested=cancel)

    def FinishRun(self, request, context):
        return pb.FinishRunResponse(run=self._leases.finish(_holder(request), request))

    def ReleaseRun(self, request, context):
        run = self._leases.release(_holder(request), request.reason, request.error_class,
                                   request.attempt_used)
        return pb.ReleaseRunResponse(run=run)

    def GetFreshnessToken(self, request, context):
        require(profile=request.profile)
        token, method, updated = self._leases.freshness_token(request.profile)
        response = pb.GetFreshnessTokenResponse(token=token, method=method)
        if updated is not None:
            response.update_time.CopyFrom(convert.to_timestamp(updated))
        return response
