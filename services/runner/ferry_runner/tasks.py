"""Runner tasks: short requests executed here, where the data is (this
runner's volumes, secrets, target and connectors), from the runner-task queue.

One delivery: decode the ``RunnerTaskRequest`` (poison: dead-lettered), take
the task (``ClaimRunnerTask``; a task gone, taken by another runner or past
its deadline is acked and dropped), ack, execute, answer
(``CompleteRunnerTask``). A VALIDATE_PROFILE task runs the live checks
(``ferry_domain.live_checks``) against the last good run's source shape;
the records tasks (LIST_RUN_RECORDS, GET_RECORD, DIFF_RUNS) read the
changesets in the target (``record_tasks``). The registry unreachable
before the claim: the delivery is handed back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import grpc
from ferry.amqp.consumer import Delivery
from ferry.amqp.topology import RUNNER_TASK_CONTENT_TYPE, RUNNER_TASK_SCHEMA_VERSION
from ferry.logs import log_context
from ferry.retry import RetryStopped
from ferry.v1 import runner_task_pb2
from ferry_domain.engine.fingerprint import from_proto
from ferry_domain.engine.sources.override import with_source_override
from ferry_domain.live_checks import CheckResult, LiveChecks
from google.protobuf.message import DecodeError

from ferry_runner.metrics import RunnerMetrics
from ferry_runner.record_tasks import KINDS as RECORD_KINDS
from ferry_runner.record_tasks import RecordTaskRefused, RecordTasks
from ferry_runner.registry import RunnerRegistry

log = logging.getLogger(__name__)

PASSED = runner_task_pb2.RUNNER_TASK_CHECK_OUTCOME_PASSED
FAILED = runner_task_pb2.RUNNER_TASK_CHECK_OUTCOME_FAILED
NOTE = runner_task_pb2.RUNNER_TASK_CHECK_OUTCOME_NOTE


def decode_task_request(body: bytes, content_type: str) -> runner_task_pb2.RunnerTaskRequest:
    """Decode a RunnerTaskRequest body; ValueError (poison) when it cannot be."""
    if content_type and content_type != RUNNER_TASK_CONTENT_TYPE:
        raise ValueError(f"unexpected content type {content_type!r}")
    request = runner_task_pb2.RunnerTaskRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise ValueError(f"body is not a RunnerTaskRequest ({exc})") from None
    if request.schema_version != RUNNER_TASK_SCHEMA_VERSION or not request.task_id:
        raise ValueError(f"runner task request of schema version {request.schema_version} "
                         f"with task id {request.task_id!r}")
    return request


def task_check(result: CheckResult) -> runner_task_pb2.RunnerTaskCheck:
    outcome = FAILED if not result.ok else NOTE if result.note else PASSED
    return runner_task_pb2.RunnerTaskCheck(check=result.check, outcome=outcome,
                                           message=result.message)


class RunnerTaskHandler:
    def __init__(self, registry: RunnerRegistry, metrics: RunnerMetrics, *, target_url: str,
                 file_roots: Sequence[Path] | None, mask_key: bytes | None = None) -> None:
        self._registry = registry
        self._metrics = metrics
        self._checks = LiveChecks(target_url, file_roots)
        self._records = RecordTasks(target_url, mask_key)

    def __call__(self, delivery: Delivery) -> None:
        try:
            request = decode_task_request(delivery.body, delivery.content_type)
        except ValueError as exc:
            self._metrics.inc("poison_messages")
            log.error("poison runner task request dead-lettered: %s", exc)
            delivery.nack(requeue=False)
            return
        with log_context(task_id=request.task_id, profile=request.profile):
            try:
                reply = self._registry.claim_task(request.task_id)
            except (grpc.RpcError, RetryStopped) as exc:
                log.warning("runner task handed back to the queue: %s", exc)
                delivery.nack(requeue=True)
                return
            delivery.ack()
            if not reply.claimed:
                log.info("runner task dropped: it is %s", runner_task_pb2.RunnerTaskState.Name(
                    reply.task.state))
                return
            self._execute(reply)

    def _execute(self, reply) -> None:
        task = reply.task
        checks: list[runner_task_pb2.RunnerTaskCheck] = []
        answer: runner_task_pb2.RunnerTask | None = None
        error = ""
        try:
            if task.kind in RECORD_KINDS:
                answer = self._records.answer(task, reply.profile)
            elif task.kind == runner_task_pb2.RUNNER_TASK_KIND_VALIDATE_PROFILE:
                checks = self._validate(reply)
            else:
                raise ValueError(f"this runner cannot execute runner tasks of kind {task.kind}")
        except RecordTaskRefused as exc:
            log.info("runner task refused: %s", exc)
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the task fails, the runner does not
            log.exception("runner task failed")
            error = f"the runner could not execute the task: {type(exc).__name__}: {exc}"
        try:
            self._registry.complete_task(task.id, checks, error, answer)
            self._metrics.inc("runner_tasks")
            log.info("runner task answered", extra={"fields": {"checks": len(checks)}})
        except (grpc.RpcError, RetryStopped) as exc:
            log.error("could not answer runner task %s: %s; it ends FAILED at its deadline",
                      task.id, exc)

    def _validate(self, reply) -> list[runner_task_pb2.RunnerTaskCheck]:
        last_good = from_proto(reply.last_good_shape) if reply.HasField(
            "last_good_shape") else None
        profile = with_source_override(reply.profile, reply.task.source_override)
        return [task_check(r) for r in self._checks.run(profile, last_good)]
