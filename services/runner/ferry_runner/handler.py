"""Handling one run-request delivery: decode, claim, ack, execute.

- Undecodable body, wrong content type, unknown schema version, or a run the
  registry does not know: ``nack(requeue=False)`` -> dead-letter queue, logged
  and counted. Never requeued in a loop.
- ClaimRun -> CLAIMED: ack at once (the registry lease carries the run from
  now on, so RabbitMQ's consumer timeout is never hit), then execute.
  ALREADY_CLAIMED / FINISHED / STALE: ack, drop, count as duplicate. FINISHED
  includes a live run the registry ended FAILED at claim time because the
  profile needs a dry run after a mapping change: it is never executed.
  DEFERRED: ack; the run stays QUEUED and the scheduler republishes it.
- Registry unreachable (after retries) or shutting down before the claim:
  ``nack(requeue=True)`` after a short pause. The request is never lost: the
  broker redelivers it, and the registry still has the run QUEUED.
"""

from __future__ import annotations

import logging

import grpc
from ferry.amqp.consumer import Delivery
from ferry.logs import log_context
from ferry.retry import RetryStopped, is_transient_rpc_error
from ferry.v1 import execution_service_pb2 as ex
from ferry.v1 import run_pb2

from ferry_runner.execution import RunExecutor
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.outcome import ClaimDecision, decide_claim
from ferry_runner.registry import RunnerRegistry, claim_from_response
from ferry_runner.requests import PoisonMessageError, decode_run_request
from ferry_runner.shutdown import Shutdown

log = logging.getLogger(__name__)

_UNKNOWN_RUN = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


class RunRequestHandler:
    def __init__(self, registry: RunnerRegistry, executor: RunExecutor,
                 metrics: RunnerMetrics, shutdown: Shutdown, *,
                 requeue_delay: float = 2.0) -> None:
        self._registry = registry
        self._executor = executor
        self._metrics = metrics
        self._shutdown = shutdown
        self._requeue_delay = requeue_delay

    def __call__(self, delivery: Delivery) -> None:
        self._metrics.inc("deliveries")
        try:
            request = decode_run_request(delivery.body, delivery.content_type)
        except PoisonMessageError as exc:
            self._dead_letter(delivery, exc.reason)
            return
        with log_context(run_id=request.run_id, profile=request.profile):
            self._claim_and_run(delivery, request)

    def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        self._metrics.inc("poison_messages")
        log.error("poison run request dead-lettered: %s", reason, extra={"fields": {
            "delivery_tag": delivery.delivery_tag, "body_bytes": len(delivery.body),
            "content_type": delivery.content_type}})
        delivery.nack(requeue=False)

    def _requeue(self, delivery: Delivery, why: str) -> None:
        self._metrics.inc("claim_unavailable")
        log.warning("run request handed back to the queue: %s", why)
        # A short pause so a requeued request does not spin; SIGTERM cuts it.
        self._shutdown.stopping.wait(self._requeue_delay)
        delivery.nack(requeue=True)

    def _claim_and_run(self, delivery: Delivery, request: object) -> None:
        if self._shutdown.stopping.is_set():
            delivery.nack(requeue=True)
            return
        try:
            reply = self._registry.claim(request)  # type: ignore[arg-type]
        except RetryStopped:
            delivery.nack(requeue=True)
            return
        except grpc.RpcError as exc:
            if exc.code() in _UNKNOWN_RUN:
                self._dead_letter(delivery, f"registry rejected the claim: "
                                            f"{exc.code().name}: {exc.details()}")
            elif is_transient_rpc_error(exc):
                self._requeue(delivery, f"registry unreachable ({exc.code().name})")
            else:
                self._requeue(delivery, f"claim failed: {exc.code().name}: {exc.details()}")
            return
        decision = decide_claim(reply.outcome)
        # The proto name labels logs and metrics; a number this runner does
        # not know has none.
        outcome = (ex.ClaimOutcome.Name(reply.outcome)
                   if reply.outcome in ex.ClaimOutcome.values() else str(reply.outcome))
        if decision is ClaimDecision.DUPLICATE:
            delivery.ack()
            self._metrics.inc("duplicates", outcome=outcome)
            # FINISHED also covers a run the registry ended at claim time without
            # executing it (the dry-run gate): its status and message say why.
            log.info("duplicate run request dropped (%s)", outcome,
                     extra={"fields": {"claim_outcome": outcome,
                                       "redelivered": delivery.redelivered,
                                       "run_status": run_pb2.RunStatus.Name(reply.run.status),
                                       "run_error": reply.run.error_message[:200]}})
            return
        if decision is ClaimDecision.DEFERRED:
            delivery.ack()
            self._metrics.inc("deferred")
            log.info("run deferred: another run of the profile is live; "
                     "it stays queued and is republished later")
            return
        if decision is ClaimDecision.INVALID:
            self._requeue(delivery, f"registry answered the claim with {outcome}")
            return
        claim = claim_from_response(reply, request)  # type: ignore[arg-type]
        delivery.ack()
        self._metrics.inc("claimed")
        with log_context(run_id=claim.run_id, profile=claim.profile_name):
            log.info("run claimed (attempt %d, fencing token %d)", claim.attempt,
                     claim.fencing_token)
            self._executor.execute(claim)
