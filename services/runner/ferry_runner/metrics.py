"""The runner's counters, kept in one place.

Counters are monotonic and thread-safe; ``snapshot()`` is logged at shutdown.
When given a ``ferry.metrics.FerryMetrics``, the counters with a Prometheus
counterpart are forwarded to it (``ferry_run_requests_consumed_total`` by
result, ``ferry_retries_total`` by kind), served on ``FERRY_METRICS_ADDRESS``.
Run and row totals are counted by the registry, which sees every terminal
status once.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

# Every counter the runner keeps, with what it counts.
COUNTERS: dict[str, str] = {
    "deliveries": "run requests received from the queue",
    "poison_messages": "undecodable or unknown-version requests dead-lettered",
    "claimed": "runs claimed (delivery acked, run executed here)",
    "duplicates": "requests for runs already claimed, finished or superseded (dropped)",
    "deferred": "requests acked because another run of the profile is live",
    "claim_unavailable": "requests handed back because the registry was unreachable",
    "transient_retries": "transient errors retried inside an attempt",
    "finished": "runs finished (any terminal status)",
    "released_retry": "runs handed back after transient retries ran out (attempt used)",
    "released_shutdown": "runs handed back at shutdown (attempt not used)",
    "lease_lost": "runs abandoned because the lease was lost",
    "registry_errors": "finish or release calls that failed for good",
    "registry_retries": "registry calls retried after UNAVAILABLE or DEADLINE_EXCEEDED",
    "broker_reconnects": "times the broker connection was lost or refused",
    "runner_tasks": "runner tasks (validate a profile) executed and answered",
}

# Runner counter -> (FerryMetrics method, label value).
_PROMETHEUS: dict[str, tuple[str, str]] = {
    "claimed": ("request_consumed", "claimed"),
    "duplicates": ("request_consumed", "duplicate"),
    "deferred": ("request_consumed", "deferred"),
    "poison_messages": ("request_consumed", "dead_lettered"),
    "transient_retries": ("retried", "source_read"),
    "released_retry": ("retried", "attempt"),
    "registry_retries": ("retried", "registry_call"),
    "broker_reconnects": ("retried", "broker_reconnect"),
}


class RunnerMetrics:
    def __init__(self, prometheus: Any = None) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._prometheus = prometheus

    def inc(self, name: str, by: int = 1, **labels: str) -> None:
        if name not in COUNTERS:
            raise KeyError(f"unknown counter {name!r}")
        key = name + "".join(f"{{{k}={v}}}" for k, v in sorted(labels.items()))
        with self._lock:
            self._counts[key] += by
        forward = _PROMETHEUS.get(name)
        if forward is not None and self._prometheus is not None:
            method, label = forward
            for _ in range(by):
                getattr(self._prometheus, method)(label)

    def get(self, name: str) -> int:
        """The total of a counter over all its labels."""
        with self._lock:
            return sum(v for k, v in self._counts.items()
                       if k == name or k.startswith(name + "{"))

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
