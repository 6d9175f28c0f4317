"""Operator commands against a fake registry: dashboard, runs get/logs/errors,
start/retry/cancel, watch, and the exit statuses that follow a run's status."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from ferry.v1 import run_pb2, run_service_pb2, schedule_pb2, schedule_service_pb2
from ferry_cli import watch as watch_module
from ferry_cli.dashboard import schedule_state
from ferry_cli.exit_codes import exit_code_for
from ferry_cli.watch import progress_text, rate_and_eta
from google.protobuf.timestamp_pb2 import Timestamp

from tests.unit.cli.fakes import FakeRpcError

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def stamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


@pytest.mark.parametrize(("status", "code"), [
    (run_pb2.RUN_STATUS_COMPLETED, 0), (run_pb2.RUN_STATUS_UNCHANGED, 0),
    (run_pb2.RUN_STATUS_WARNING, 2), (run_pb2.RUN_STATUS_FAILED, 1),
    (run_pb2.RUN_STATUS_CANCELLED, 1), (run_pb2.RUN_STATUS_RUNNING, 1)])
def test_exit_code_follows_the_run_status(status, code):
    assert exit_code_for(status) == code


def test_schedule_states():
    def schedule(**fields) -> schedule_pb2.Schedule:
        return schedule_pb2.Schedule(id="s", profile="p", **fields)

    assert schedule_state(schedule(paused=True, pause_reason="auto-paused after 5 failed "
                                                              "runs"), NOW) == "auto-paused"
    assert schedule_state(schedule(paused=True, pause_reason="holiday"), NOW) == "paused"
    assert schedule_state(schedule(next_fire_time=stamp(NOW - timedelta(minutes=10))),
                          NOW) == "late"
    assert schedule_state(schedule(next_fire_time=stamp(NOW - timedelta(seconds=30))),
                          NOW) == ""
    assert schedule_state(schedule(next_fire_time=stamp(NOW + timedelta(hours=1)),
                                   consecutive_failures=2), NOW) == "failing"


def test_progress_rate_and_eta():
    run = run_pb2.Run(status=run_pb2.RUN_STATUS_RUNNING, rows_total=10_000,
                      start_time=stamp(NOW - timedelta(seconds=10)),
                      counts=run_pb2.RunCounts(rows_read=2_000))
    assert rate_and_eta(run, NOW) == (200.0, 40.0)
    assert progress_text(run, NOW) == "2,000 / 10,000 rows  200 rows/s  ETA 40s"
    unknown_total = run_pb2.Run(start_time=stamp(NOW - timedelta(seconds=4)),
                                counts=run_pb2.RunCounts(rows_read=100))
    assert progress_text(unknown_total, NOW) == "100 rows  25 rows/s"
    assert progress_text(run_pb2.Run(), NOW) == "0 rows"


def _run(run_id: str, status: int, **fields) -> run_pb2.Run:
    return run_pb2.Run(id=run_id, profile=f"p-{run_id}", status=status, entity_type="products",
                       **fields)


def test_dashboard_lists_failed_then_warning_running_queued(invoke, fake_registry):
    by_status = {
        "FAILED": [_run("f1", run_pb2.RUN_STATUS_FAILED, error_message="too many rows in error",
                        counts=run_pb2.RunCounts(errors=5))],
        "WARNING": [_run("w1", run_pb2.RUN_STATUS_WARNING)],
        "RUNNING": [_run("r1", run_pb2.RUN_STATUS_RUNNING, rows_total=100,
                         counts=run_pb2.RunCounts(rows_read=50))],
        "QUEUED": [_run("q1", run_pb2.RUN_STATUS_QUEUED)],
    }

    def list_runs(request):
        status = request.filter.split('"')[1]
        return run_service_pb2.ListRunsResponse(runs=by_status[status])

    fake_registry.replies.update(
        SummarizeRuns=run_service_pb2.SummarizeRunsResponse(counts=[
            run_service_pb2.StatusCount(status=run_pb2.RUN_STATUS_FAILED, count=1),
            run_service_pb2.StatusCount(status=run_pb2.RUN_STATUS_COMPLETED, count=7)]),
        ListRuns=list_runs,
        ListSchedules=schedule_service_pb2.ListSchedulesResponse(schedules=[
            schedule_pb2.Schedule(id="s-ok", profile="fine",
                                  next_fire_time=stamp(datetime.now(UTC) + timedelta(hours=1))),
            schedule_pb2.Schedule(id="s-auto", profile="stock", paused=True,
                                  pause_reason="auto-paused after 5 consecutive failed runs",
                                  consecutive_failures=5, auto_pause_after=5)]))
    result = invoke("dashboard", "--since", "2h")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "failed 1" in lines[1] and "completed 7" in lines[1]
    firsts = [line.split()[1] for line in lines if line.split()[:1] in (
        ["FAILED"], ["WARNING"], ["RUNNING"], ["QUEUED"])]
    assert firsts == ["f1", "w1", "r1", "q1"]
    assert "50/100 50% rows" in result.stdout
    assert "s-auto" in result.stdout and "s-ok" not in result.stdout
    assert "auto-paused" in result.stdout and "5/5" in result.stdout
    [summary] = fake_registry.requests("SummarizeRuns")
    assert summary.window.seconds == 7200
    failed_filter = fake_registry.requests("ListRuns")[0].filter
    assert failed_filter.startswith('status = "FAILED" AND queue_time >= ')
    # Running and queued runs are shown however old they are.
    assert fake_registry.requests("ListRuns")[2].filter == 'status = "RUNNING"'

    data = json.loads(invoke("-o", "json", "dashboard").stdout)
    assert [r["id"] for r in data["runs"]] == ["f1", "w1", "r1", "q1"]
    assert data["counts"]["FAILED"] == 1 and data["counts"]["WARNING"] == 0
    assert [s["state"] for s in data["schedules"]] == ["auto-paused"]


def test_dashboard_watch_with_json_is_a_usage_error(invoke, fake_registry):
    assert invoke("-o", "json", "dashboard", "--watch").exit_code == 2
    assert invoke("dashboard", "--since", "soon").exit_code == 2


@pytest.mark.parametrize(("status", "code"), [
    (run_pb2.RUN_STATUS_COMPLETED, 0), (run_pb2.RUN_STATUS_WARNING, 2),
    (run_pb2.RUN_STATUS_FAILED, 1), (run_pb2.RUN_STATUS_CANCELLED, 1)])
def test_start_wait_exits_with_the_run_status(invoke, fake_registry, status, code):
    queued = _run("r-9", run_pb2.RUN_STATUS_QUEUED)
    event = run_pb2.RunEvent(run_id="r-9", sequence=1, type=run_pb2.RUN_EVENT_TYPE_STATUS,
                             status=run_pb2.RUN_STATUS_RUNNING, attempt=1, message="claimed")
    fake_registry.replies.update(
        StartRun=run_service_pb2.StartRunResponse(run=queued),
        WatchRun=[run_service_pb2.WatchRunResponse(run=queued, events=[event]),
                  run_service_pb2.WatchRunResponse(run=_run("r-9", status), events=[event])])
    result = invoke("runs", "start", "stock", "--force", "--wait")
    assert result.exit_code == code, result.output
    [request] = fake_registry.requests("StartRun")
    assert request.profile == "stock" and request.force and not request.dry_run
    assert len(request.request_id) == 32
    # The event is printed once although both messages carry it.
    assert result.stdout.count("claimed") == 1
    assert result.stdout.splitlines()[-1].startswith("run r-9 ")


def test_watch_reopens_a_stream_the_registry_ended(invoke, fake_registry, monkeypatch):
    monkeypatch.setattr("ferry_cli.watch.REOPEN",
                        dataclasses.replace(watch_module.REOPEN, initial_backoff=0.0,
                                            max_backoff=0.0))
    calls = []

    def watch(request):
        calls.append(request.id)
        if len(calls) == 1:
            return FakeRpcError(grpc.StatusCode.UNAVAILABLE, "registry restarting")
        return [run_service_pb2.WatchRunResponse(run=_run("r-1", run_pb2.RUN_STATUS_UNCHANGED))]

    fake_registry.replies["WatchRun"] = watch
    result = invoke("runs", "watch", "r-1")
    assert result.exit_code == 0, result.output
    assert calls == ["r-1", "r-1"] and "UNCHANGED" in result.stdout


def test_watch_gives_up_when_the_stream_cannot_be_opened_again(invoke, fake_registry,
                                                               monkeypatch):
    monkeypatch.setattr("ferry_cli.watch.REOPEN",
                        dataclasses.replace(watch_module.REOPEN, initial_backoff=0.0,
                                            max_backoff=0.0))
    calls = []

    def watch(request):
        calls.append(request.id)
        return FakeRpcError(grpc.StatusCode.UNAVAILABLE, "registry down")

    fake_registry.replies["WatchRun"] = watch
    result = invoke("runs", "watch", "r-1")
    assert result.exit_code == 1
    assert "the registry ended the watch of run r-1" in result.stderr
    assert len(calls) == watch_module.REOPEN.max_attempts == 11


def test_watch_of_an_unknown_run_fails(invoke, fake_registry):
    fake_registry.replies["WatchRun"] = FakeRpcError(grpc.StatusCode.NOT_FOUND,
                                                     'run "nope" not found')
    result = invoke("runs", "watch", "nope")
    assert (result.exit_code, result.stderr) == (1, 'error: run "nope" not found\n')


def test_get_shows_first_error_hint_freshness_and_timeline(invoke, fake_registry):
    run = _run("r-1", run_pb2.RUN_STATUS_FAILED, attempt=2, max_attempts=3,
               error_class=run_pb2.ERROR_CLASS_CREDENTIALS, error_message="HTTP 401",
               first_error=run_pb2.RowError(row=4, field="price", message="not a number"),
               first_skip_reason="row 2: sku is empty",
               counts=run_pb2.RunCounts(rows_read=10, errors=3, skipped=1),
               freshness=run_pb2.FreshnessEvidence(
                   method=1, previous_token="a1", current_token="b2",
                   verdict=run_pb2.FRESHNESS_VERDICT_CHANGED),
               retention_actions=[run_pb2.RetentionAction(
                   kind=run_pb2.RETENTION_ACTION_KIND_MOVED_TO_FAILED, path="/failed/x.csv")],
               sample_location="/state/samples/r-1.json")
    fake_registry.replies.update(
        GetRun=run_service_pb2.GetRunResponse(run=run),
        ListRunEvents=run_service_pb2.ListRunEventsResponse(events=[
            run_pb2.RunEvent(sequence=1, type=run_pb2.RUN_EVENT_TYPE_STATUS,
                             status=run_pb2.RUN_STATUS_QUEUED, message="queued"),
            run_pb2.RunEvent(sequence=2, type=run_pb2.RUN_EVENT_TYPE_RETRY, attempt=1,
                             message="lease expired", attributes={"runner": "r-a"})]))
    out = invoke("runs", "get", "r-1").stdout
    details = dict(line.split(":", 1) for line in out.split("retention:")[0].splitlines())
    assert details["attempt"].strip() == "2 of 3"
    assert details["first error"].strip() == "row 4, price: not a number"
    assert details["first skip"].strip() == "row 2: sku is empty"
    assert details["freshness"].strip() == "changed by mtime size (previous a1, now b2)"
    assert "credentials reference" in details["hint"]  # derived from the error class
    assert "ferry runs errors r-1" in details["rejected rows"]
    assert "moved to failed  /failed/x.csv" in out
    timeline = out.split("timeline:")[1].splitlines()
    assert "QUEUED" in timeline[1] and "queued" in timeline[1]
    assert "attempt 1  retry" in timeline[2] and "runner=r-a" in timeline[2]


def test_errors_csv_neutralises_formulas(invoke, fake_registry, tmp_path):
    fake_registry.replies["ListRejectedRows"] = run_service_pb2.ListRejectedRowsResponse(
        columns=["sku", "price"], rows=[
            run_service_pb2.RejectedRow(row=3, outcome="error", field="price",
                                        message="not a number",
                                        values={"sku": "A", "price": "=1+1"}),
            run_service_pb2.RejectedRow(row=5, outcome="skipped", field="sku",
                                        message="empty", values={"price": "2"})])
    result = invoke("runs", "errors", "r-1")
    assert result.exit_code == 0
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["row", "outcome", "field", "message", "sku", "price"],
        ["3", "error", "price", "not a number", "A", "'=1+1"],
        ["5", "skipped", "sku", "empty", "", "2"]]
    target = tmp_path / "rejected.csv"
    assert invoke("runs", "errors", "r-1", "--output-file", str(target)).exit_code == 0
    assert target.read_text() == result.stdout


def test_cancel_and_retry(invoke, fake_registry):
    fake_registry.replies.update(
        CancelRun=run_service_pb2.CancelRunResponse(run=_run(
            "r-1", run_pb2.RUN_STATUS_RUNNING, cancel_requested=True)),
        RetryRun=run_service_pb2.RetryRunResponse(run=_run("r-2", run_pb2.RUN_STATUS_QUEUED,
                                                           retry_of="r-1")))
    result = invoke("runs", "cancel", "r-1", "--reason", "wrong file")
    assert "cancellation requested" in result.stdout
    assert fake_registry.requests("CancelRun")[0].reason == "wrong file"
    result = invoke("runs", "retry", "r-1")
    assert result.exit_code == 0 and "run r-2" in result.stdout
    assert fake_registry.requests("RetryRun")[0].request_id


def test_schedule_get_shows_pause_reason_and_auto_pause_limit(invoke, fake_registry):
    fake_registry.replies.update(
        GetSchedule=schedule_service_pb2.GetScheduleResponse(schedule=schedule_pb2.Schedule(
            id="s-1", profile="stock", paused=True, consecutive_failures=5, auto_pause_after=5,
            pause_reason="auto-paused after 5 consecutive failed runs")),
        PreviewSchedule=schedule_service_pb2.PreviewScheduleResponse())
    out = invoke("schedules", "get", "s-1").stdout
    assert "pause reason:         auto-paused after 5 consecutive failed runs" in out
    assert "consecutive failures: 5 (auto-pause after 5)" in out


def test_dashboard_watch_keeps_the_last_view_when_the_registry_is_down(invoke, fake_registry):
    calls = []

    def summarize(request):
        calls.append(request)
        if len(calls) == 2:
            return FakeRpcError(grpc.StatusCode.UNAVAILABLE, "connection refused")
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the next refresh
        return run_service_pb2.SummarizeRunsResponse(counts=[
            run_service_pb2.StatusCount(status=run_pb2.RUN_STATUS_COMPLETED, count=3)])

    fake_registry.replies.update(
        SummarizeRuns=summarize, ListRuns=run_service_pb2.ListRunsResponse(),
        ListSchedules=schedule_service_pb2.ListSchedulesResponse())
    result = invoke("--registry", "10.1.1.1:5", "dashboard", "--watch", "--interval", "0.5")
    assert result.exit_code == 0, result.output
    assert len(calls) == 3
    assert "registry unreachable at 10.1.1.1:5" in result.stdout and "retrying" in result.stdout
    assert "completed 3" in result.stdout  # the last good counts stay on screen


def test_freshness_names_the_method_and_its_token_part_or_the_reason_beyond_the_source(
        invoke, fake_registry):
    token = '{"checksum":"xxh3_128:%s","profile_digest":"sha256:%s"}'
    cases = [
        (run_pb2.FreshnessEvidence(
            method=3, verdict=run_pb2.FRESHNESS_VERDICT_CHANGED,
            reason=run_pb2.FRESHNESS_REASON_SOURCE_CHANGED, reason_detail="source changed",
            previous_token=token % ("aa", "d1"), current_token=token % ("bb", "d1")),
         "changed by checksum: source changed (previous xxh3_128:aa, now xxh3_128:bb)"),
        (run_pb2.FreshnessEvidence(
            method=1, verdict=run_pb2.FRESHNESS_VERDICT_CHANGED,
            reason=run_pb2.FRESHNESS_REASON_PROFILE_CHANGED,
            reason_detail="mapping changed since the last import",
            previous_token=token % ("aa", "d1"), current_token=token % ("aa", "d2")),
         "changed: mapping changed since the last import"),
    ]
    for evidence, shown in cases:
        fake_registry.replies.update(
            GetRun=run_service_pb2.GetRunResponse(run=_run("r-1", run_pb2.RUN_STATUS_COMPLETED,
                                                           freshness=evidence)),
            ListRunEvents=run_service_pb2.ListRunEventsResponse())
        out = invoke("runs", "get", "r-1").stdout
        line = next(x for x in out.splitlines() if x.startswith("freshness:"))
        assert line.split(":", 1)[1].strip() == shown
