"""The bounds of a lease on a run or a schedule, shared by the registry (which
refuses a lease outside them) and the runner and scheduler (which refuse such
a configuration at start-up rather than at their first claim)."""

from __future__ import annotations

from datetime import timedelta

# A holder that stops must not keep a run or a schedule from others longer.
MAX_LEASE = timedelta(hours=1)
MIN_LEASE = timedelta(seconds=1)


def lease_problem(lease: timedelta) -> str | None:
    """Why ``lease`` cannot be asked for, or None."""
    if lease <= timedelta(0):
        return "must be more than 0s"
    if lease > MAX_LEASE:
        return "must be at most 1h"
    return None
