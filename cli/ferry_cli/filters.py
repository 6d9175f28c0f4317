"""Build the registry's list filter (``status = "FAILED" AND profile = "x"``) from flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from ferry.v1 import profile_pb2, run_pb2

STATUSES = [name[len("RUN_STATUS_"):] for name in run_pb2.RunStatus.keys()
            if not name.endswith("UNSPECIFIED")]
OPERATIONS = [name[len("OPERATION_"):] for name in profile_pb2.Operation.keys()
              if not name.endswith("UNSPECIFIED")]


def quote(value: str) -> str:
    """A filter string literal: double quotes, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def enum_short_name(value: str, allowed: list[str], prefix: str, option: str) -> str:
    """``failed`` / ``FAILED`` / ``RUN_STATUS_FAILED`` -> ``FAILED``."""
    key = value.strip().upper()
    if key.startswith(prefix):
        key = key[len(prefix):]
    if key not in allowed:
        raise click.BadParameter(
            f'"{value}" is not one of {", ".join(a.lower() for a in allowed)}', param_hint=option)
    return key


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_run_filter(*, status: str | None = None, entity: str | None = None,
                     operation: str | None = None, profile: str | None = None,
                     schedule_id: str | None = None, since: timedelta | None = None,
                     now: datetime | None = None) -> str:
    """The conjunction of the given conditions; empty when none is given."""
    terms: list[str] = []
    if status:
        short = enum_short_name(status, STATUSES, "RUN_STATUS_", "--status")
        terms.append(f"status = {quote(short)}")
    if entity:
        terms.append(f"entity_type = {quote(entity)}")
    if operation:
        short = enum_short_name(operation, OPERATIONS, "OPERATION_", "--operation")
        terms.append(f"operation = {quote(short)}")
    if profile:
        terms.append(f"profile = {quote(profile)}")
    if schedule_id:
        terms.append(f"schedule_id = {quote(schedule_id)}")
    if since is not None:
        start = (now or datetime.now(UTC)) - since
        terms.append(f"queue_time >= {quote(rfc3339(start))}")
    return " AND ".join(terms)
