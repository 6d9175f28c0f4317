"""The runner's counters, kept in one place (exported to Prometheus later).

Counters are monotonic and thread-safe; ``snapshot()`` is what a metrics
endpoint or a log line reports.
"""

from __future__ import annotations

import threading
from collections import Counter

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
}


class RunnerMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def inc(self, name: str, by: int = 1, **labels: str) -> None:
        if name not in COUNTERS:
            raise KeyError(f"unknown counter {name!r}")
        key = name + "".join(f"{{{k}={v}}}" for k, v in sorted(labels.items()))
        with self._lock:
            self._counts[key] += by

    def get(self, name: str) -> int:
        """The total of a counter over all its labels."""
        with self._lock:
            return sum(v for k, v in self._counts.items()
                       if k == name or k.startswith(name + "{"))

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
