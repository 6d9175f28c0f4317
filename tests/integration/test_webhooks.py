"""Webhooks through the real services (registry, scheduler and runner processes
over RabbitMQ) to a real HTTP receiver on loopback: a failed import is
notified, signed, after one retry of a 500, with both attempts on the run's
timeline; the fixed import is notified as recovered; a schedule that
auto-pauses is notified and shows in ``ferry profiles events``."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import schedule_pb2, schedule_service_pb2
from google.protobuf.duration_pb2 import Duration

from tests.support.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.rabbitmq]

SECRET = "whsec-4f1d2a9b7c"
PROFILE = """\
kind: Profile
name: hooked
entity: products
operation: import
source: {{kind: file, location: {path}}}
mapping:
  fields: {{sku: sku, name: name, price: {{source: price, transforms: [decimal]}}}}
error_threshold: {{max_errors: 0}}
retry: {{max_attempts: 1}}
notifications:
  - url: {url}
    events: [failed, recovered, auto_paused]
    secret_ref: file:{secret}
"""


def write_products(path: Path, *, bad: bool) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "name", "price"])
        for i in range(1, 6):
            writer.writerow([f"SKU-{i}", f"Product {i}", "n/a" if bad and i == 3 else f"{i}.50"])


def test_failed_recovered_and_auto_paused_notices(tmp_path, registry, services, run_cli):
    def cli(*args: str):
        result = run_cli(*args, registry=registry)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    source = tmp_path / "products.csv"
    write_products(source, bad=True)
    secret = tmp_path / "hook.secret"
    secret.write_text(SECRET + "\n")
    with WebhookReceiver(statuses=[500]) as receiver:
        (tmp_path / "hooked.yaml").write_text(PROFILE.format(path=source, url=receiver.url,
                                                             secret=secret))
        assert cli("profiles", "apply", "-f", str(tmp_path / "hooked.yaml")).returncode == 0

        failed = cli("runs", "start", "hooked", "--wait")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        run_id = failed.stdout.split()[2]
        first, second = receiver.wait_for(2)
        assert (first.answered, second.answered) == (500, 200)
        assert first.body == second.body
        assert second.signed_with(SECRET)
        assert second.json["event"] == "failed" and second.json["run"]["id"] == run_id
        logs = cli("runs", "logs", run_id).stdout
        assert f"failed notice to {receiver.url}: attempt 1 of 5: 500" in logs
        assert f"failed notice delivered to {receiver.url} (200)" in logs

        write_products(source, bad=False)
        fixed = cli("runs", "start", "hooked", "--wait")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        recovered = receiver.wait_for(3)[2]
        assert recovered.json["event"] == "recovered"
        assert recovered.json["run"]["id"] == fixed.stdout.split()[2]
        assert recovered.signed_with(SECRET)

        write_products(source, bad=True)
        with RegistryClient(registry.address) as client:
            client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
                schedule=schedule_pb2.Schedule(
                    profile="hooked", auto_pause_after=1,
                    interval=schedule_pb2.IntervalTrigger(every=Duration(seconds=1)))))
        notices = receiver.wait_for(5, timeout=30)
        assert [r.json["event"] for r in notices[3:]] in (["failed", "auto_paused"],
                                                          ["auto_paused", "failed"])
        paused = next(r for r in notices if r.json["event"] == "auto_paused")
        assert "auto-paused after 1 consecutive permanent failures" in paused.json["message"]
        assert paused.signed_with(SECRET)
        events = cli("profiles", "events", "hooked").stdout
        assert "auto-paused" in events
        assert f"auto_paused notice delivered to {receiver.url} (200)" in events
