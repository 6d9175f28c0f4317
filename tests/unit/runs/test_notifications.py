"""Webhook notices, the pure part: which run is notified, the bodies, the
signature a receiver checks, and URLs as logs show them."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from ferry.v1 import profile_pb2
from ferry_domain.notifications import (
    Notice,
    body,
    document,
    masked_url,
    run_notice,
    signature,
    subscribers,
)
from ferry_domain.runs.states import RunStatus

WHEN = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("status", "dry_run", "previous_failed", "notice"), [
    (RunStatus.FAILED, False, False, Notice.FAILED),
    (RunStatus.FAILED, False, True, Notice.FAILED),
    (RunStatus.FAILED, True, False, None),
    (RunStatus.COMPLETED, False, True, Notice.RECOVERED),
    (RunStatus.WARNING, False, True, Notice.RECOVERED),
    (RunStatus.COMPLETED, False, False, None),
    (RunStatus.COMPLETED, True, True, None),
    (RunStatus.UNCHANGED, False, True, None),
    (RunStatus.CANCELLED, False, True, None),
])
def test_which_finished_run_is_notified(status, dry_run, previous_failed, notice):
    assert run_notice(status, dry_run=dry_run, previous_failed=previous_failed) is notice


def test_subscribers_are_the_webhooks_that_asked():
    profile = profile_pb2.Profile(notifications=[
        profile_pb2.ProfileNotification(url="https://a", events=[1, 3]),
        profile_pb2.ProfileNotification(url="https://b", events=[2])])
    assert [n.url for n in subscribers(profile, Notice.STALE)] == ["https://a"]
    assert subscribers(profile, Notice.AUTO_PAUSED) == []


def test_json_and_slack_bodies():
    doc = document(Notice.FAILED, profile="stock", when=WHEN, message="run r1 failed: boom",
                   run={"id": "r1"})
    assert json.loads(body(profile_pb2.NOTIFICATION_FORMAT_JSON, doc)) == {
        "schema_version": 1, "event": "failed", "profile": "stock",
        "time": "2026-03-02T12:00:00Z", "message": "run r1 failed: boom", "run": {"id": "r1"}}
    assert json.loads(body(profile_pb2.NOTIFICATION_FORMAT_SLACK, doc)) == {
        "text": ":red_circle: Ferry: stock failed: run r1 failed: boom"}


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    payload = b'{"event": "failed"}'
    expected = hmac.new(b"k3y", b"1767355200." + payload, hashlib.sha256).hexdigest()
    assert signature("k3y", 1767355200, payload) == f"sha256={expected}"
    assert signature("k3y", 1767355201, payload) != f"sha256={expected}"


@pytest.mark.parametrize(("url", "shown"), [
    ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
    ("https://user:pw@hooks.example.com/ferry?token=abc", "https://hooks.example.com/ferry/…"),
    ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/services/…"),
    ("https://example.com", "https://example.com"),
])
def test_urls_are_masked(url, shown):
    assert masked_url(url) == shown
