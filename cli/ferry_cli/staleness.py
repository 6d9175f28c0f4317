"""Stale and failing profiles as the CLI shows them (``profiles list``, ``runs
list``, ``runs get``, the dashboard): the registry sets ``stale_since`` on a
profile whose input has not changed for longer than its
``expect_change_within``, and ``failing_since`` / ``failing_runs`` on one whose
last live run failed."""

from __future__ import annotations

from datetime import datetime

from ferry.durations import format_duration
from ferry.grpc_client import all_pages
from ferry.v1 import profile_pb2, profile_service_pb2

from ferry_cli.output import local_time


def all_profiles(client) -> list[profile_pb2.Profile]:  # type: ignore[no-untyped-def]
    return list(all_pages(
        client.profiles.ListProfiles, profile_service_pb2.ListProfilesRequest(page_size=500),
        "profiles"))


def stale_profiles(client) -> dict[str, profile_pb2.Profile]:  # type: ignore[no-untyped-def]
    """Every stale profile, by name."""
    return {p.name: p for p in all_profiles(client) if p.HasField("stale_since")}


def failing_text(profile: profile_pb2.Profile, now: datetime | None = None) -> str:
    """``failing since 2026-03-03 14:00 (3 failed runs)``; empty when not failing."""
    if not profile.HasField("failing_since"):
        return ""
    runs = "1 failed run" if profile.failing_runs == 1 else f"{profile.failing_runs} failed runs"
    return f"failing since {local_time(profile.failing_since, now)} ({runs})"


def stale_cell(profile: profile_pb2.Profile, now: datetime | None = None) -> str:
    """``since 2026-03-03 14:00``, ``no`` (watched, fresh) or ``-`` (not watched)."""
    if profile.HasField("stale_since"):
        return f"since {local_time(profile.stale_since, now)}"
    return "no" if profile.HasField("expect_change_within") else "-"


def stale_line(profile: profile_pb2.Profile, now: datetime | None = None) -> str:
    """``profile stock is stale since …: no changed input since … (expected within 1d2h)``."""
    return (f"profile {profile.name} is stale since {local_time(profile.stale_since, now)}: "
            f"no changed input since {local_time(profile.last_change_time, now)} "
            f"(expected within {format_duration(profile.expect_change_within)})")
