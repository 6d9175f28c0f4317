"""Durations as people write them, one grammar for every surface.

Environment variables (``FERRY_RUN_LEASE=30s``), profile YAML
(``timeout: 1h30m``), schedule flags (``--every 15m``) and CLI windows
(``--since 7d``) all read durations with :func:`parse_duration`; everything
that shows one writes it with :func:`format_duration`. The grammar is
documented in docs/durations.md::

    duration = number                   a plain number is seconds: 90, 1.5
             | part { part }            30s, 1h30m, 1d 12h, 2m 30s, 1s500ms
    part     = number unit              spaces may separate parts, and a
                                        number from its unit
    number   = digits [ "." digits ]    no sign, no exponent
    unit     = "d" | "h" | "m" | "s" | "ms"   largest first, each at most once

A duration is never negative and at most ``MAX_SECONDS`` (the range of
``google.protobuf.Duration``). A bad value raises ``DurationError`` (a
``ValueError``) with a message for the person who wrote it.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration

from ferry.errors import Violation

UNIT_SECONDS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
"""Every unit in seconds, largest first: the order parts are written in."""

MAX_SECONDS = 315_576_000_000
"""The longest duration, 10,000 years: the range of ``google.protobuf.Duration``."""

EXAMPLES = "90, 30s, 250ms, 10m, 2h, 1h30m, 7d"

_NUMBER = r"\d+(?:\.\d+)?"
_SECONDS = re.compile(rf"^{_NUMBER}$")
_PART = re.compile(rf"\s*({_NUMBER})\s*(ms|d|h|m|s)")
_RANK = {unit: rank for rank, unit in enumerate(UNIT_SECONDS)}


class DurationError(ValueError):
    """A value that is not a duration. ``reason`` says what is wrong when the
    value is close to one (out of order, negative, too long); it is empty
    when the value is simply not in the grammar."""

    def __init__(self, value: object, reason: str = "") -> None:
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        detail = f": {reason}" if reason else f" (examples: {EXAMPLES})"
        super().__init__(f"{shown} is not a duration{detail}")
        self.reason = reason


def parse_duration(value: str | int | float) -> timedelta:
    """The duration ``value`` spells (see the module doc); DurationError (a
    ValueError) when it is not one. Numbers (from YAML) are seconds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DurationError(value)
    if isinstance(value, str):
        text = value.strip()
        seconds = float(text) if _SECONDS.match(text) else _sum_of_parts(value, text)
    elif math.isfinite(value) and value >= 0:
        seconds = float(value)
    else:
        raise DurationError(value, "a number of seconds is 0 or more")
    if seconds > MAX_SECONDS:
        raise DurationError(value, f"longer than the longest, {format_duration(MAX_SECONDS)}")
    return timedelta(seconds=seconds)


def _sum_of_parts(value: str, text: str) -> float:
    """Seconds in ``1h30m``-style text."""
    seconds, position, last_rank = 0.0, 0, -1
    while match := _PART.match(text, position):
        amount, unit = match.groups()
        if _RANK[unit] <= last_rank:
            raise DurationError(value, "write the largest unit first and each unit once "
                                       "(d, h, m, s, ms), e.g. 1h30m")
        last_rank = _RANK[unit]
        seconds += float(amount) * UNIT_SECONDS[unit]
        position = match.end()
    if text.startswith("-"):
        raise DurationError(value, "durations are not negative")
    if not text or position < len(text):
        raise DurationError(value)
    return seconds


def parse_duration_proto(value: str | int | float) -> Duration:
    """:func:`parse_duration` as a ``google.protobuf.Duration``."""
    duration = Duration()
    duration.FromTimedelta(parse_duration(value))
    return duration


def format_duration(value: timedelta | Duration | float) -> str:
    """The compact form :func:`parse_duration` reads back: ``1d2h``, ``1h30m``,
    ``45s``, ``1.5s``, ``0s``. A float is seconds."""
    if isinstance(value, Duration):
        total = value.seconds + value.nanos / 1e9
    elif isinstance(value, timedelta):
        total = value.total_seconds()
    else:
        total = float(value)
    sign = "-" if total < 0 else ""
    total = abs(total)
    whole = int(total)
    fraction = round(total - whole, 9)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if fraction:
        seconds_text = f"{seconds + fraction:.9f}".rstrip("0") + "s"
    else:
        seconds_text = f"{seconds}s" if seconds else ""
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes else "", seconds_text]
    return sign + ("".join(parts) or "0s")


def check_duration(duration: Duration, field: str) -> list[Violation]:
    """Violations of a ``google.protobuf.Duration`` received on the wire: a
    duration is never negative."""
    if duration.seconds < 0 or duration.nanos < 0:
        return [Violation(field, "must not be negative")]
    return []
