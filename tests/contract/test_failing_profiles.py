"""Failing profiles: GetProfile and ListProfiles say since when a profile's
live runs fail (the end of the first failed live run after its last live run
that ended COMPLETED or WARNING) and how many failed since; dry, UNCHANGED and
CANCELLED runs neither start nor end it."""

from __future__ import annotations

from datetime import timedelta

from ferry.v1 import profile_service_pb2, run_pb2

from tests.contract.helpers import apply, claim, finish, profile, start_run, when


def get_profile(client, name: str):
    return client.profiles.GetProfile(profile_service_pb2.GetProfileRequest(name=name)).profile


def run_once(client, clock, name: str, status: int, **flags):
    clock.advance(timedelta(minutes=10))
    return finish(client, claim(client, start_run(client, name, **flags).id), status)


def test_failing_since_the_first_failure_after_the_last_success(client, clock):
    apply(client, profile("stock"))
    apply(client, profile("calm"))
    run_once(client, clock, "stock", run_pb2.RUN_STATUS_COMPLETED)
    assert not get_profile(client, "stock").HasField("failing_since")

    first = run_once(client, clock, "stock", run_pb2.RUN_STATUS_FAILED)
    run_once(client, clock, "stock", run_pb2.RUN_STATUS_UNCHANGED)
    run_once(client, clock, "stock", run_pb2.RUN_STATUS_COMPLETED, dry_run=True, force=True)
    run_once(client, clock, "stock", run_pb2.RUN_STATUS_FAILED)
    shown = get_profile(client, "stock")
    assert when(shown.failing_since) == when(first.end_time) and shown.failing_runs == 2
    listed = {p.name: p for p in client.profiles.ListProfiles(
        profile_service_pb2.ListProfilesRequest()).profiles}
    assert listed["stock"].failing_runs == 2 and not listed["calm"].HasField("failing_since")

    run_once(client, clock, "stock", run_pb2.RUN_STATUS_WARNING)
    recovered = get_profile(client, "stock")
    assert not recovered.HasField("failing_since") and recovered.failing_runs == 0
