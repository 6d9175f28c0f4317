"""Reading configuration from ``FERRY_*`` environment variables.

Each service builds one frozen dataclass in its ``config.py`` with these
helpers; ``__main__`` is the only place that calls them. Bad values fail fast
with a ``ConfigError`` that names the variable. Every variable is documented
once, in the README's configuration table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from ferry.durations import parse_duration


class ConfigError(ValueError):
    """A configuration variable holds a value that cannot be used."""


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
        """A duration in the grammar of ``ferry.durations`` (docs/durations.md)."""
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
