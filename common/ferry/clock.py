"""Time as a dependency: core code asks a Clock, tests inject a FakeClock.

Services take theirs from :func:`clock_from_env`: the system clock, or a
test-only shifted one (``FERRY_TEST_CLOCK_OFFSET`` with ``FERRY_ALLOW_TEST_CLOCK=1``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ferry.config import ConfigError, Env


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


def utc(when: datetime) -> datetime:
    """Make a datetime aware in UTC (naive values are taken as UTC)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


class OffsetClock:
    """The system clock shifted by a fixed offset (a test-only clock, see
    :func:`clock_from_env`): lets an integration test see a registry a day
    ahead without waiting a day."""

    def __init__(self, offset: timedelta, base: Clock | None = None) -> None:
        self.offset = offset
        self._base = base or SystemClock()

    def now(self) -> datetime:
        return self._base.now() + self.offset


TEST_CLOCK_OFFSET_VAR = "FERRY_TEST_CLOCK_OFFSET"
ALLOW_TEST_CLOCK_VAR = "FERRY_ALLOW_TEST_CLOCK"


def clock_from_env(environ: Mapping[str, str] | None = None) -> Clock:
    """The service clock: the system clock, or, for tests only, the system clock
    shifted by ``FERRY_TEST_CLOCK_OFFSET`` (a duration, e.g. ``26h``), which is
    refused (ConfigError) unless ``FERRY_ALLOW_TEST_CLOCK=1`` is set as well."""
    env = Env(environ)
    if not env.str(TEST_CLOCK_OFFSET_VAR, ""):
        return SystemClock()
    if not env.bool(ALLOW_TEST_CLOCK_VAR, False):
        raise ConfigError(f"{TEST_CLOCK_OFFSET_VAR} shifts the service's clock and is for "
                          f"tests only; set {ALLOW_TEST_CLOCK_VAR}=1 to allow it")
    return OffsetClock(env.duration(TEST_CLOCK_OFFSET_VAR, "0s"))
