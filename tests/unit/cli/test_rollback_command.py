"""``ferry runs rollback``: the request it sends, what it prints, --wait's exit
codes, refusals; ``runs get``/``runs list`` show the undone run and deleted rows."""

from __future__ import annotations

import json

import grpc
import pytest
from ferry import errors
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2

from tests.unit.cli.fakes import FakeRpcError

ROLLBACK = profile_pb2.OPERATION_ROLLBACK


def rollback_run(status: int = run_pb2.RUN_STATUS_QUEUED, **fields) -> run_pb2.Run:
    return run_pb2.Run(id="r-3", profile="woo", status=status, entity_type="products",
                       operation=ROLLBACK, rollback_of="r-2",
                       trigger=run_pb2.RUN_TRIGGER_MANUAL, **fields)


def test_rollback_queues_and_says_how_to_follow(invoke, fake_registry):
    fake_registry.replies["RollbackRun"] = run_service_pb2.RollbackRunResponse(
        run=rollback_run())
    result = invoke("runs", "rollback", "r-2")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("rollback of r-2: queued run r-3 (woo): QUEUED; "
                                     "follow it with: ferry runs watch r-3")
    [request] = fake_registry.requests("RollbackRun")
    assert request.run_id == "r-2" and not request.force and not request.dry_run
    assert len(request.request_id) == 32


def test_rollback_flags_and_json(invoke, fake_registry):
    fake_registry.replies["RollbackRun"] = run_service_pb2.RollbackRunResponse(
        run=rollback_run(dry_run=True, rollback_force=True))
    result = invoke("runs", "rollback", "r-2", "--dry-run", "--force", "-o", "json",
                    "--request-id", "k-1")
    data = json.loads(result.stdout)
    assert data["operation"] == "OPERATION_ROLLBACK" and data["rollbackOf"] == "r-2"
    assert data["rollbackForce"] is True
    [request] = fake_registry.requests("RollbackRun")
    assert request.force and request.dry_run and request.request_id == "k-1"


@pytest.mark.parametrize(("status", "code"), [
    (run_pb2.RUN_STATUS_COMPLETED, 0), (run_pb2.RUN_STATUS_WARNING, 2),
    (run_pb2.RUN_STATUS_FAILED, 1), (run_pb2.RUN_STATUS_CANCELLED, 1)])
def test_rollback_wait_exits_with_the_run_status(invoke, fake_registry, status, code):
    done = rollback_run(status, counts=run_pb2.RunCounts(rows_read=3, updated=2, deleted=1))
    fake_registry.replies.update(
        RollbackRun=run_service_pb2.RollbackRunResponse(run=rollback_run()),
        WatchRun=[run_service_pb2.WatchRunResponse(run=done)])
    result = invoke("runs", "rollback", "r-2", "--wait")
    assert result.exit_code == code, result.output
    assert "read 3, updated 2, deleted 1" in result.stdout


def test_a_refused_rollback_is_a_clear_error(invoke, fake_registry):
    fake_registry.replies["RollbackRun"] = FakeRpcError.from_domain(
        errors.FailedPreconditionError("run r-1 was a dry run: it wrote nothing to roll back"))
    result = invoke("runs", "rollback", "r-1")
    assert result.exit_code != 0
    assert "run r-1 was a dry run: it wrote nothing to roll back" in result.stderr
    assert "Traceback" not in result.output
    fake_registry.replies["RollbackRun"] = FakeRpcError(grpc.StatusCode.NOT_FOUND,
                                                        'run "r-0" not found')
    assert 'run "r-0" not found' in invoke("runs", "rollback", "r-0").stderr


def test_runs_get_and_list_show_the_undone_run_and_deleted_rows(invoke, fake_registry):
    done = rollback_run(run_pb2.RUN_STATUS_COMPLETED, rollback_force=True,
                        counts=run_pb2.RunCounts(rows_read=25, deleted=25))
    fake_registry.replies.update(
        GetRun=run_service_pb2.GetRunResponse(run=done),
        ListRunEvents=run_service_pb2.ListRunEventsResponse(),
        ListRuns=run_service_pb2.ListRunsResponse(runs=[done]))
    out = invoke("runs", "get", "r-3").stdout
    assert "rollback" in out and "r-2 (forced)" in out
    assert "read 25, deleted 25" in out
    listed = invoke("runs", "list", "--operation", "rollback").stdout
    assert "manual rollback" in listed
    assert fake_registry.requests("ListRuns")[0].filter == 'operation = "ROLLBACK"'
