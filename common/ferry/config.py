"""Reading configuration from ``FERRY_*`` environment variables.

Each service builds one frozen dataclass in its ``config.py`` with these
helpers; ``__main__`` is the only place that calls them. Bad values fail fast
with a ``ConfigError`` that names the variable. Every variable is documented
once, in the README's configuration table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?!s))?\s*"
                       r"(?:(\d+(?:\.\d+)?)s)?\s*(?:(\d+(?:\.\d+)?)ms)?\s*$")


class ConfigError(ValueError):
    """A configuration variable holds a value that cannot be used."""


def parse_duration(text: str) -> timedelta:
    """Parse ``90``, ``1.5``, ``30s``, ``250ms``, ``10m``, ``2h``, ``1h30m`` into a timedelta.

    A bare number is seconds.
    """
    raw = str(text).strip()
    if not raw:
        raise ValueError("empty duration")
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise ValueError(f"negative duration {raw!r}")
        return timedelta(seconds=seconds)
    match = _DURATION.match(raw)
    if not match or not any(match.groups()):
        raise ValueError(f"{raw!r} is not a duration (examples: 30s, 250ms, 10m, 2h, 1h30m)")
    hours, minutes, secs, millis = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=secs, milliseconds=millis)


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration for whole seconds: ``1h30m``, ``45s``, ``0s``."""
    total = value.total_seconds()
    if total != int(total):
        return f"{total:g}s"
    total = int(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{seconds}s" if seconds else ""]
    return "".join(parts) or "0s"


class Env:
    """Typed access to an environment mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def str(self, name: str, default: str) -> str:
        value = self._environ.get(name)
        return default if value is None or value == "" else value

    def int(self, name: str, default: int, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not an integer") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name}={value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name}={value} is above the maximum {maximum}")
        return value

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a number") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name}={value} is below the minimum {minimum}")
        return value

    def bool(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")

    def duration(self, name: str, default: str) -> timedelta:
        raw = self.str(name, default)
        try:
            return parse_duration(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default).lower()
        if value not in choices:
            raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
        return value
