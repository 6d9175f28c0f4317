"""Stale profiles through the registry's API, with the injected clock: a profile
with ``expect_change_within`` whose input has not changed for longer is shown
stale (``stale_since``), the stale watch records it once as a profile event and
sets its gauges, and a live run that imports changed input makes it fresh."""

from __future__ import annotations

from datetime import timedelta

import grpc
from ferry.metrics import FerryMetrics
from ferry.v1 import profile_pb2, profile_service_pb2, run_pb2
from ferry_registry.stale_watch import StaleWatch
from google.protobuf import duration_pb2
from prometheus_client import CollectorRegistry

from tests.contract.conftest import START
from tests.contract.helpers import (
    apply,
    claim,
    expect_error,
    finish,
    profile,
    start_run,
    violated_fields,
    when,
)

DAY = timedelta(hours=26)


def _quiet_profile(name: str = "stock") -> profile_pb2.Profile:
    found = profile(name)
    found.expect_change_within.CopyFrom(duration_pb2.Duration(seconds=26 * 3600))
    return found


def _get(client, name: str = "stock") -> profile_pb2.Profile:
    return client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name=name)).profile


def _events(client, name: str = "stock") -> list[profile_pb2.ProfileEvent]:
    return list(client.profiles.ListProfileEvents(
        profile_service_pb2.ListProfileEventsRequest(name=name)).events)


def _watch(internals, clock, metrics=None) -> StaleWatch:
    return StaleWatch(internals.db, clock, timedelta(minutes=1), metrics=metrics)


def test_a_quiet_profile_turns_stale_once_and_fresh_after_a_run_that_did_work(
        client, internals, clock):
    apply(client, _quiet_profile())
    apply(client, profile("other"))  # no expect_change_within: never stale
    registry = CollectorRegistry()
    watch = _watch(internals, clock, FerryMetrics(registry))

    clock.advance(timedelta(hours=25))
    assert watch.check_once() == []
    assert not _get(client).HasField("stale_since")
    assert when(_get(client).last_change_time) == START

    clock.advance(timedelta(hours=2))
    assert watch.check_once() == ["stock"]
    assert watch.check_once() == []  # announced once
    stale = _get(client)
    assert when(stale.stale_since) == START + DAY
    assert not _get(client, "other").HasField("stale_since")
    assert registry.get_sample_value("ferry_profile_stale", {"profile": "stock"}) == 1
    assert registry.get_sample_value("ferry_profile_seconds_since_change",
                                     {"profile": "stock"}) == 27 * 3600
    assert registry.get_sample_value("ferry_profile_stale", {"profile": "other"}) is None
    [event] = _events(client)
    assert event.type == profile_pb2.PROFILE_EVENT_TYPE_STALE
    assert "no changed input since 2026-03-02 12:00 UTC" in event.message
    assert event.attributes["expect_change_within"] == "1d2h"

    # An UNCHANGED run read nothing new: still stale.
    run = start_run(client, force=True)
    finish(client, claim(client, run.id), status=run_pb2.RUN_STATUS_UNCHANGED)
    assert _get(client).HasField("stale_since")

    clock.advance(timedelta(minutes=5))
    run = start_run(client, force=True)
    finish(client, claim(client, run.id), status=run_pb2.RUN_STATUS_WARNING)
    fresh = _get(client)
    assert not fresh.HasField("stale_since")
    assert when(fresh.last_change_time) == START + timedelta(hours=27, minutes=5)
    watch.check_once()
    assert [e.type for e in _events(client)] == [profile_pb2.PROFILE_EVENT_TYPE_STALE,
                                                 profile_pb2.PROFILE_EVENT_TYPE_FRESH]
    assert registry.get_sample_value("ferry_profile_stale", {"profile": "stock"}) == 0


def test_stale_shows_in_the_profile_list_and_dry_runs_do_not_count(client, internals, clock):
    apply(client, _quiet_profile())
    run = start_run(client, dry_run=True)
    finish(client, claim(client, run.id), status=run_pb2.RUN_STATUS_COMPLETED)
    clock.advance(timedelta(hours=27))
    listed = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest()).profiles
    assert [(p.name, when(p.stale_since)) for p in listed] == [("stock", START + DAY)]


def test_stale_needs_expect_change_within_and_a_positive_one(client):
    bad = profile()
    bad.expect_change_within.CopyFrom(duration_pb2.Duration(seconds=0))
    bad.notifications.add(url="https://hooks.example.com/x",
                          events=[profile_pb2.NOTIFICATION_EVENT_FAILED])
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, apply, client, bad)
    assert violated_fields(error) == {"profile.expect_change_within"}
    bad = profile()
    bad.notifications.add(url="ftp://x", events=[profile_pb2.NOTIFICATION_EVENT_STALE],
                          secret_ref="hunter2")
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, apply, client, bad)
    assert violated_fields(error) == {"profile.notifications[0].url",
                                      "profile.notifications[0].events",
                                      "profile.notifications[0].secret_ref"}


def test_profile_events_of_an_unknown_profile_are_not_found(client):
    expect_error(grpc.StatusCode.NOT_FOUND, _events, client, "nope")
