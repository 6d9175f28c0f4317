"""A run's timeline: fetch its events and print them as log lines."""

from __future__ import annotations

from collections.abc import Iterator

from ferry.grpc_client import all_pages
from ferry.v1 import run_pb2, run_service_pb2

from ferry_cli.output import full_time, short_enum

EVENT_PAGE = 1000


def fetch_events(client, run_id: str) -> list[run_pb2.RunEvent]:  # type: ignore[no-untyped-def]
    """Every event of the run, oldest first (all pages)."""
    return list(iter_events(client, run_id))


def iter_events(client, run_id: str) -> Iterator[run_pb2.RunEvent]:  # type: ignore[no-untyped-def]
    return all_pages(client.runs.ListRunEvents, run_service_pb2.ListRunEventsRequest(
        run_id=run_id, page_size=EVENT_PAGE), "events")


def event_kind(event: run_pb2.RunEvent) -> str:
    """``RUNNING`` for a status event, else the type in lower case: ``warning``,
    ``retry``, ``progress``, ``log``, ``lease-expired``, ``retention``."""
    if event.type == run_pb2.RUN_EVENT_TYPE_STATUS and event.status:
        return short_enum(run_pb2.RunStatus.Name(event.status), "RUN_STATUS_")
    kind = short_enum(run_pb2.RunEventType.Name(event.type), "RUN_EVENT_TYPE_")
    return kind.lower().replace("_", "-")


def event_line(event: run_pb2.RunEvent) -> str:
    """``2026-11-28 15:03:12 +0100  attempt 1  RUNNING  claimed by runner-1  key=value``."""
    parts = [full_time(event.event_time)]
    if event.attempt:
        parts.append(f"attempt {event.attempt}")
    parts.append(f"{event_kind(event):<9}")
    if event.message:
        parts.append(event.message)
    parts += [f"{key}={event.attributes[key]}" for key in sorted(event.attributes)]
    return "  ".join(parts).rstrip()
