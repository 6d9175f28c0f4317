"""ProfileService contract: apply, get, list, delete, validate."""

from __future__ import annotations

from datetime import timedelta

import grpc
from ferry.v1 import profile_pb2, profile_service_pb2, schedule_pb2

from tests.contract.helpers import (
    apply,
    create_schedule,
    expect_error,
    hourly,
    profile,
    start_run,
    violated_fields,
)


def test_apply_creates_then_updates_only_on_real_change(client, clock):
    first = apply(client)
    assert first.created and not first.mapping_changed
    assert first.profile.revision == 1
    assert first.profile.mapping_digest
    assert not first.profile.dry_run_required

    clock.advance(timedelta(minutes=1))
    same = apply(client)
    assert not same.created and not same.mapping_changed
    assert same.profile.revision == 1
    assert same.profile.update_time == first.profile.update_time

    changed = profile()
    changed.description = "nightly stock feed"
    updated = apply(client, changed)
    assert updated.profile.revision == 2
    assert not updated.mapping_changed
    assert updated.profile.mapping_digest == first.profile.mapping_digest
    assert not updated.profile.dry_run_required


def test_mapping_change_requires_dry_run_and_output_only_fields_are_ignored(client):
    apply(client)
    sneaky = profile(column="Title")
    sneaky.dry_run_required = False
    sneaky.revision = 99
    sneaky.mapping_digest = "forged"
    result = apply(client, sneaky)
    assert result.mapping_changed
    assert result.profile.dry_run_required
    assert result.profile.revision == 2
    assert result.profile.mapping_digest != "forged"


def test_mapping_digest_is_stable_for_equal_mappings(client):
    one = profile("one")
    one.mapping.defaults["brand"] = "acme"
    one.mapping.defaults["currency"] = "EUR"
    two = profile("two")
    two.mapping.defaults["currency"] = "EUR"
    two.mapping.defaults["brand"] = "acme"
    assert apply(client, one).profile.mapping_digest == apply(client, two).profile.mapping_digest


def test_validation_errors_name_each_bad_field(client):
    bad = profile_pb2.Profile(name="Bad Name!", entity_type="products",
                              operation=profile_pb2.OPERATION_IMPORT)
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, apply, client, bad)
    fields = violated_fields(error)
    assert "profile.name" in fields
    assert any("source" in f for f in fields)
    with_bad_retry = profile()
    with_bad_retry.retry.max_attempts = -1
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, apply, client, with_bad_retry)
    assert "profile.retry.max_attempts" in violated_fields(error)


def test_validate_only_stores_nothing(client):
    result = client.profiles.ApplyProfile(profile_service_pb2.ApplyProfileRequest(
        profile=profile(), validate_only=True))
    assert result.created
    expect_error(grpc.StatusCode.NOT_FOUND, client.profiles.GetProfile,
                 profile_service_pb2.GetProfileRequest(name="stock"))


def test_get_unknown_profile_is_not_found(client):
    error = expect_error(grpc.StatusCode.NOT_FOUND, client.profiles.GetProfile,
                         profile_service_pb2.GetProfileRequest(name="nope"))
    assert "nope" in error.details()


def test_list_profiles_pages_and_filters(client):
    for index in range(5):
        apply(client, profile(f"p{index}"))
    seen, token = [], ""
    while True:
        page = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest(
            page_size=2, page_token=token))
        seen += [p.name for p in page.profiles]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["p0", "p1", "p2", "p3", "p4"]
    found = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest(
        filter='entity_type = "products" AND operation = IMPORT'))
    assert len(found.profiles) == 5
    none = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest(
        filter="operation = EXPORT"))
    assert list(none.profiles) == []
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.profiles.ListProfiles,
                 profile_service_pb2.ListProfilesRequest(filter="colour = red"))


def test_delete_needs_force_when_schedules_exist_and_keeps_runs(client):
    apply(client)
    create_schedule(client, hourly())
    run = start_run(client)
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.profiles.DeleteProfile,
                 profile_service_pb2.DeleteProfileRequest(name="stock"))
    client.profiles.DeleteProfile(profile_service_pb2.DeleteProfileRequest(name="stock",
                                                                           force=True))
    expect_error(grpc.StatusCode.NOT_FOUND, client.profiles.GetProfile,
                 profile_service_pb2.GetProfileRequest(name="stock"))
    from ferry.v1 import run_service_pb2, schedule_service_pb2
    assert client.runs.GetRun(run_service_pb2.GetRunRequest(id=run.id)).run.id == run.id
    left = client.schedules.ListSchedules(schedule_service_pb2.ListSchedulesRequest())
    assert list(left.schedules) == []
    assert schedule_pb2  # the module is used by helpers


def test_validate_profile_reports_checks(client):
    apply(client)
    report = client.profiles.ValidateProfile(
        profile_service_pb2.ValidateProfileRequest(name="stock"))
    checks = {c.check: c for c in report.checks}
    # Static checks only: the live ones are a runner's (a VALIDATE_PROFILE
    # runner task), so the registry never probes /data/stock.csv.
    assert list(checks) == ["definition"] and checks["definition"].ok and report.ok
    expect_error(grpc.StatusCode.NOT_FOUND, client.profiles.ValidateProfile,
                 profile_service_pb2.ValidateProfileRequest(name="ghost"))


def test_list_profiles_by_update_time_desc_pages_without_repeats(client, clock):
    for index in range(5):
        clock.advance(timedelta(seconds=1))
        apply(client, profile(f"p{index}"))
    seen, token = [], ""
    while True:
        page = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest(
            page_size=2, page_token=token, order_by="update_time desc"))
        seen += [p.name for p in page.profiles]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["p4", "p3", "p2", "p1", "p0"]
    first = client.profiles.ListProfiles(profile_service_pb2.ListProfilesRequest(
        page_size=2, order_by="update_time desc"))
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.profiles.ListProfiles,
                 profile_service_pb2.ListProfilesRequest(page_size=2, order_by="name",
                                                         page_token=first.next_page_token))
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.profiles.ListProfiles,
                 profile_service_pb2.ListProfilesRequest(order_by="colour"))
