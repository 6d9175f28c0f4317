"""Commands against a fake registry: what is sent, what is printed, exit statuses."""

from __future__ import annotations

import json

import grpc
import pytest
from ferry import errors
from ferry.v1 import (
    profile_pb2,
    profile_service_pb2,
    run_pb2,
    run_service_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from ferry_cli.__main__ import main

from tests.unit.cli.fakes import FakeRpcError

TWO_PROFILES = """\
name: supplier-products
entity: products
operation: import
source: {kind: file, location: /data/*.csv}
---
name: customers
entity: customers
operation: import
source: {kind: file, location: /data/customers.csv}
"""


def write(tmp_path, text: str):
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    return str(path)


def test_apply_reports_created_updated_and_unchanged(tmp_path, invoke, fake_registry):
    existing = {"customers": profile_pb2.Profile(name="customers", revision=4)}

    def get(request):
        if request.name in existing:
            return profile_service_pb2.GetProfileResponse(profile=existing[request.name])
        return FakeRpcError.from_domain(errors.NotFoundError(f'profile "{request.name}" not found'))

    def apply(request):
        revision = 1 if request.profile.name not in existing else 4
        return profile_service_pb2.ApplyProfileResponse(
            profile=profile_pb2.Profile(name=request.profile.name, revision=revision),
            created=request.profile.name not in existing)

    fake_registry.replies.update(GetProfile=get, ApplyProfile=apply)
    result = invoke("profiles", "apply", "-f", write(tmp_path, TWO_PROFILES))
    assert result.exit_code == 0, result.output
    assert result.stdout == ("profile supplier-products: created\n"
                             "profile customers: unchanged\n")
    sent = fake_registry.requests("ApplyProfile")
    assert [r.profile.name for r in sent] == ["supplier-products", "customers"]
    assert not any(r.validate_only for r in sent)

    existing["customers"] = profile_pb2.Profile(name="customers", revision=3)
    result = invoke("profiles", "apply", "-f", write(tmp_path, TWO_PROFILES))
    assert result.stdout.splitlines()[1] == "profile customers: updated"


def test_apply_dry_run_sets_validate_only(tmp_path, invoke, fake_registry):
    fake_registry.replies.update(
        GetProfile=FakeRpcError(grpc.StatusCode.NOT_FOUND, "not found"),
        ApplyProfile=profile_service_pb2.ApplyProfileResponse())
    result = invoke("profiles", "apply", "--dry-run", "-f", write(tmp_path, TWO_PROFILES))
    assert result.exit_code == 0
    assert all(r.validate_only for r in fake_registry.requests("ApplyProfile"))
    assert "profile customers: valid (would be created)" in result.stdout


def test_apply_bad_yaml_sends_nothing(tmp_path, invoke, fake_registry):
    result = invoke("profiles", "apply", "-f",
                    write(tmp_path, TWO_PROFILES + "---\nname: x\nsource: {kind: gopher}\n"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid profile file ")
    assert 'document 3: source.kind: unknown value "gopher"' in result.stderr
    assert fake_registry.calls == []


def test_apply_missing_file(invoke, fake_registry):
    result = invoke("profiles", "apply", "-f", "/nonexistent/profiles.yaml")
    assert result.exit_code == 1
    assert result.stderr == "error: file not found: /nonexistent/profiles.yaml\n"


def test_invalid_argument_prints_each_violation(tmp_path, invoke, fake_registry):
    violations = [errors.Violation("profile.name", "bad name"),
                  errors.Violation("profile.batch_size", "too big")]
    fake_registry.replies.update(
        GetProfile=FakeRpcError(grpc.StatusCode.NOT_FOUND, "not found"),
        ApplyProfile=FakeRpcError.from_domain(
            errors.InvalidArgumentError.from_violations("profile", violations)))
    result = invoke("profiles", "apply", "-f", write(tmp_path, TWO_PROFILES))
    assert result.exit_code == 1
    assert result.stderr == ("error: invalid profile\n"
                             "  profile.name: bad name\n"
                             "  profile.batch_size: too big\n")


def test_unreachable_registry_is_one_line(invoke, fake_registry):
    fake_registry.replies["ListRuns"] = FakeRpcError(grpc.StatusCode.UNAVAILABLE,
                                                     "failed to connect to all addresses")
    result = invoke("--registry", "10.9.9.9:1", "runs", "list")
    assert result.exit_code == 1
    assert result.stderr == ("error: registry unreachable at 10.9.9.9:1 "
                             "(failed to connect to all addresses)\n")


def test_deadline_names_the_timeout(invoke, fake_registry):
    fake_registry.replies["GetRun"] = FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline")
    result = invoke("--timeout", "2.5", "runs", "get", "r-1")
    assert result.exit_code == 1
    assert "did not answer within 2.5s" in result.stderr


def test_not_found(invoke, fake_registry):
    fake_registry.replies["GetSchedule"] = FakeRpcError.from_domain(
        errors.NotFoundError('schedule "s-9" not found'))
    result = invoke("schedules", "get", "s-9")
    assert (result.exit_code, result.stderr) == (1, 'error: schedule "s-9" not found\n')


def test_runs_list_pages_until_the_limit(invoke, fake_registry):
    pages = iter([
        run_service_pb2.ListRunsResponse(
            runs=[run_pb2.Run(id=f"r-{i}") for i in range(2)], next_page_token="t1"),
        run_service_pb2.ListRunsResponse(
            runs=[run_pb2.Run(id=f"r-{i}") for i in range(2, 4)], next_page_token="t2"),
    ])
    fake_registry.replies["ListRuns"] = lambda request: next(pages)
    result = invoke("-o", "json", "runs", "list", "--status", "failed", "--profile", "x",
                    "--limit", "3")
    assert result.exit_code == 0
    assert [r["id"] for r in json.loads(result.stdout)["runs"]] == ["r-0", "r-1", "r-2"]
    requests = fake_registry.requests("ListRuns")
    assert [(r.page_size, r.page_token) for r in requests] == [(3, ""), (1, "t1")]
    assert requests[0].filter == 'status = "FAILED" AND profile = "x"'


def test_runs_list_bad_status_is_a_usage_error(invoke, fake_registry):
    result = invoke("runs", "list", "--status", "exploded")
    assert result.exit_code == 2
    assert "exploded" in result.stderr and fake_registry.calls == []


def test_runs_get_json_is_protobuf_json(invoke, fake_registry):
    fake_registry.replies["GetRun"] = run_service_pb2.GetRunResponse(run=run_pb2.Run(
        id="r-1", status=run_pb2.RUN_STATUS_FAILED, counts=run_pb2.RunCounts(rows_read=3)))
    result = invoke("-o", "json", "runs", "get", "r-1")
    assert json.loads(result.stdout) == {"id": "r-1", "status": "RUN_STATUS_FAILED",
                                         "counts": {"rowsRead": "3"}}


def test_schedules_create_sends_the_trigger(invoke, fake_registry):
    fake_registry.replies["CreateSchedule"] = lambda request: (
        schedule_service_pb2.CreateScheduleResponse(schedule=schedule_pb2.Schedule(
            id="s-1", profile=request.schedule.profile, daily=request.schedule.daily,
            time_zone=request.schedule.time_zone)))
    result = invoke("schedules", "create", "products-export", "--daily", "06:00",
                    "--timezone", "Europe/Paris", "--catch-up", "latest")
    assert result.exit_code == 0, result.output
    [request] = fake_registry.requests("CreateSchedule")
    assert request.schedule.daily.time.hours == 6
    assert request.schedule.catch_up == schedule_pb2.CATCH_UP_POLICY_LATEST
    assert request.request_id
    assert "trigger:" in result.stdout and "daily 06:00" in result.stdout


def test_schedules_create_without_trigger_is_a_usage_error(invoke, fake_registry):
    result = invoke("schedules", "create", "p")
    assert result.exit_code == 2
    assert "exactly one trigger" in result.stderr
    assert fake_registry.calls == []


def test_schedules_get_shows_next_fire_times(invoke, fake_registry):
    fake_registry.replies.update(
        GetSchedule=schedule_service_pb2.GetScheduleResponse(schedule=schedule_pb2.Schedule(
            id="s-1", profile="p", manual=schedule_pb2.ManualTrigger())),
        PreviewSchedule=schedule_service_pb2.PreviewScheduleResponse())
    result = invoke("schedules", "get", "s-1")
    assert result.exit_code == 0
    assert "next fire times: none" in result.stdout
    assert fake_registry.requests("PreviewSchedule")[0].count == 5


def test_unexpected_errors_print_internal_without_traceback(monkeypatch, capsys):
    import ferry_cli.app as app

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.cli, "main", boom)
    with pytest.raises(SystemExit) as caught:
        main(["runs", "list"])
    assert caught.value.code == 1
    assert capsys.readouterr().err == "error: internal: RuntimeError: boom\n"


def test_bad_token_configuration_is_one_line(monkeypatch, invoke):
    monkeypatch.setenv("FERRY_TOKEN", "the-token-itself")
    result = invoke("profiles", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: configuration: FERRY_TOKEN must reference a secret")
    assert "the-token-itself" not in result.stderr


def test_unauthenticated_says_how_to_authenticate(invoke, fake_registry):
    fake_registry.replies["ListProfiles"] = FakeRpcError(grpc.StatusCode.UNAUTHENTICATED,
                                                         "missing bearer token")
    result = invoke("profiles", "list")
    assert result.exit_code == 1
    assert result.stderr == ("error: unauthenticated: missing bearer token "
                             "(set FERRY_TOKEN to env:NAME or file:/path)\n")
