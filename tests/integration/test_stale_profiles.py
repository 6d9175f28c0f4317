"""A stale profile through the real registry process, with its clock shifted by
the test-only ``FERRY_TEST_CLOCK_OFFSET``: the registry restarted 27 hours
"later" publishes ``profile.stale`` on RabbitMQ, records a profile event,
sets the gauge on ``/metrics``, and ``ferry profiles list`` / ``runs list``
show it, and the profile's ``stale`` webhook gets a signed Slack-style notice.
No real waiting."""

from __future__ import annotations

import urllib.request
import uuid

import pytest
from ferry.v1 import profile_pb2

from tests.integration.test_run_events import Subscriber
from tests.support.net import free_port, wait_until
from tests.support.processes import registry_process
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.rabbitmq]

PROFILE = """\
kind: Profile
name: quiet-feed
entity: products
operation: import
source: {kind: file, location: /data/drop/*.csv, selection: newest}
mapping:
  fields: {sku: SKU, name: Name}
expect_change_within: 26h
notifications:
  - url: {url}
    events: [stale]
    format: slack
    secret_ref: env:FERRY_TEST_HOOK_SECRET
"""


def _metric(port: int, line_start: str) -> str:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return next((line for line in text.splitlines() if line.startswith(line_start)), "")


def test_a_quiet_profile_goes_stale_on_a_shifted_clock(tmp_path, run_cli):
    prefix = f"ferry-test-{uuid.uuid4().hex[:12]}"
    subscriber = Subscriber(prefix, binding_key="profile.#")
    common = {"FERRY_RUN_EVENTS": "on", "FERRY_AMQP_PREFIX": prefix,
              "FERRY_STALE_CHECK_INTERVAL": "200ms", "FERRY_TEST_HOOK_SECRET": "k3y-for-hooks"}
    receiver = WebhookReceiver().__enter__()
    (tmp_path / "quiet.yaml").write_text(PROFILE.replace("{url}", receiver.url))
    today = registry_process(tmp_path, **common).start()
    try:
        assert run_cli("profiles", "apply", "-f", str(tmp_path / "quiet.yaml"),
                       registry=today).returncode == 0
        listed = run_cli("profiles", "list", registry=today)
        assert "STALE" in listed.stdout and "quiet-feed" in listed.stdout
        assert "since" not in listed.stdout
    finally:
        assert today.stop() == 0, today.output()[-3000:]

    metrics_port = free_port()
    later = registry_process(tmp_path, **common, FERRY_TEST_CLOCK_OFFSET="27h",
                             FERRY_ALLOW_TEST_CLOCK="1",
                             FERRY_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}").start()
    try:
        [received] = subscriber.take_raw(1, profile_pb2.ProfileLifecycleEvent)
        assert received.routing_key == "profile.stale"
        assert received.event.profile == "quiet-feed"
        assert received.event.expect_change_within.seconds == 26 * 3600
        wait_until(lambda: _metric(metrics_port, 'ferry_profile_stale{profile="quiet-feed"}')
                   .endswith(" 1.0"), timeout=10, what="the stale gauge")
        since = _metric(metrics_port, 'ferry_profile_seconds_since_change{profile="quiet-feed"}')
        assert float(since.split()[-1]) >= 27 * 3600

        listed = run_cli("profiles", "list", registry=later)
        row = next(line for line in listed.stdout.splitlines() if "quiet-feed" in line)
        assert "since" in row
        [notice] = receiver.wait_for(1)
        assert notice.signed_with("k3y-for-hooks")
        assert notice.json["text"].startswith(":hourglass: Ferry: quiet-feed stale: no changed")
        wait_until(lambda: "stale notice delivered" in run_cli(
            "profiles", "events", "quiet-feed", registry=later).stdout, timeout=10,
            what="the delivery on the profile's events")
        events = run_cli("profiles", "events", "quiet-feed", registry=later)
        assert events.returncode == 0, events.stderr
        assert "stale" in events.stdout and "expect_change_within 1d2h" in events.stdout
        runs = run_cli("runs", "list", "--profile", "quiet-feed", registry=later)
        assert runs.stdout.startswith("! profile quiet-feed is stale since"), runs.stdout
        assert subscriber.nothing_more(), "profile.stale is published once"
    finally:
        assert later.stop() == 0, later.output()[-3000:]
        subscriber.close()
        receiver.__exit__()
    assert "test clock: the registry's time is shifted by" in later.output()


def test_the_test_clock_is_refused_unless_allowed(tmp_path):
    proc = registry_process(tmp_path, FERRY_TEST_CLOCK_OFFSET="27h")
    proc.start(wait_healthy=False)
    assert proc.process.wait(timeout=30) == 1
    assert "FERRY_TEST_CLOCK_OFFSET shifts the service's clock and is for tests only" \
        in proc.output()
