"""The ``ferry`` CLI as a subprocess against a real ``ferry-registry`` process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_service_pb2, schedule_pb2
from ferry_domain.profiles.yaml_codec import load_profiles
from ferry_domain.schedules import fire_times_after

from tests.support.net import free_port
from tests.support.processes import registry_process

EXAMPLES = Path(__file__).parents[2] / "examples"


def all_examples(tmp_path: Path) -> Path:
    path = tmp_path / "examples.yaml"
    path.write_text("".join("---\n" + p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))))
    return path


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def failed(result, status: int = 1) -> str:
    assert result.returncode == status, f"exit {result.returncode}\n{result.stdout}"
    assert "Traceback" not in result.stderr
    return result.stderr


def test_profiles_apply_list_get_delete(registry, run_cli, tmp_path):
    examples = all_examples(tmp_path)
    assert ok(run_cli("profiles", "apply", "--dry-run", "-f", str(examples),
                      registry=registry)).count("would be created") == 4
    assert "supplier-products" not in ok(run_cli("profiles", "list", registry=registry))

    out = ok(run_cli("profiles", "apply", "-f", str(examples), registry=registry))
    assert out.splitlines() == ["profile customers: created", "profile products-export: created",
                                "profile stock-feed: created",
                                "profile supplier-products: created"]
    out = ok(run_cli("profiles", "apply", "-f", str(examples), registry=registry))
    assert out.count(": unchanged") == 4

    changed = tmp_path / "changed.yaml"
    changed.write_text((EXAMPLES / "customers.yaml").read_text().replace(
        "description: Customer list", "description: The customer list"))
    out = ok(run_cli("profiles", "apply", "-f", str(changed), registry=registry))
    assert out == "profile customers: updated\n"

    table = ok(run_cli("profiles", "list", registry=registry))
    assert table.splitlines()[0].split()[:3] == ["NAME", "ENTITY", "OPERATION"]
    assert [line.split()[0] for line in table.splitlines()[1:]] == [
        "customers", "products-export", "stock-feed", "supplier-products"]

    # get -o yaml prints a file that applies back unchanged.
    text = ok(run_cli("profiles", "get", "stock-feed", "-o", "yaml", registry=registry))
    [shown] = load_profiles(text, "get")
    [original] = load_profiles((EXAMPLES / "stock-feed.yaml").read_text(), "stock-feed")
    assert shown == original
    saved = tmp_path / "stock.yaml"
    saved.write_text(text)
    assert ok(run_cli("profiles", "apply", "-f", str(saved),
                      registry=registry)) == "profile stock-feed: unchanged\n"

    data = json.loads(ok(run_cli("-o", "json", "profiles", "get", "stock-feed",
                                 registry=registry)))
    assert data["name"] == "stock-feed" and data["entityType"] == "inventory"

    assert ok(run_cli("profiles", "delete", "stock-feed",
                      registry=registry)) == "profile stock-feed: deleted\n"
    assert failed(run_cli("profiles", "get", "stock-feed", registry=registry)) == (
        'error: profile "stock-feed" not found\n')


def test_apply_errors_are_clear_lines(registry, run_cli, tmp_path):
    bad_name = tmp_path / "bad.yaml"
    bad_name.write_text((EXAMPLES / "customers.yaml").read_text().replace(
        "name: customers", "name: Customers!"))
    err = failed(run_cli("profiles", "apply", "-f", str(bad_name), registry=registry))
    assert err.startswith("error: ")
    assert "\n  profile.name: " in err

    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("name: a\nsource:\n  kind: [file\n")
    err = failed(run_cli("profiles", "apply", "-f", str(syntax), registry=registry))
    assert err == (f"error: {syntax}: line 4, column 1: YAML syntax error: while parsing a flow "
                   "sequence, expected ',' or ']', but got '<stream end>'\n")

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: a\n---\nname: b\nentity: products\nsource: {kind: gopher}\n")
    err = failed(run_cli("profiles", "apply", "-f", str(unknown), registry=registry))
    assert ('  document 2: source.kind: unknown value "gopher" (expected file, http, sql, '
            'connector, sftp, ftp)\n') in err

    missing = tmp_path / "missing.yaml"
    assert failed(run_cli("profiles", "apply", "-f", str(missing), registry=registry)) == (
        f"error: file not found: {missing}\n")
    assert "no profiles" in ok(run_cli("profiles", "list", registry=registry))


def test_schedules_lifecycle(registry, run_cli, tmp_path):
    ok(run_cli("profiles", "apply", "-f", str(all_examples(tmp_path)), registry=registry))
    created = json.loads(ok(run_cli(
        "-o", "json", "schedules", "create", "supplier-products", "--daily", "02:30",
        "--timezone", "Europe/Paris", "--misfire-grace", "2h", "--catch-up", "all",
        registry=registry)))
    schedule_id = created["id"]
    assert created["daily"]["time"] == {"hours": 2, "minutes": 30}
    assert created["catchUp"] == "CATCH_UP_POLICY_ALL"
    ok(run_cli("schedules", "create", "stock-feed", "--hourly", "--minute", "5",
               registry=registry))

    preview = json.loads(ok(run_cli("-o", "json", "schedules", "preview", schedule_id,
                                    "-n", "3", registry=registry)))["fireTimes"]
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in preview]
    assert len(times) == 3 and times == sorted(times) and times[0] > datetime.now(UTC)
    draft = schedule_pb2.Schedule(daily=schedule_pb2.DailyTrigger(
        time=schedule_pb2.TimeOfDay(hours=2, minutes=30)), time_zone="Europe/Paris")
    assert times == fire_times_after(draft, times[0].replace(second=0) - (times[1] - times[0]),
                                     3)

    shown = ok(run_cli("schedules", "get", schedule_id, registry=registry))
    assert "trigger:              daily 02:30" in shown
    assert shown.count("\n  20") == 5  # next 5 fire times

    listed = ok(run_cli("schedules", "list", "--profile", "stock-feed", registry=registry))
    assert len(listed.splitlines()) == 2 and "hourly at :05" in listed

    ok(run_cli("schedules", "pause", schedule_id, "--reason", "supplier on holiday",
               registry=registry))
    assert "paused (supplier on holiday)" in ok(run_cli(
        "schedules", "list", "--profile", "supplier-products", registry=registry))
    assert "resumed, next fire" in ok(run_cli("schedules", "resume", schedule_id,
                                              registry=registry))
    ok(run_cli("schedules", "delete", schedule_id, registry=registry))
    assert failed(run_cli("schedules", "get", schedule_id, registry=registry)) == (
        f'error: schedule "{schedule_id}" not found\n')


def test_schedule_errors(registry, run_cli, tmp_path):
    ok(run_cli("profiles", "apply", "-f", str(EXAMPLES / "customers.yaml"), registry=registry))
    err = failed(run_cli("schedules", "create", "customers", "--cron", "0 7 * *",
                         "--timezone", "Mars/Base", registry=registry))
    assert err.splitlines()[0].startswith("error: ")
    assert '  schedule.time_zone: unknown time zone "Mars/Base"' in err
    assert "  schedule.cron.expression: " in err
    assert "exactly one trigger" in failed(
        run_cli("schedules", "create", "customers", registry=registry), status=2)
    assert failed(run_cli("schedules", "create", "nobody", "--manual", registry=registry)) == (
        'error: profile "nobody" not found\n')


def test_runs_list_filters_and_get(registry, run_cli, tmp_path):
    ok(run_cli("profiles", "apply", "-f", str(all_examples(tmp_path)), registry=registry))
    with RegistryClient(registry.address) as client:
        started = [client.runs.StartRun(run_service_pb2.StartRunRequest(
            profile=name, request_id=f"test-{name}-{i}")).run
            for i in range(3) for name in ("customers", "stock-feed")]
    ids = {run.id for run in started}

    listed = json.loads(ok(run_cli("-o", "json", "runs", "list", registry=registry)))["runs"]
    assert {run["id"] for run in listed} == ids

    only = json.loads(ok(run_cli("-o", "json", "runs", "list", "--profile", "stock-feed",
                                 "--status", "queued", "--since", "1h", "--entity",
                                 "inventory", "--operation", "import", registry=registry)))
    assert {run["profile"] for run in only["runs"]} == {"stock-feed"}
    assert len(only["runs"]) == 3

    limited = ok(run_cli("runs", "list", "--limit", "2", registry=registry))
    assert len(limited.splitlines()) == 3  # header and two rows
    assert ok(run_cli("runs", "list", "--status", "failed", registry=registry)) == "no runs\n"

    shown = ok(run_cli("runs", "get", started[0].id, registry=registry))
    assert "id:" in shown and started[0].id in shown and "QUEUED" in shown
    assert failed(run_cli("runs", "list", "--status", "exploded", registry=registry), status=2)
    assert failed(run_cli("runs", "get", "no-such-run", registry=registry)).startswith("error: ")


def test_unreachable_registry(run_cli):
    address = f"127.0.0.1:{free_port()}"
    err = failed(run_cli("--registry", address, "--timeout", "2", "runs", "list"))
    assert err.startswith(f"error: registry unreachable at {address} (")
    assert err.count("\n") == 1


@pytest.mark.parametrize("args", [["profiles", "--help"], ["schedules", "--help"],
                                  ["runs", "list", "-h"]])
def test_help_works_without_a_registry(run_cli, args):
    result = run_cli(*args, env={"FERRY_REGISTRY": "127.0.0.1:1"})
    assert result.returncode == 0 and "Usage: ferry" in result.stdout


def test_token_from_ferry_token(tmp_path, run_cli):
    tokens = tmp_path / "tokens"
    tokens.write_text("ops:operator:0123456789abcdefOPS\n")
    proc = registry_process(tmp_path, FERRY_AUTH_TOKENS=f"file:{tokens}").start()
    try:
        err = failed(run_cli("profiles", "list", registry=proc))
        assert err.startswith("error: unauthenticated: ") and "FERRY_TOKEN" in err
        good = {"FERRY_TOKEN": "env:OPS_TOKEN", "OPS_TOKEN": "0123456789abcdefOPS"}
        assert ok(run_cli("profiles", "list", registry=proc, env=good)) == "no profiles\n"
        wrong = {"FERRY_TOKEN": "env:OPS_TOKEN", "OPS_TOKEN": "not-the-token-000"}
        err = failed(run_cli("profiles", "list", registry=proc, env=wrong))
        assert err.startswith("error: unauthenticated: ") and "not-the-token" not in err
    finally:
        proc.stop()
