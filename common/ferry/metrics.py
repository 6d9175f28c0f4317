"""Every Prometheus metric Ferry exports, in one place.

Metrics live on Ferry's own ``REGISTRY`` (not prometheus-client's global
default registry), together with the standard process, platform and Python
GC collectors. ``METRICS`` is the ``FerryMetrics`` instance services use;
tests build their own ``FerryMetrics(CollectorRegistry())`` so counts never
leak between tests. docs/metrics.md lists every name, type, label and
meaning.

``start_metrics_server(address)`` serves ``/metrics`` over HTTP
(``FERRY_METRICS_ADDRESS``, e.g. ``127.0.0.1:9464``; port 0 picks a free
port; empty turns the endpoint off) and returns the bound port.

``GrpcMetricsInterceptor`` times every gRPC call a server handles, unary and
streaming, by method and status code. Put it first in the server's
interceptors so calls refused by authentication are counted too::

    create_server(addr, register, names,
                  interceptors=[GrpcMetricsInterceptor(), auth_interceptor])

Label values come from small closed sets; a value outside its set is
recorded as ``other`` (and logged once) rather than minting a new series.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from ferry.config import ConfigError, Env
from ferry.v1 import profile_pb2, run_pb2

log = logging.getLogger(__name__)

METRICS_ADDRESS_VAR = "FERRY_METRICS_ADDRESS"

# Label of each ferry.v1.RunStatus number (queued, running, completed, ...):
# the label set follows the proto enum. Which statuses are terminal is the
# run state machine's business (ferry_domain.runs.states), not the metrics'.
_STATUS_LABELS = {number: name.removeprefix("RUN_STATUS_").lower()
                  for name, number in run_pb2.RunStatus.items()}
RUN_STATUSES = tuple(label for number, label in _STATUS_LABELS.items() if number)
OPERATIONS = ("import", "export", "rollback")
ROW_OUTCOMES = ("created", "updated", "unchanged", "written", "skipped", "filtered", "error",
                "deleted")
CONSUME_RESULTS = ("claimed", "duplicate", "deferred", "dead_lettered")
RETRY_KINDS = ("attempt", "publish", "registry_call", "broker_reconnect", "target_write",
               "source_read")
NOTIFICATION_RESULTS = ("delivered", "failed")
OTHER = "other"

# Field of ferry.v1.RunCounts -> row outcome.
_COUNT_FIELDS = {"created": "created", "updated": "updated", "unchanged": "unchanged",
                 "written": "written", "skipped": "skipped", "filtered": "filtered",
                 "errors": "error", "deleted": "deleted"}

RUN_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400,
                        28800)
GRPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                60, 300, 1800, 3600)

_warned: set[tuple[str, str]] = set()


def _label(value: object, allowed: tuple[str, ...], what: str, *prefixes: str) -> str:
    text = str(value).strip().lower()
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text in allowed:
        return text
    if (what, text) not in _warned:
        _warned.add((what, text))
        log.warning("metric label %s=%r is not one of %s; recorded as %r",
                    what, text, ", ".join(allowed), OTHER)
    return OTHER


def status_label(status: object) -> str:
    """``RUN_STATUS_COMPLETED``, ``"completed"`` or a RunStatus number -> ``completed``."""
    if isinstance(status, int):
        status = _STATUS_LABELS.get(status, status)
    return _label(status, RUN_STATUSES, "status", "run_status_")


def operation_label(operation: object) -> str:
    """``OPERATION_IMPORT``, ``"import"`` or an Operation number -> ``import``."""
    if isinstance(operation, int):
        try:
            operation = profile_pb2.Operation.Name(operation)
        except ValueError:
            operation = str(operation)
    return _label(operation, OPERATIONS, "operation", "operation_")


class FerryMetrics:
    """The metric objects, registered on ``registry``, and helpers that keep
    label values in their documented sets."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.runs = Counter(
            "ferry_runs_total", "Runs entering a status (queued when created, running when "
            "claimed, then one terminal status).", ["status"], registry=registry)
        self.runs_finished = Counter(
            "ferry_runs_finished_total", "Runs that reached a terminal status.",
            ["status", "entity_type", "operation"], registry=registry)
        self.rows = Counter(
            "ferry_rows_total", "Rows processed by finished runs, by outcome.",
            ["outcome"], registry=registry)
        self.run_duration = Histogram(
            "ferry_run_duration_seconds", "Wall time of a run attempt, from claim to "
            "terminal status.", ["operation"], buckets=RUN_DURATION_BUCKETS,
            registry=registry)
        self.requests_published = Counter(
            "ferry_run_requests_published_total", "Run requests the broker confirmed.",
            registry=registry)
        self.requests_consumed = Counter(
            "ferry_run_requests_consumed_total", "Run requests a runner took off the queue, "
            "by what it did with them.", ["result"], registry=registry)
        self.lease_expiries = Counter(
            "ferry_lease_expiries_total", "Run leases that expired (a runner stopped "
            "heartbeating).", registry=registry)
        self.retries = Counter(
            "ferry_retries_total", "Retries, by what was retried.", ["kind"],
            registry=registry)
        self.grpc_handling = Histogram(
            "ferry_grpc_server_handling_seconds", "Time a gRPC server spent on a call, until "
            "its status was sent (whole stream for streaming methods).", ["method", "code"],
            buckets=GRPC_BUCKETS, registry=registry)
        self.profile_stale = Gauge(
            "ferry_profile_stale", "1 while a profile with expect_change_within is stale "
            "(no changed input for that long), else 0.", ["profile"], registry=registry)
        self.profile_since_change = Gauge(
            "ferry_profile_seconds_since_change", "Seconds since the last live run of a profile "
            "with expect_change_within imported changed input (or since its creation).",
            ["profile"], registry=registry)
        self.notifications = Counter(
            "ferry_notifications_total", "Webhook notices, by how their delivery ended.",
            ["result"], registry=registry)
        # Series that exist before the first event, so rate() and absent() work.
        for status in RUN_STATUSES:
            self.runs.labels(status=status)
        for outcome in ROW_OUTCOMES:
            self.rows.labels(outcome=outcome)
        for result in CONSUME_RESULTS:
            self.requests_consumed.labels(result=result)
        for kind in RETRY_KINDS:
            self.retries.labels(kind=kind)
        for result in NOTIFICATION_RESULTS:
            self.notifications.labels(result=result)

    def run_entered(self, status: object) -> None:
        self.runs.labels(status=status_label(status)).inc()

    def run_finished(self, status: object, entity_type: str, operation: object,
                     duration_seconds: float | None = None) -> None:
        """A run attempt reached a terminal status: counts it in both run counters
        and, when given, observes its duration."""
        status_text = status_label(status)
        operation_text = operation_label(operation)
        self.runs.labels(status=status_text).inc()
        self.runs_finished.labels(status=status_text, entity_type=entity_type or "unknown",
                                  operation=operation_text).inc()
        if duration_seconds is not None:
            self.run_duration.labels(operation=operation_text).observe(
                max(0.0, duration_seconds))

    def rows_processed(self, outcome: str, count: int = 1) -> None:
        if count > 0:
            self.rows.labels(outcome=_label(outcome, ROW_OUTCOMES, "outcome")).inc(count)

    def row_counts(self, counts: Any) -> None:
        """Add a finished run's final ``ferry.v1.RunCounts`` (or a mapping with
        the same field names)."""
        for field, outcome in _COUNT_FIELDS.items():
            value = counts.get(field, 0) if isinstance(counts, dict) else getattr(
                counts, field, 0)
            self.rows_processed(outcome, int(value or 0))

    def profile_staleness(self, profile: str, *, stale: bool, seconds_since_change: float
                          ) -> None:
        """A stale-watch pass judged ``profile`` (one with expect_change_within)."""
        self.profile_stale.labels(profile=profile).set(1 if stale else 0)
        self.profile_since_change.labels(profile=profile).set(max(0.0, seconds_since_change))

    def forget_profile(self, profile: str) -> None:
        """Drop the series of a profile that is gone or expects no changes any more."""
        for gauge in (self.profile_stale, self.profile_since_change):
            try:
                gauge.remove(profile)
            except KeyError:
                pass

    def notification_finished(self, delivered: bool) -> None:
        self.notifications.labels(result="delivered" if delivered else "failed").inc()

    def request_published(self, count: int = 1) -> None:
        self.requests_published.inc(count)

    def request_consumed(self, result: str) -> None:
        self.requests_consumed.labels(result=_label(result, CONSUME_RESULTS, "result")).inc()

    def lease_expired(self, count: int = 1) -> None:
        self.lease_expiries.inc(count)

    def retried(self, kind: str) -> None:
        self.retries.labels(kind=_label(kind, RETRY_KINDS, "kind")).inc()

    def grpc_call(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        self.grpc_handling.labels(method=method.lstrip("/"), code=code.name).observe(seconds)


def _default_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


REGISTRY = _default_registry()
"""Ferry's registry: every Ferry metric plus process, platform and GC metrics."""

METRICS = FerryMetrics(REGISTRY)


def parse_metrics_address(address: str) -> tuple[str, int] | None:
    """``host:port`` -> ``(host, port)``; empty -> None. ``:9464`` listens on all
    interfaces; ``[::1]:9464`` is IPv6."""
    text = address.strip()
    if not text:
        return None
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"metrics address {address!r} is not host:port "
                         f"(example: 127.0.0.1:9464)")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port_text)


