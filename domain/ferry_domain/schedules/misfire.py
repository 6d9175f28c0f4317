"""The misfire grace of a schedule: how late a fire may be and still run.

A due fire more than the grace behind ``now`` is *late*; the schedule's
catch-up policy decides what happens to late fires (see
``ferry_scheduler.planning``). A schedule created without a grace gets
``DEFAULT_MISFIRE_GRACE`` from the registry; a grace of zero also means the
default.
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_MISFIRE_GRACE = timedelta(minutes=5)


def misfire_grace(grace: timedelta) -> timedelta:
    """The grace that applies: ``grace``, or the default when it is zero or less."""
    return grace if grace > timedelta(0) else DEFAULT_MISFIRE_GRACE
