"""Retries of transient failures: one frozen settings type, turned into tenacity.

``RetrySettings`` says how to retry (exponential backoff capped at
``max_backoff``, plus random jitter, bounded by attempts and total time, or
unbounded when those are ``None``) and what to retry (named transient
exception types, or a predicate). ``settings.retrying()`` builds a
``tenacity.Retrying`` that logs each failed attempt (or hands it to a
``log_retry`` hook), can report it to a callback (the runner turns those
reports into RETRY run events) and stops waiting when a stop event is set.
Every retry in Ferry goes through it:

- bounded calls: ``settings.call(fn, ...)``, and ``call_registry(fn, request,
  ...)`` for a registry gRPC method with ``REGISTRY_RETRY``;
- reconnect-forever loops (the AMQP consumer, the registry's run-event relay,
  the scheduler's queued-run stream): ``keep_trying(session, settings, ...)``;
- ``RetrySettings.from_policy(profile.retry, ...)`` builds settings from a
  profile's ``RetryPolicy`` (zero fields mean the defaults).

Transient gRPC status codes, the one set (``TRANSIENT_RPC_CODES``,
``is_transient_rpc_error``):

- ``UNAVAILABLE``: the server is down, restarting, stopping, or refusing more
  streams; trying again later is the documented remedy.
- ``DEADLINE_EXCEEDED``: no answer in time. Every registry call Ferry retries is
  idempotent (creates carry a ``request_id``, runner calls a fencing token), so
  sending it again is safe.
- Not ``RESOURCE_EXHAUSTED``: Ferry's servers never send it themselves; gRPC
  does, for a message over the 16 MB limit, and that request fails the same way
  on every try. An overloaded server answers ``UNAVAILABLE`` (AIP-194).
- Not ``ABORTED``: a concurrency conflict, which is resolved by reading the
  state again and composing a new request, not by resending the same one
  (AIP-194). Ferry's registry answers its conflicts (a lost lease, a stale
  fencing token) with ``FAILED_PRECONDITION``, which is never retried.

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
    """One failed attempt that will be retried (``max_attempts`` None: no limit)."""

    what: str
    attempt: int
    max_attempts: int | None
    error: BaseException
    wait: float

    def describe(self) -> str:
        of = f" of {self.max_attempts}" if self.max_attempts is not None else ""
        return (f"{self.what}: attempt {self.attempt}{of} failed "
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
    """Retrying was interrupted by the stop event (shutdown). Never retried."""


@dataclass(frozen=True)
class RetrySettings:
    """How and what to retry. Times are seconds; ``None`` for ``max_attempts``
    or ``max_elapsed`` means no limit (retry until the stop event)."""

    max_attempts: int | None = DEFAULT_MAX_ATTEMPTS
    initial_backoff: float = DEFAULT_INITIAL_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_elapsed: float | None = DEFAULT_MAX_ELAPSED
    # Random extra wait of up to ``jitter`` seconds (default: initial_backoff).
    jitter: float | None = None
    retry_on: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
    # Extra predicate: an exception it accepts is retried too.
    retry_if: Callable[[BaseException], bool] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or (
                self.max_elapsed is not None and self.max_elapsed < 0):
            raise ValueError("backoff and elapsed times must not be negative")

    @classmethod
    def forever(cls, initial_backoff: float, max_backoff: float, *,
                jitter: float | None = None,
                retry_on: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
                retry_if: Callable[[BaseException], bool] | None = None) -> RetrySettings:
        """Settings that retry until the stop event: no attempt or time limit."""
        return cls(max_attempts=None, initial_backoff=initial_backoff, max_backoff=max_backoff,
                   max_elapsed=None, jitter=jitter, retry_on=retry_on, retry_if=retry_if)

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
        if isinstance(error, RetryStopped):
            return False
        if isinstance(error, self.retry_on):
            return True
        return bool(self.retry_if is not None and self.retry_if(error))

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1-based), without jitter."""
        return min(self.max_backoff, self.initial_backoff * (2 ** max(0, attempt - 1)))

    def retrying(self, *, what: str = "operation",
                 on_retry: Callable[[RetryNotice], None] | None = None,
                 stop_event: threading.Event | None = None,
                 logger: logging.Logger | None = None,
                 log_retry: Callable[[RetryNotice], None] | None = None,
                 max_wait: Callable[[], float | None] | None = None) -> tenacity.Retrying:
        """A tenacity ``Retrying`` for these settings.

        Each failed attempt that will be retried is logged as a warning on
        ``logger`` (or passed to ``log_retry`` instead), then passed to
        ``on_retry``. The last error is re-raised when retries are exhausted,
        or when ``stop_event`` is set before a wait; set during a wait, it ends
        the wait early with ``RetryStopped``. ``max_wait()`` (None: no bound)
        shortens a wait that would last longer.
        """
        jitter = self.initial_backoff if self.jitter is None else self.jitter

        def stop_requested(_state: tenacity.RetryCallState) -> bool:
            return stop_event is not None and stop_event.is_set()

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            notice = RetryNotice(what=what, attempt=state.attempt_number,
                                 max_attempts=self.max_attempts,
                                 error=error or Exception("unknown"), wait=wait)
            _log(notice, log_retry, logger)
            if on_retry is not None:
                on_retry(notice)

        def sleep(seconds: float) -> None:
            if stop_event is None:
                threading.Event().wait(seconds)
            elif stop_event.wait(seconds):
                raise RetryStopped(f"{what}: stopped while waiting to retry")

        wait: Any = (tenacity.wait_exponential(multiplier=self.initial_backoff,
                                               max=self.max_backoff)
                     + tenacity.wait_random(0, jitter))
        if max_wait is not None:
            wait = _bounded(wait, max_wait)
        stops: list[Any] = [stop_requested]
        if self.max_attempts is not None:
            stops.append(tenacity.stop_after_attempt(self.max_attempts))
        if self.max_elapsed is not None:
            stops.append(tenacity.stop_after_delay(self.max_elapsed))
        return tenacity.Retrying(
            stop=tenacity.stop_any(*stops), wait=wait,
            retry=tenacity.retry_if_exception(self.is_retryable),
            before_sleep=before_sleep, sleep=sleep, reraise=True)

    def call(self, fn: Callable[..., T], *args: Any, what: str = "operation",
             on_retry: Callable[[RetryNotice], None] | None = None,
             stop_event: threading.Event | None = None, **kwargs: Any) -> T:
        """Call ``fn(*args, **kwargs)`` under these settings."""
        return self.retrying(what=what, on_retry=on_retry, stop_event=stop_event)(
            fn, *args, **kwargs)


