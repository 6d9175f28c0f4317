"""Webhook notices through the registry's API and its sender, with a real HTTP
receiver on loopback: signed ``failed`` then ``recovered`` notices, a retry
after a 500 with both attempts on the run's timeline, ``auto_paused`` as a
profile event, and an outbox row written with the transition (none for dry
runs or a profile without webhooks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ferry.retry import RetrySettings
from ferry.v1 import profile_pb2, profile_service_pb2, run_pb2, run_service_pb2
from ferry_domain.notifications import RetryableDeliveryError
from ferry_registry.webhook_sender import WebhookSender

from tests.contract.conftest import START
from tests.contract.helpers import (
    apply,
    claim,
    create_run,
    create_schedule,
    finish,
    hourly,
    profile,
    start_run,
)
from tests.support.webhook_receiver import WebhookReceiver

SECRET = "s3cret-webhook-key"
FAST = RetrySettings(max_attempts=5, initial_backoff=0.01, max_backoff=0.05, max_elapsed=None,
                     jitter=0.0, retry_on=(RetryableDeliveryError,))


@pytest.fixture
def sender(internals, clock) -> Iterator[WebhookSender]:
    found = WebhookSender(internals.db, clock, retry=FAST)
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as found:
        yield found


def _hooked(url: str, *events: int, secret_ref: str = "env:FERRY_TEST_HOOK_SECRET",
            fmt: int = 0) -> profile_pb2.Profile:
    found = profile()
    found.notifications.add(url=url, events=list(events), secret_ref=secret_ref, format=fmt)
    return found


def _timeline(client, run_id: str) -> list[run_pb2.RunEvent]:
    return list(client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(
        run_id=run_id)).events)


def _fail(client, **kwargs) -> run_pb2.Run:
    run = start_run(client, force=True, **kwargs)
    return finish(client, claim(client, run.id), status=run_pb2.RUN_STATUS_FAILED,
                  error_class=run_pb2.ERROR_CLASS_PERMANENT, error_message="no file matches")


def test_failed_then_recovered_notices_are_signed_and_retried(client, sender, receiver,
                                                              monkeypatch):
    monkeypatch.setenv("FERRY_TEST_HOOK_SECRET", SECRET)
    apply(client, _hooked(receiver.url, profile_pb2.NOTIFICATION_EVENT_FAILED,
                          profile_pb2.NOTIFICATION_EVENT_RECOVERED))
    receiver.statuses = [500, 200]
    failed = _fail(client)
    assert sender.send_due() == 1
    first, second = receiver.received
    assert (first.answered, second.answered) == (500, 200)
    assert second.signed_with(SECRET) and not second.signed_with("another key")
    assert second.headers["X-Ferry-Event"] == "failed"
    doc = second.json
    assert (doc["event"], doc["profile"], doc["run"]["id"]) == ("failed", "stock", failed.id)
    assert doc["run"]["error_class"] == "PERMANENT"
    assert doc["message"] == f"run {failed.id} failed: no file matches"
    notes = [e for e in _timeline(client, failed.id)
             if e.type == run_pb2.RUN_EVENT_TYPE_NOTIFICATION]
    assert [e.message for e in notes] == [
        f"failed notice to {receiver.url}: attempt 1 of 5: 500",
        f"failed notice delivered to {receiver.url} (200)"]
    assert notes[1].attributes["attempt"] == "2"

    unchanged = start_run(client, force=True)
    finish(client, claim(client, unchanged.id), status=run_pb2.RUN_STATUS_UNCHANGED)
    recovered = start_run(client, force=True)
    finish(client, claim(client, recovered.id), status=run_pb2.RUN_STATUS_WARNING)
    again = start_run(client, force=True)
    finish(client, claim(client, again.id), status=run_pb2.RUN_STATUS_COMPLETED)
    assert sender.send_due() == 1  # only the first run that did work after the failure
    third = receiver.received[2]
    assert third.json["event"] == "recovered" and third.json["run"]["id"] == recovered.id
    assert third.signed_with(SECRET)


def test_dry_runs_and_unsubscribed_events_write_no_notice(client, sender, receiver):
    apply(client, _hooked(receiver.url, profile_pb2.NOTIFICATION_EVENT_RECOVERED,
                          secret_ref=""))
    _fail(client)
    _fail(client, dry_run=True)
    assert sender.send_due() == 0
    assert receiver.received == []


def test_a_notice_that_keeps_failing_is_given_up_and_a_404_is_not_retried(
        client, sender, receiver):
    apply(client, _hooked(receiver.url, profile_pb2.NOTIFICATION_EVENT_FAILED, secret_ref=""))
    receiver.statuses = [503] * 5 + [404]
    run = _fail(client)
    sender.send_due()
    assert len(receiver.received) == 5
    last = [e.message for e in _timeline(client, run.id)][-1]
    assert last == f"failed notice to {receiver.url} not delivered after 5 attempt(s): HTTP 503"
    assert "X-Ferry-Signature" not in receiver.received[0].headers
    run = _fail(client)
    sender.send_due()
    assert len(receiver.received) == 6


def test_auto_paused_is_a_profile_event_with_its_notice(client, sender, receiver, clock,
                                                        monkeypatch):
    monkeypatch.setenv("FERRY_TEST_HOOK_SECRET", SECRET)
    apply(client, _hooked(receiver.url, profile_pb2.NOTIFICATION_EVENT_AUTO_PAUSED,
                          fmt=profile_pb2.NOTIFICATION_FORMAT_SLACK))
    schedule = create_schedule(client, hourly(auto_pause_after=1))
    run = create_run(client, schedule.id, START).run
    finish(client, claim(client, run.id), status=run_pb2.RUN_STATUS_FAILED,
           error_class=run_pb2.ERROR_CLASS_PERMANENT, error_message="no file matches")
    assert sender.send_due() == 1
    [posted] = receiver.received
    assert posted.json["text"].startswith(":double_vertical_bar: Ferry: stock auto-paused: "
                                          f"schedule {schedule.id} auto-paused after 1")
    assert posted.signed_with(SECRET)
    events = list(client.profiles.ListProfileEvents(
        profile_service_pb2.ListProfileEventsRequest(name="stock")).events)
    assert [e.type for e in events] == [profile_pb2.PROFILE_EVENT_TYPE_AUTO_PAUSED,
                                        profile_pb2.PROFILE_EVENT_TYPE_NOTIFICATION]
    assert events[1].message == f"auto_paused notice delivered to {receiver.url} (200)"
