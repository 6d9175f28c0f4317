"""The stale rule (pure, clock passed in) and its YAML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ferry.errors import InvalidArgumentError
from ferry.v1 import profile_pb2
from ferry_domain.profiles.staleness import last_change, staleness
from ferry_domain.profiles.yaml_codec import dump_profile, load_profiles

CREATED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
WITHIN = timedelta(hours=26)


def test_stale_only_after_expect_change_within_has_passed():
    at_limit = staleness(last_change=CREATED, expect_change_within=WITHIN,
                         now=CREATED + WITHIN)
    assert not at_limit.stale and at_limit.stale_since is None
    assert at_limit.due == CREATED + WITHIN
    later = staleness(last_change=CREATED, expect_change_within=WITHIN,
                      now=CREATED + WITHIN + timedelta(seconds=1))
    assert later.stale and later.stale_since == CREATED + WITHIN
    assert later.seconds_since_change == WITHIN.total_seconds() + 1


def test_without_expect_change_within_never_stale():
    found = staleness(last_change=CREATED, expect_change_within=None,
                      now=CREATED + timedelta(days=400))
    assert not found.stale and found.due is None
    assert found.seconds_since_change == 400 * 86400


def test_last_change_is_the_last_run_that_did_work_else_the_creation():
    ran = CREATED + timedelta(days=2)
    assert last_change(CREATED, ran) == ran
    assert last_change(CREATED, None) == CREATED


def test_yaml_round_trips_expect_change_within_and_notifications():
    text = """\
kind: Profile
name: feed
entity: products
operation: import
source: {kind: file, location: /data/feed.csv}
mapping: {fields: {sku: SKU}}
expect_change_within: 1d2h
notifications:
  - url: https://hooks.example.com/ferry
    events: [failed, recovered, stale, auto_paused]
    format: slack
    secret_ref: env:HOOK_SECRET
  - url: https://other.example.com/x
    events: failed
"""
    [profile] = load_profiles(text, "feed.yaml")
    assert profile.expect_change_within.seconds == 26 * 3600
    first, second = profile.notifications
    assert first.format == profile_pb2.NOTIFICATION_FORMAT_SLACK
    assert list(first.events) == [1, 2, 3, 4] and first.secret_ref == "env:HOOK_SECRET"
    assert list(second.events) == [profile_pb2.NOTIFICATION_EVENT_FAILED]
    assert load_profiles(dump_profile(profile), "again.yaml") == [profile]
    assert "expect_change_within: 1d2h" in dump_profile(profile)


def test_yaml_names_bad_webhook_keys_and_values():
    text = """\
kind: Profile
name: feed
entity: products
operation: import
notifications:
  - url: https://hooks.example.com/ferry
    events: [exploded]
    colour: red
"""
    with pytest.raises(InvalidArgumentError) as caught:
        load_profiles(text, "feed.yaml")
    fields = {v.field.removeprefix("document 1: ") for v in caught.value.violations}
    assert fields == {"notifications[0].events[0]", "notifications[0].colour"}