def _log(notice: RetryNotice, log_retry: Callable[[RetryNotice], None] | None,
         logger: logging.Logger | None) -> None:
    if log_retry is not None:
        log_retry(notice)
        return
    (logger or log).warning(notice.describe(), extra={"fields": {
        "retry_attempt": notice.attempt, "retry_wait_s": round(notice.wait, 3),
        "error_type": type(notice.error).__name__}})


def _bounded(wait: Callable[[tenacity.RetryCallState], float],
             bound: Callable[[], float | None]) -> Callable[[tenacity.RetryCallState], float]:
    def bounded_wait(state: tenacity.RetryCallState) -> float:
        seconds, limit = wait(state), bound()
        return seconds if limit is None else max(0.0, min(seconds, limit))
    return bounded_wait


def keep_trying(session: Callable[[Callable[[], None]], None], settings: RetrySettings, *,
                what: str, stop_event: threading.Event,
                log_retry: Callable[[RetryNotice], None] | None = None,
                logger: logging.Logger | None = None) -> None:
    """Run ``session`` again and again until ``stop_event`` is set: the
    reconnect-forever loop of a long-lived connection or stream.

    ``session(progressed)`` connects and serves until it breaks with an error
    ``settings`` retries, or returns (once it saw the stop event; otherwise it
    is run again at once). It calls ``progressed()`` when it got somewhere
    (connected, received a message).
    A session that broke before that is run again after capped exponential
    backoff with jitter (tenacity), growing with each such failure; one that
    broke after it is run again at once, with the backoff back at its start.
    Each failure is logged (or passed to ``log_retry``), the immediate restart
    with a wait of 0. Other errors propagate.
    """
    retrying = settings.retrying(what=what, stop_event=stop_event, logger=logger,
                                 log_retry=log_retry)

    def attempt() -> None:
        progressed = threading.Event()
        try:
            session(progressed.set)
        except Exception as error:
            if progressed.is_set() and settings.is_retryable(error) \
                    and not stop_event.is_set():
                _log(RetryNotice(what=what, attempt=1, max_attempts=settings.max_attempts,
                                 error=error, wait=0.0), log_retry, logger)
                return  # ends this tenacity call: the next one starts the backoff over
            raise

    while not stop_event.is_set():
        try:
            retrying(attempt)
        except RetryStopped:
            return
        except Exception as error:
            # Stopping: tenacity hands back the last failure instead of waiting.
            if not (stop_event.is_set() and settings.is_retryable(error)):
                raise


def is_transient_rpc_error(error: BaseException) -> bool:
    """True for a gRPC error whose status is in ``TRANSIENT_RPC_CODES``
    (UNAVAILABLE or DEADLINE_EXCEEDED; see the module docstring for why)."""
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
                  on_retry: Callable[[RetryNotice], None] | None = None,
                  logger: logging.Logger | None = None) -> T:
    """Call a registry stub method, retrying transient gRPC failures."""
    kwargs = {} if timeout is None else {"timeout": timeout}
    return settings.retrying(what=what, on_retry=on_retry, stop_event=stop_event,
                             logger=logger)(fn, request, **kwargs)
