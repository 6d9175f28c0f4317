"""Stale profiles: quiet must not mean invisible. Pure: the clock is an argument.

A profile that declares ``expect_change_within`` (e.g. ``26h``) expects its
input to change at least that often. Its *last change* is the end time of its
last live run that did work (``ferry_domain.runs.states.DID_WORK``: COMPLETED
or WARNING; an UNCHANGED run read nothing new), or the profile's creation when
there is none. Once ``now - last change`` exceeds ``expect_change_within`` the
profile is stale, since ``last change + expect_change_within``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Staleness:
    """Where a profile stands against its ``expect_change_within``."""

    last_change: datetime
    # None: the profile declares no expect_change_within and is never stale.
    expect_change_within: timedelta | None
    # When the profile is (or will be) stale; None without expect_change_within.
    due: datetime | None
    stale: bool
    seconds_since_change: float

    @property
    def stale_since(self) -> datetime | None:
        return self.due if self.stale else None


def staleness(*, last_change: datetime, expect_change_within: timedelta | None,
              now: datetime) -> Staleness:
    """The profile's staleness at ``now``; ``expect_change_within`` None or zero
    means the profile does not expect changes (never stale)."""
    since = max(0.0, (now - last_change).total_seconds())
    if not expect_change_within:
        return Staleness(last_change, None, None, False, since)
    due = last_change + expect_change_within
    return Staleness(last_change, expect_change_within, due, now > due, since)


def last_change(created: datetime, last_work_end: datetime | None) -> datetime:
    """The profile's last change: its last live run that did work, else its creation."""
    return last_work_end if last_work_end is not None else created
