"""Retries of transient failures: one frozen settings object, turned into tenacity.

``RetrySettings`` says how to retry (exponential backoff with jitter, bounded by
attempts *and* total time) and what to retry (only named transient exception
types, or a predicate). ``settings.retrying()`` builds a ``tenacity.Retrying``
that logs each attempt and can report it to a callback (the runner turns those
reports into RETRY run events).

- ``RetrySettings.from_policy(profile.retry, ...)`` builds settings from a
  profile's ``RetryPolicy`` (zero fields mean the defaults).
- ``call_registry(fn, request, ...)`` calls a registry gRPC method, retrying
  on UNAVAILABLE and DEADLINE_EXCEEDED with ``REGISTRY_RETRY``.

No grpc import here: gRPC errors are recognised by their ``code()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import tenacity

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_INITIAL_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 30.0
DEFAULT_MAX_ELAPSED = 300.0

TRANSIENT_RPC_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})


@dataclass(frozen=True)
class RetryNotice:
    """One failed attempt that will be retried."""

    what: str
    attempt: int
    max_attempts: int
    error: BaseException
    wait: float

    def describe(self) -> str:
        return (f"{self.what}: attempt {self.attempt} of {self.max_attempts} failed "
                f"({describe_error(self.error)}); retrying in {self.wait:.1f}s")


def describe_error(error: BaseException) -> str:
    """One short line: ``Type: message``, or ``CODE: details`` for gRPC errors."""
    code = getattr(error, "code", None)
    details = getattr(error, "details", None)
    if callable(code) and callable(details):
        try:
            return f"{getattr(code(), 'name', code())}: {details()}"
        except Exception:  # noqa: BLE001 - not a real RpcError
            pass
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class RetryStopped(Exception):  # noqa: N818 - a signal, not a failure of its own
    """Retrying was interrupted by the stop event (shutdown)."""


@dataclass(frozen=True)
class RetrySettings:
    """How and what to retry. Times are seconds."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    initial_backoff: float = DEFAULT_INITIAL_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_elapsed: float = DEFAULT_MAX_ELAPSED
    # Random extra wait of up to ``jitter`` seconds (default: initial_backoff).
    jitter: float | None = None
    retry_on: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
    # Extra predicate: an exception it accepts is retried too.
    retry_if: Callable[[BaseException], bool] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.max_elapsed < 0:
            raise ValueError("backoff and elapsed times must not be negative")

    @classmethod
    def from_policy(cls, policy: Any, **overrides: Any) -> RetrySettings:
        """Settings from a ``ferry.v1.RetryPolicy`` (or anything with its fields).

        Zero or unset fields take the defaults.
        """
        def seconds(value: Any, default: float) -> float:
            if value is None:
                return default
            total = float(getattr(value, "seconds", 0)) + getattr(value, "nanos", 0) / 1e9
            return total if total > 0 else default

        base = cls()
        if policy is not None:
            base = cls(
                max_attempts=int(getattr(policy, "max_attempts", 0) or DEFAULT_MAX_ATTEMPTS),
                initial_backoff=seconds(getattr(policy, "initial_backoff", None),
                                        DEFAULT_INITIAL_BACKOFF),
                max_backoff=seconds(getattr(policy, "max_backoff", None), DEFAULT_MAX_BACKOFF),
                max_elapsed=seconds(getattr(policy, "max_elapsed", None), DEFAULT_MAX_ELAPSED),
            )
        return replace(base, **overrides) if overrides else base

    def is_retryable(self, error: BaseException) -> bool:
        if isinstance(error, self.retry_on):
            return True
        return bool(self.retry_if is not None and self.retry_if(error))

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1-based), without jitter."""
        return min(self.max_backoff, self.initial_backoff * (2 ** max(0, attempt - 1)))

    def retrying(self, *, what: str = "operation",
                 on_retry: Callable[[RetryNotice], None] | None = None,
                 stop_event: threading.Event | None = None,
                 logger: logging.Logger | None = None) -> tenacity.Retrying:
        """A tenacity ``Retrying`` for these settings.

        The last error is re-raised when retries are exhausted. When
        ``stop_event`` is set, waiting ends early and ``RetryStopped`` is raised.
        """
        logger = logger or log
        jitter = self.initial_backoff if self.jitter is None else self.jitter

        def stop_requested(_state: tenacity.RetryCallState) -> bool:
            return stop_event is not None and stop_event.is_set()

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            notice = RetryNotice(what=what, attempt=state.attempt_number,
                                 max_attempts=self.max_attempts,
                                 error=error or Exception("unknown"), wait=wait)
            logger.warning(notice.describe(), extra={"fields": {
                "retry_attempt": state.attempt_number, "retry_wait_s": round(wait, 3),
                "error_type": type(error).__name__}})
            if on_retry is not None:
                on_retry(notice)

        def sleep(seconds: float) -> None:
            if stop_event is None:
                threading.Event().wait(seconds)
            elif stop_event.wait(seconds):
                raise RetryStopped(f"{what}: stopped while waiting to retry")

        return tenacity.Retrying(
            stop=(tenacity.stop_after_attempt(self.max_attempts)
                  | tenacity.stop_after_delay(self.max_elapsed)
                  | stop_requested),
            wait=(tenacity.wait_exponential(multiplier=self.initial_backoff,
                                            max=self.max_backoff)
                  + tenacity.wait_random(0, jitter)),
            retry=tenacity.retry_if_exception(self.is_retryable),
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )

    def call(self, fn: Callable[..., T], *args: Any, what: str = "operation",
             on_retry: Callable[[RetryNotice], None] | None = None,
             stop_event: threading.Event | None = None, **kwargs: Any) -> T:
        """Call ``fn(*args, **kwargs)`` under these settings."""
        return self.retrying(what=what, on_retry=on_retry, stop_event=stop_event)(
            fn, *args, **kwargs)


def is_transient_rpc_error(error: BaseException) -> bool:
    """True for a gRPC error whose status is UNAVAILABLE or DEADLINE_EXCEEDED."""
    code = getattr(error, "code", None)
    if not callable(code):
        return False
    try:
        status = code()
    except Exception:  # noqa: BLE001 - not a real RpcError
        return False
    return getattr(status, "name", "") in TRANSIENT_RPC_CODES


# Registry calls: the registry restarts in seconds; ride that out, then give up.
REGISTRY_RETRY = RetrySettings(max_attempts=40, initial_backoff=0.2, max_backoff=3.0,
                               max_elapsed=90.0, jitter=0.2, retry_on=(),
                               retry_if=is_transient_rpc_error)


def call_registry(fn: Callable[..., T], request: Any, *, what: str,
                  settings: RetrySettings = REGISTRY_RETRY,
                  stop_event: threading.Event | None = None,
                  timeout: float | None = None,
                  on_retry: Callable[[RetryNotice], None] | None = None) -> T:
    """Call a registry stub method, retrying UNAVAILABLE/DEADLINE_EXCEEDED."""
    kwargs = {} if timeout is None else {"timeout": timeout}
    return settings.call(fn, request, what=what, stop_event=stop_event, on_retry=on_retry,
                         **kwargs)
