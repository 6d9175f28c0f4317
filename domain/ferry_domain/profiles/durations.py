"""Durations as people write them: ``30s``, ``10m``, ``2h``, ``1h30m``, ``7d``,
``250ms``, or a plain number of seconds. Used by profile YAML and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_seconds(text: str | int | float) -> float:
    """Seconds in a duration; raises ValueError with a readable message."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 10m, 2h, 1h30m)")
    if isinstance(text, int | float):
        return float(text)
    spec = text.strip().replace(" ", "")
    try:
        return float(spec)
    except ValueError:
        pass
    if not spec or _PART.sub("", spec) != "":
        raise ValueError(f'"{text}" is not a duration (e.g. 30s, 10m, 2h, 1h30m)')
    return sum(float(amount) * _UNITS[unit] for amount, unit in _PART.findall(spec))


def parse_duration(text: str | int | float) -> Duration:
    """A ``google.protobuf.Duration`` from a duration string or seconds."""
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=parse_seconds(text)))
    return duration


def format_duration(duration: Duration | timedelta | float) -> str:
    """The compact form parse_duration reads back: ``1h30m``, ``45s``, ``1.5s``."""
    if isinstance(duration, Duration):
        total = duration.seconds + duration.nanos / 1e9
    elif isinstance(duration, timedelta):
        total = duration.total_seconds()
    else:
        total = float(duration)
    sign = "-" if total < 0 else ""
    total = abs(total)
    whole = int(total)
    fraction = round(total - whole, 9)
    if fraction:
        seconds_text = f"{whole % 60 + fraction:g}s"
    else:
        seconds_text = f"{whole % 60}s" if whole % 60 else ""
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes else "", seconds_text]
    text = "".join(parts)
    return sign + (text or "0s")
