"""Retrying calls to the registry: one frozen settings object turned into a
tenacity ``Retrying`` that retries only transient gRPC failures, logs each
attempt and gives up early when the service is stopping."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import grpc
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
    stop_when_event_set,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

TRANSIENT_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
})


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, grpc.RpcError) and exc.code() in TRANSIENT_CODES  # type: ignore[attr-defined]


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    code = exc.code() if isinstance(exc, grpc.RpcError) else exc  # type: ignore[attr-defined]
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning("registry call failed (%s), attempt %d; retrying in %.2fs",
                code, state.attempt_number, wait)


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 5
    initial_wait: float = 0.1
    max_wait: float = 2.0
    max_delay: float = 15.0

    def retrying(self, stopping: threading.Event | None = None) -> Retrying:
        stops = [stop_after_attempt(self.attempts), stop_after_delay(self.max_delay)]
        extra = {}
        if stopping is not None:
            stops.append(stop_when_event_set(stopping))
            extra["sleep"] = stopping.wait
        return Retrying(
            stop=stop_any(*stops),
            wait=wait_exponential_jitter(initial=self.initial_wait, max=self.max_wait),
            retry=retry_if_exception(is_transient),
            before_sleep=_log_retry,
            reraise=True,
            **extra,
        )
