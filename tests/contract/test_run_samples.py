"""Masked samples stored with the run: FinishRun carries them, GetRunSample
serves them (capped at 50 rows and 256 KiB, masked again by the registry),
and the janitor deletes them with the run, a failed run's only once a later
live run of its profile completed."""

from __future__ import annotations

from datetime import timedelta

import grpc
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2

from tests.contract.helpers import apply, claim, expect_error, finish, profile, start_run
from tests.contract.test_janitor import count_rows


def sample(rows: list[list[str]], columns=("sku", "email")) -> run_pb2.RunSample:
    return run_pb2.RunSample(columns=list(columns),
                             rows=[run_pb2.RunSampleRow(values=r) for r in rows])


def get_sample(client, run_id: str) -> run_pb2.RunSample:
    return client.runs.GetRunSample(run_service_pb2.GetRunSampleRequest(run_id=run_id)).sample


def test_a_sample_is_stored_with_its_run_capped_and_masked(client):
    apply(client, profile("stock"))
    run = start_run(client, "stock")
    rows = [[f"A-{i}", f"person{i}@example.com"] for i in range(60)]
    finish(client, claim(client, run.id), sample=sample(rows))

    stored = get_sample(client, run.id)
    assert stored.run_id == run.id and list(stored.columns) == ["sku", "email"]
    assert len(stored.rows) == 50 and stored.omitted_rows == 10
    assert stored.note.startswith("10 rows left out"), stored.note
    assert stored.rows[0].values[0] == "A-0"
    assert "person0@example.com" not in str(stored), stored.rows[0]

    big = start_run(client, "stock")
    wide = [[f"B-{i}", "long text " * 10_000] for i in range(5)]  # 100 KB each
    finish(client, claim(client, big.id), sample=sample(wide, ("sku", "note")))
    capped = get_sample(client, big.id)
    assert len(capped.rows) == 2 and capped.omitted_rows == 3, capped.note


def test_no_sample_and_no_run_are_not_found(client):
    apply(client, profile("plain"))
    run = start_run(client, "plain")
    finish(client, claim(client, run.id))
    error = expect_error(grpc.StatusCode.NOT_FOUND, client.runs.GetRunSample,
                         run_service_pb2.GetRunSampleRequest(run_id=run.id))
    assert "sample" in error.details() and run.id in error.details()
    expect_error(grpc.StatusCode.NOT_FOUND, client.runs.GetRunSample,
                 run_service_pb2.GetRunSampleRequest(run_id="missing"))
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, client.runs.GetRunSample,
                 run_service_pb2.GetRunSampleRequest())


def test_samples_are_purged_with_their_run_a_failed_one_once_released(client, clock, internals):
    from ferry_registry.db.models import RunSampleRow

    spec = profile("evidence")
    spec.retention.CopyFrom(profile_pb2.RetentionPolicy(keep_runs_days=1, keep_min_runs=1))
    apply(client, spec)
    done = start_run(client, "evidence")
    finish(client, claim(client, done.id), sample=sample([["A-1", "a@example.com"]]))
    failed = start_run(client, "evidence")
    finish(client, claim(client, failed.id), run_pb2.RUN_STATUS_FAILED,
           sample=sample([["A-2", "b@example.com"]]))
    clock.advance(timedelta(days=3))
    internals.janitor.run_once()
    assert count_rows(internals, RunSampleRow, done.id) == 0
    expect_error(grpc.StatusCode.NOT_FOUND, client.runs.GetRunSample,
                 run_service_pb2.GetRunSampleRequest(run_id=done.id))
    assert get_sample(client, failed.id).rows[0].values[0] == "A-2"  # unresolved: kept

    fixed = start_run(client, "evidence")
    finish(client, claim(client, fixed.id))
    clock.advance(timedelta(days=3))
    internals.janitor.run_once()
    assert count_rows(internals, RunSampleRow, failed.id) == 0
