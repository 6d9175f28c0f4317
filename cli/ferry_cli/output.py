"""Printing: rich tables for people, protobuf JSON for scripts, compact local times."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from ferry.durations import format_duration
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Table


def console() -> Console:
    """A console for stdout; colourless and never truncating when stdout is not a
    terminal (pipes and scripts get whole cells, whatever COLUMNS says)."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(width=_PIPE_WIDTH, highlight=False, color_system=None, soft_wrap=False)


_PIPE_WIDTH = 4096


def message_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def print_json(data: Any) -> None:
    if isinstance(data, Message):
        data = message_dict(data)
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def to_datetime(stamp: Timestamp) -> datetime | None:
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def local_time(stamp: Timestamp | datetime | None, now: datetime | None = None) -> str:
    """Compact local time: ``14:03:12`` today, ``2026-11-27 14:03`` otherwise, ``-`` unset."""
    moment = to_datetime(stamp) if isinstance(stamp, Timestamp) else stamp
    if moment is None:
        return "-"
    moment = moment.astimezone()
    now = (now or datetime.now(UTC)).astimezone(moment.tzinfo)
    if moment.date() == now.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def full_time(stamp: Timestamp | datetime | None) -> str:
    """Local time with date, seconds and UTC offset, for detail views."""
    moment = to_datetime(stamp) if isinstance(stamp, Timestamp) else stamp
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def elapsed(start: Timestamp, end: Timestamp, now: datetime | None = None) -> str:
    began = to_datetime(start)
    if began is None:
        return "-"
    ended = to_datetime(end) or now or datetime.now(UTC)
    return format_duration(max(0, int((ended - began).total_seconds())))


def short_enum(name: str, prefix: str) -> str:
    """``RUN_STATUS_FAILED`` -> ``FAILED``; the unspecified value -> ``-``."""
    text = name[len(prefix):] if name.startswith(prefix) else name
    return "-" if text == "UNSPECIFIED" else text


def print_table(columns: Sequence[str], rows: Iterable[Sequence[str]],
                empty: str = "nothing found") -> None:
    rows = list(rows)
    out = console()
    if not rows:
        out.print(empty)
        return
    table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, pad_edge=False,
                  highlight=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    out.print(table)


def print_details(pairs: Iterable[tuple[str, str]]) -> None:
    """``key: value`` lines; empty values are left out."""
    pairs = [(k, v) for k, v in pairs if v not in ("", "-", None)]
    width = max((len(k) for k, _ in pairs), default=0)
    out = console()
    for key, value in pairs:
        out.print(f"{key + ':':<{width + 1}} {value}", markup=False, highlight=False)


def format_count(value: int) -> str:
    """``12345`` -> ``12,345``."""
    return f"{value:,}"
