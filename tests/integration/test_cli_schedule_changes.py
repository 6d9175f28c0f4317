"""``ferry schedules update`` and ``ferry schedules missed`` as subprocesses
against a real ``ferry-registry`` process."""

from __future__ import annotations

import json
from pathlib import Path

from ferry.grpc_client import RegistryClient
from ferry.v1 import dispatch_service_pb2, run_pb2
from google.protobuf.timestamp_pb2 import Timestamp

EXAMPLES = Path(__file__).parents[2] / "examples"


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def test_update_changes_only_the_given_fields(registry, run_cli):
    ok(run_cli("profiles", "apply", "-f", str(EXAMPLES / "customers.yaml"), registry=registry))
    created = json.loads(ok(run_cli(
        "schedules", "create", "customers", "--daily", "02:30", "--timezone", "Europe/Paris",
        "--misfire-grace", "2h", "--description", "nightly", "-o", "json", registry=registry)))

    shown = ok(run_cli("schedules", "update", created["id"], "--cron", "0 7 * * 1-5",
                       registry=registry))
    assert "trigger:              cron 0 7 * * 1-5" in shown
    stored = json.loads(ok(run_cli("schedules", "get", created["id"], "-o", "json",
                                   registry=registry)))["schedule"]
    assert "daily" not in stored and stored["cron"] == {"expression": "0 7 * * 1-5"}
    assert (stored["timeZone"], stored["misfireGrace"], stored["description"]) == (
        "Europe/Paris", "7200s", "nightly")
    assert stored["nextFireTime"] != created["nextFireTime"]

    updated = json.loads(ok(run_cli(
        "-o", "json", "schedules", "update", created["id"], "--timezone", "America/New_York",
        "--catch-up", "skip", registry=registry)))
    assert updated["cron"] == {"expression": "0 7 * * 1-5"}
    assert (updated["timeZone"], updated["catchUp"], updated["misfireGrace"]) == (
        "America/New_York", "CATCH_UP_POLICY_SKIP", "7200s")

    bad = run_cli("schedules", "update", created["id"], "--timezone", "Mars/Base",
                  registry=registry)
    assert bad.returncode == 1 and 'unknown time zone "Mars/Base"' in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = run_cli("schedules", "update", "no-such-id", "--every", "1h", registry=registry)
    assert (missing.returncode, missing.stderr) == (1, 'error: schedule "no-such-id" not found\n')


def test_missed_lists_a_fire_skipped_by_the_overlap_policy(registry, run_cli):
    # supplier-products has overlap: skip; with no runner its started run stays live.
    ok(run_cli("profiles", "apply", "-f", str(EXAMPLES / "supplier-products.yaml"),
               registry=registry))
    schedule = json.loads(ok(run_cli("-o", "json", "schedules", "create", "supplier-products",
                                     "--hourly", registry=registry)))
    assert ok(run_cli("schedules", "missed", schedule["id"], registry=registry)) == (
        "no missed fires\n")
    ok(run_cli("runs", "start", "supplier-products", "--force", registry=registry))
    fire = Timestamp()
    fire.FromJsonString(schedule["nextFireTime"])
    with RegistryClient(registry.address) as client:  # the scheduler's call at the fire time
        reply = client.dispatch.CreateRun(dispatch_service_pb2.CreateRunRequest(
            profile="supplier-products", schedule_id=schedule["id"], fire_time=fire,
            trigger=run_pb2.RUN_TRIGGER_SCHEDULE))
    assert not reply.created

    table = ok(run_cli("schedules", "missed", schedule["id"], registry=registry)).splitlines()
    assert table[0].split() == ["SCHEDULE", "PROFILE", "FIRE", "TIME", "REASON", "RECORDED"]
    assert table[1].split()[:2] == [schedule["id"], "supplier-products"]
    assert table[1].split()[-2] == "overlap"
    data = json.loads(ok(run_cli("schedules", "missed", "-o", "json", registry=registry)))
    assert [(f["scheduleId"], f["fireTime"], f["reason"]) for f in data["missedFires"]] == [
        (schedule["id"], schedule["nextFireTime"], "MISSED_FIRE_REASON_OVERLAP")]

    unknown = run_cli("schedules", "missed", "no-such-id", registry=registry)
    assert (unknown.returncode, unknown.stderr) == (1, 'error: schedule "no-such-id" not found\n')
