"""Executing a claimed run with the engine, and ending it exactly once.

``RunExecutor.execute(claim)``:

1. starts a ``LeaseKeeper`` (heartbeats every lease/3, throttled progress);
2. calls the engine function of the run's operation (``operations``:
   ``ferry_domain.engine.run_profile``, or for a ROLLBACK run
   ``ferry_domain.changesets.rollback.rollback_run``) under the profile's retry settings:
   transient errors (``classify``) are retried in the attempt with backoff and
   jitter, each retry appended as a RETRY run event;
3. keeps the sample and applies retention (runs that read a source) and
   purges stale changesets (live IMPORT and ROLLBACK runs that wrote to the
   target, ``changeset_purge``);
4. ends the run: FinishRun (COMPLETED / WARNING / FAILED / CANCELLED), or
   ReleaseRun (transient retries exhausted: attempt used; shutdown: attempt
   not used), or nothing at all when the lease was lost (another runner may
   own the run).

Shutdown (``Shutdown``): a run that is executing gets the grace period to
finish; the engine stops at the next batch boundary when ``should_cancel()``
turns true (cancellation asked, lease lost, or shutdown grace over). A run
waiting to retry is handed back at once when the shutdown begins: nothing
of it is running, so there is nothing to wait for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from ferry.retry import RetryNotice, RetrySettings, RetryStopped
from ferry_domain.changesets.rollback import rollback_run
from ferry_domain.engine import EngineError, run_profile
from ferry_domain.engine.fingerprint import from_proto
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.engine.results import Counts, RunResult
from ferry_domain.freshness.inputs import with_checksums
from ferry_domain.masking import profile_masker
from ferry_domain.runs.states import ErrorClass, RunStatus

from ferry_runner.changeset_purge import apply_changeset_purge
from ferry_runner.classify import Classification, classify
from ferry_runner.freshness_gate import FreshnessGate, GateVerdict
from ferry_runner.heartbeat import LeaseKeeper
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.operations import (
    EngineFn,
    RollbackFn,
    failure_hint,
    is_rollback,
    purges_changesets,
    reads_source,
    roll_back,
)
from ferry_runner.outcome import (
    Ending,
    EndingKind,
    FinishPlan,
    counts_dict,
    finish_from_failure,
    finish_from_result,
    masked_plan,
    result_is_transient_failure,
    unchanged_plan,
    with_freshness,
)
from ferry_runner.registry import Claim, LeaseLostError, RunnerRegistry, run_event
from ferry_runner.retention_step import apply_retention
from ferry_runner.sample_step import Sampler
from ferry_runner.shutdown import Shutdown

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_OVER = "runner shutting down (grace period over)"
SHUTDOWN_IN_BACKOFF = "runner shutting down while the run waited to retry"


class TransientResultError(Exception):
    """The engine returned FAILED with error class TRANSIENT."""

    error_class = ErrorClass.TRANSIENT

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.error_message or "transient failure")
        self.counts: Counts | None = result.counts
        self.source_paths: list[str] = list(result.source_paths)


class EngineContractError(Exception):
    """The engine returned something that is not a ``RunResult``: a bug, handed
    back like any runner error."""


class _LeaseLost(Exception):  # noqa: N818 - control flow inside the executor
    pass


def _partial(exc: Exception) -> tuple[Counts | None, Sequence[str]]:
    """What a failed run did before it failed: its counts and the files it read."""
    if isinstance(exc, EngineError | TransientResultError):
        return exc.counts, exc.source_paths
    return None, ()


def _last_good(claim: Claim) -> dict[str, Any]:
    """The engine's ``last_good_shape`` option, when the profile has one."""
    shape = from_proto(claim.last_good_shape) if claim.last_good_shape is not None else None
    return {"last_good_shape": shape} if shape is not None else {}