def metrics_address_from_env(env: Env | None = None) -> str:
    """``FERRY_METRICS_ADDRESS`` (empty: no metrics endpoint), checked."""
    value = (env or Env()).str(METRICS_ADDRESS_VAR, "").strip()
    try:
        parse_metrics_address(value)
    except ValueError as exc:
        raise ConfigError(f"{METRICS_ADDRESS_VAR}: {exc}") from None
    return value


def start_metrics_server(address: str, registry: CollectorRegistry = REGISTRY) -> int:
    """Serve ``/metrics`` for ``registry`` on ``address`` in a daemon thread.

    Returns the bound port (the real one when the address asks for port 0),
    or 0 when ``address`` is empty (metrics endpoint off).
    """
    parsed = parse_metrics_address(address)
    if parsed is None:
        return 0
    host, port = parsed
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise OSError(f"cannot serve metrics on {address}: {exc.strerror or exc}") from None
    bound = int(server.server_address[1])
    log.info("metrics on http://%s:%d/metrics", host, bound)
    return bound


def _code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    try:
        code = context.code()
    except (AttributeError, NotImplementedError):
        return None
    return code if isinstance(code, grpc.StatusCode) else None


class GrpcMetricsInterceptor(grpc.ServerInterceptor):
    """Records ``ferry_grpc_server_handling_seconds{method,code}`` for every call."""

    def __init__(self, metrics: FerryMetrics | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self._metrics = metrics or METRICS
        self._clock = clock

    def _unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        def timed(request: Any, context: grpc.ServicerContext) -> Any:
            start = self._clock()
            failed = False
            try:
                return behavior(request, context)
            except BaseException:
                failed = True
                raise
            finally:
                self._record(method, context, failed, start)
        return timed

    def _stream(self, behavior: Callable[..., Iterable[Any]],
                method: str) -> Callable[..., Iterator[Any]]:
        def timed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            start = self._clock()
            failed = cancelled = False
            try:
                yield from behavior(request, context)
            except GeneratorExit:  # the client went away mid-stream
                cancelled = True
                raise
            except BaseException:
                failed = True
                raise
            finally:
                if cancelled:
                    self._metrics.grpc_call(method, grpc.StatusCode.CANCELLED,
                                            self._clock() - start)
                else:
                    self._record(method, context, failed, start)
        return timed

    def _record(self, method: str, context: grpc.ServicerContext, failed: bool,
                start: float) -> None:
        code = _code(context) or (grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK)
        self._metrics.grpc_call(method, code, self._clock() - start)

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        kwargs = {"request_deserializer": handler.request_deserializer,
                  "response_serializer": handler.response_serializer}
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method), **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, method), **kwargs)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(handler.stream_unary, method), **kwargs)
        return grpc.stream_stream_rpc_method_handler(
            self._stream(handler.stream_stream, method), **kwargs)