class RunExecutor:
    def __init__(self, registry: RunnerRegistry, *, target_url: str, heartbeat_interval: float,
                 metrics: RunnerMetrics, shutdown: Shutdown,
                 engine: EngineFn | None = None, progress_interval: float = 0.5,
                 gate: FreshnessGate | None = None,
                 file_roots: Sequence[Path] | None = None,
                 limits: SourceLimits | None = None, sampler: Sampler | None = None,
                 mask_key: bytes | None = None, rollback: RollbackFn | None = None) -> None:
        self._registry = registry
        self._target_url = target_url
        self._heartbeat_interval = heartbeat_interval
        self._progress_interval = progress_interval
        self._metrics = metrics
        self._shutdown = shutdown
        self._engine: EngineFn = engine or run_profile
        self._rollback: RollbackFn = rollback or rollback_run
        self._gate = gate
        self._sampler = sampler
        # Rejected rows and messages are masked with it before they leave the runner.
        self._mask_key = mask_key
        # Passed to the engine only when set (FERRY_FILE_ROOTS, FERRY_MAX_*).
        self._engine_options: dict[str, Any] = {}
        if file_roots is not None:
            self._engine_options["file_roots"] = tuple(file_roots)
        if limits is not None:
            self._engine_options["limits"] = limits

    def execute(self, claim: Claim) -> Ending:
        keeper = LeaseKeeper(self._registry, claim, heartbeat_interval=self._heartbeat_interval,
                             progress_interval=self._progress_interval,
                             lease_seconds=self._registry.lease_seconds).start()
        try:
            try:
                ending = self._run(claim, keeper)
            except Exception as exc:  # noqa: BLE001 - a runner bug
                log.exception("runner error while executing the run; handing it back")
                ending = Ending.released(f"runner error: {type(exc).__name__}: {exc}",
                                         attempt_used=True)
            keeper.ending()
            self._conclude(claim, keeper, ending)
            return ending
        finally:
            keeper.stop()

    # -- running -------------------------------------------------------------------

    def _settings(self, claim: Claim) -> RetrySettings:
        policy = claim.profile.retry if claim.profile.HasField("retry") else None
        return RetrySettings.from_policy(policy, retry_on=(),
                                         retry_if=lambda e: classify(e).transient)

    def _wait_to_retry(self, seconds: float) -> None:
        """The backoff before the run's next try. The shutdown ends it at once
        (``RetryStopped``): the run is handed back untried."""
        if self._shutdown.stopping.wait(seconds):
            raise RetryStopped("run: the runner is shutting down")

    def _run(self, claim: Claim, keeper: LeaseKeeper) -> Ending:
        engine = self._engine

        def should_cancel() -> bool:
            return (keeper.cancel_requested.is_set() or keeper.lost.is_set()
                    or self._shutdown.abandon.is_set())

        def on_progress(counts: Counts) -> None:
            keeper.update(counts_dict(counts), counts.rows_total)

        def on_retry(notice: RetryNotice) -> None:
            self._metrics.inc("transient_retries")
            keeper.add_event(run_event(
                claim, "RETRY", notice.describe(), retry_attempt=str(notice.attempt),
                max_attempts=str(notice.max_attempts), wait_seconds=f"{notice.wait:.1f}",
                error_class=ErrorClass.TRANSIENT.name))

        gate_verdicts: list[GateVerdict] = []

        def attempt_once() -> RunResult | None:
            if keeper.lost.is_set():
                raise _LeaseLost()
            gate = self._gate if reads_source(claim.run) else None
            verdict = gate.check(claim) if gate is not None else None
            gate_verdicts[:] = [verdict] if verdict is not None else []
            if verdict is not None:
                keeper.add_event(run_event(claim, "LOG", f"freshness gate: {verdict.summary}"))
                if verdict.unchanged:
                    return None
            profile = verdict.profile_to_run(claim.profile) if verdict else claim.profile
            if is_rollback(claim.run):
                result = roll_back(claim, self._rollback, target_url=self._target_url,
                                   on_progress=on_progress, should_cancel=should_cancel)
            else:
                result = engine(profile, dry_run=claim.run.dry_run,
                                default_target_url=self._target_url,
                                on_progress=on_progress, should_cancel=should_cancel,
                                run_id=claim.run_id, **self._engine_options,
                                **_last_good(claim))
            if not isinstance(result, RunResult):
                raise EngineContractError(f"the engine returned {type(result).__name__}, "
                                          "not a RunResult")
            if result_is_transient_failure(result):
                raise TransientResultError(result)
            return result

        # The backoff between tries waits on the shutdown, not on its grace:
        # tenacity's own stop conditions (attempts, time) still decide when
        # retries are exhausted.
        retrying = self._settings(claim).retrying(
            what="run", on_retry=on_retry, logger=log).copy(sleep=self._wait_to_retry)
        log.info("executing run (attempt %d, dry run %s)", claim.attempt, claim.run.dry_run)
        try:
            result = retrying(attempt_once)
        except _LeaseLost:
            return Ending.abandoned("lease lost")
        except RetryStopped:
            return Ending.released(SHUTDOWN_IN_BACKOFF, attempt_used=False)
        except EngineContractError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure ends the run somehow
            if keeper.lost.is_set():
                return Ending.abandoned("lease lost")
            failure: Classification = classify(exc)
            if self._shutdown.abandon.is_set():
                return Ending.released(SHUTDOWN_GRACE_OVER, attempt_used=False)
            if failure.transient:
                return Ending.released(f"transient error, retries exhausted: {failure.message}",
                                       attempt_used=True, error_class=ErrorClass.TRANSIENT)
            if failure.error_class is ErrorClass.PERMANENT and not hasattr(exc, "error_class"):
                log.exception("unexpected error while executing the run")
            counts, source_paths = _partial(exc)
            plan = finish_from_failure(failure, counts, source_paths)
            if is_rollback(claim.run):
                plan = replace(plan, hint=failure_hint(exc, plan.hint))
            return Ending.finished(self._keep(claim, plan))
        if keeper.lost.is_set():
            return Ending.abandoned("lease lost")
        verdict = gate_verdicts[0] if gate_verdicts else None
        if result is None and verdict is not None:
            return Ending.finished(unchanged_plan(verdict.evidence))
        plan = finish_from_result(result)
        # Checksums of the files read, before retention may move them.
        known = verdict.known_checksums() if verdict is not None else {}
        plan = replace(plan, inputs=tuple(with_checksums(plan.inputs, known)))
        if verdict is not None:
            plan = with_freshness(plan, verdict.evidence, verdict.current_token,
                                  dry_run=claim.run.dry_run,
                                  imported_files=verdict.imported_files,
                                  profile_digest=verdict.profile_digest,
                                  more_input_waiting=verdict.more_waiting)
        if plan.status is RunStatus.CANCELLED and not keeper.cancel_requested.is_set():
            # Stopped because the shutdown grace ran out, not because anyone
            # asked: hand the run back untried.
            return Ending.released(SHUTDOWN_GRACE_OVER, attempt_used=False)
        return Ending.finished(self._keep(claim, plan))

    def _keep(self, claim: Claim, plan: FinishPlan) -> FinishPlan:
        """The masked sample, then retention of the source files (which may
        move them), then the purge of stale changesets, all recorded with the run."""
        now = datetime.now(UTC)
        if reads_source(claim.run):
            if self._sampler is not None:
                plan = self._sampler.apply(claim.profile, plan, run_id=claim.run_id, now=now)
            plan = apply_retention(
                claim.profile, plan, dry_run=claim.run.dry_run, now=now,
                pins=lambda: self._registry.failed_file_pins(claim.profile.name))
        if purges_changesets(claim.run, plan.status):
            plan = apply_changeset_purge(claim.profile, plan, target_url=self._target_url,
                                         kept=self._registry.kept_runs, now=now)
        return plan

    # -- ending ---------------------------------------------------------------------

    def _conclude(self, claim: Claim, keeper: LeaseKeeper, ending: Ending) -> None:
        try:
            if ending.kind is EndingKind.FINISH:
                assert ending.finish is not None
                plan = ending.finish
                if self._mask_key is not None:
                    plan = masked_plan(plan, profile_masker(self._mask_key, claim.profile))
                run = self._registry.finish(claim, plan, keeper.take_events())
                self._metrics.inc("finished", status=plan.status.name)
                log.info("run finished %s", plan.status.name, extra={"fields": {
                    "status": plan.status.name, "error_class": plan.error_class.name,
                    **{f"count_{k}": v for k, v in plan.counts.items() if v},
                    "registry_status": run.status}})
            elif ending.kind is EndingKind.RELEASE:
                keeper.flush()
                run = self._registry.release(claim, ending.reason,
                                             attempt_used=ending.attempt_used,
                                             error_class=ending.error_class)
                self._metrics.inc("released_retry" if ending.attempt_used
                                  else "released_shutdown")
                log.warning("run handed back: %s", ending.reason, extra={"fields": {
                    "attempt_used": ending.attempt_used, "registry_status": run.status}})
            else:
                self._metrics.inc("lease_lost")
                log.warning("stopped working on the run: %s; another runner may own it",
                            ending.reason)
        except LeaseLostError as exc:
            self._metrics.inc("lease_lost")
            log.warning("lease lost before the run could be ended here (%s); "
                        "the registry decides its fate", exc)
        except (grpc.RpcError, RetryStopped) as exc:
            self._metrics.inc("registry_errors")
            log.error("could not record the end of the run (%s); the lease will expire "
                      "and the run is retried as its next attempt", exc)
