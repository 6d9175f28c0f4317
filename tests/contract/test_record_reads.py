"""ListRunRecords, GetRecord and DiffRuns on a real registry: what each call
checks before it asks a runner, how it waits for the runner's answer (a
runner here is a thread taking the task over the real ExecutionService), and
what the caller gets: the answer, the runner's refusal as
FAILED_PRECONDITION, or UNAVAILABLE when no runner took the request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from ferry.v1 import (
    dispatch_service_pb2,
    execution_service_pb2,
    profile_service_pb2,
    record_pb2,
    run_pb2,
    run_service_pb2,
    runner_task_pb2,
)

from tests.contract.helpers import (
    apply,
    claim,
    expect_error,
    finish,
    profile,
    start_run,
    violated_fields,
)

Answer = Callable[[runner_task_pb2.RunnerTask], tuple[runner_task_pb2.RunnerTask | None, str]]
CREATED = record_pb2.RECORD_ACTION_CREATED
PRECONDITION, INVALID = grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT


@contextmanager
def runner(client, answer: Answer) -> Iterator[list[runner_task_pb2.RunnerTask]]:
    """A runner in a thread: takes each runner task the registry has to
    publish and answers it with ``answer(task)``; yields the tasks it took."""
    taken: list[runner_task_pb2.RunnerTask] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            queued = client.dispatch.ListRunsToPublish(
                dispatch_service_pb2.ListRunsToPublishRequest(limit=10)).runner_tasks
            for task in queued:
                claimed = client.execution.ClaimRunnerTask(
                    execution_service_pb2.ClaimRunnerTaskRequest(task_id=task.id,
                                                                 runner_id="runner-t"))
                if not claimed.claimed:
                    continue
                taken.append(claimed.task)
                reply, error = answer(claimed.task)
                client.execution.CompleteRunnerTask(execution_service_pb2.CompleteRunnerTaskRequest(
                    task_id=task.id, runner_id="runner-t", answer=reply, error_message=error))
            stop.wait(0.02)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        stop.set()
        thread.join(5)


def finished_run(client, name: str = "stock", *, dry_run: bool = False) -> run_pb2.Run:
    run = start_run(client, name, force=True, dry_run=dry_run)
    return finish(client, claim(client, run.id))


def list_records(client, run_id: str, timeout: float = 10, **fields: Any):
    return client.runs.ListRunRecords(
        run_service_pb2.ListRunRecordsRequest(run_id=run_id, **fields), timeout=timeout)


def page_of(*skus: str, token: str = "") -> runner_task_pb2.RunnerTask:
    return runner_task_pb2.RunnerTask(run_records=record_pb2.RunRecordsPage(
        records=[record_pb2.RecordChange(key=[s], action=CREATED) for s in skus],
        next_page_token=token))


def test_records_of_a_run_come_from_the_runner_page_by_page(client):
    apply(client)
    run = finished_run(client)
    with runner(client, lambda task: (page_of("A1", "B2", token="t2")
                                      if not task.run_records_query.page_token
                                      else page_of("C3"), "")) as taken:
        first = list_records(client, run.id, page_size=2, actions=[CREATED])
        second = list_records(client, run.id, page_size=2, page_token=first.next_page_token)
    assert [list(r.key) for r in first.records] == [["A1"], ["B2"]]
    assert first.next_page_token == "t2"
    assert [list(r.key) for r in second.records] == [["C3"]] and not second.next_page_token
    one, two = taken
    assert (one.kind, one.profile) == (runner_task_pb2.RUNNER_TASK_KIND_LIST_RUN_RECORDS,
                                       "stock")
    assert (one.run_records_query.run_id, list(one.run_records_query.actions),
            one.run_records_query.page_size) == (run.id, [CREATED], 2)
    assert two.run_records_query.page_token == "t2"


def test_the_runners_refusal_is_a_failed_precondition_with_its_message(client):
    apply(client)
    run = finished_run(client)
    refusal = f"run {run.id} has no changeset in the target of profile stock"
    with runner(client, lambda task: (None, refusal)):
        error = expect_error(PRECONDITION, list_records, client, run.id)
    assert error.details() == refusal


def test_no_runner_is_unavailable_within_the_calls_deadline(client, internals):
    apply(client)
    run = finished_run(client)
    error = expect_error(grpc.StatusCode.UNAVAILABLE, list_records, client, run.id, timeout=4)
    assert error.details() == ("no runner took the request within 3s; is a ferry-runner "
                               "(and a ferry-scheduler to hand it requests) running?")
    # Abandoned: nothing left to publish, a runner coming late drops it.
    assert internals.tasks.to_publish(None, 10) == []


def test_a_record_is_asked_with_as_many_key_parts_as_the_profiles_key(client):
    apply(client)
    stored = record_pb2.StoredRecord(key=["A1"], found=True, values=[
        record_pb2.FieldValue(field="sku")])
    with runner(client, lambda task: (runner_task_pb2.RunnerTask(record=stored), "")) as taken:
        reply = client.runs.GetRecord(run_service_pb2.GetRecordRequest(profile="stock",
                                                                        key=["A1"]))
    assert reply.record == stored
    [task] = taken
    assert (task.kind, list(task.record_query.key)) == (
        runner_task_pb2.RUNNER_TASK_KIND_GET_RECORD, ["A1"])

    error = expect_error(INVALID, client.runs.GetRecord, run_service_pb2.GetRecordRequest(
        profile="stock", key=["A1", "shop"]))
    assert violated_fields(error) == {"key"}
    assert 'profile "stock" is keyed by sku: give 1 non-empty value(s), got 2' in error.details()
    keyed = profile("levels")
    keyed.mapping.key_fields.extend(["sku", "name"])
    apply(client, keyed)
    error = expect_error(INVALID, client.runs.GetRecord, run_service_pb2.GetRecordRequest(
        profile="levels", key=["A1"]))
    assert "keyed by sku, name: give 2" in error.details()
    expect_error(INVALID, client.runs.GetRecord, run_service_pb2.GetRecordRequest(
        profile="levels", key=["A1", " "]))
    expect_error(grpc.StatusCode.NOT_FOUND, client.runs.GetRecord,
                 run_service_pb2.GetRecordRequest(profile="nope", key=["A1"]))


def test_runs_that_wrote_nothing_are_refused_before_any_runner_is_asked(client, internals):
    apply(client)
    error = expect_error(PRECONDITION, list_records, client,
                         finished_run(client, dry_run=True).id)
    assert "was a dry run: it wrote nothing" in error.details()
    queued = start_run(client, force=True)
    error = expect_error(PRECONDITION, list_records, client, queued.id)
    assert "has not started" in error.details()
    expect_error(grpc.StatusCode.NOT_FOUND, list_records, client, "no-such-run")
    assert violated_fields(expect_error(INVALID, list_records, client, "")) == {"run_id"}
    assert internals.tasks.to_publish(None, 10) == []


def test_bad_paging_and_actions_are_invalid(client):
    apply(client)
    run = finished_run(client)
    assert violated_fields(expect_error(INVALID, list_records, client, run.id,
                                        page_size=-1)) == {"page_size"}
    assert violated_fields(expect_error(INVALID, list_records, client, run.id,
                                        actions=[9])) == {"actions"}


def test_a_run_of_a_deleted_profile_is_refused(client):
    apply(client)
    run = finished_run(client)
    client.profiles.DeleteProfile(profile_service_pb2.DeleteProfileRequest(name="stock",
                                                                           force=True))
    error = expect_error(PRECONDITION, list_records, client, run.id)
    assert 'profile "stock" of run' in error.details() and "no longer exists" in error.details()


def test_diff_compares_two_runs_of_one_profile(client):
    apply(client)
    apply(client, profile("other"))
    first, second = finished_run(client), finished_run(client)
    diff = record_pb2.RunDiff(run_a=first.id, run_b=second.id, runs=[second.id],
                              fields=[record_pb2.FieldDiff(field="price", count=1)])
    with runner(client, lambda task: (runner_task_pb2.RunnerTask(run_diff=diff), "")) as taken:
        reply = client.runs.DiffRuns(run_service_pb2.DiffRunsRequest(run_a=second.id,
                                                                     run_b=first.id))
    assert reply.diff == diff
    [task] = taken
    assert (task.kind, task.run_diff_query.run_a, task.run_diff_query.run_b) == (
        runner_task_pb2.RUNNER_TASK_KIND_DIFF_RUNS, second.id, first.id)

    error = expect_error(INVALID, client.runs.DiffRuns, run_service_pb2.DiffRunsRequest(
        run_a=first.id, run_b=finished_run(client, "other").id))
    assert "are of different profiles" in error.details()
    expect_error(INVALID, client.runs.DiffRuns, run_service_pb2.DiffRunsRequest(
        run_a=first.id, run_b=first.id))
    assert violated_fields(expect_error(INVALID, client.runs.DiffRuns,
                                        run_service_pb2.DiffRunsRequest(run_a=first.id))) \
        == {"run_b"}


def test_create_runner_task_still_creates_only_validations(client):
    apply(client)
    error = expect_error(INVALID, client.runs.CreateRunnerTask,
                         run_service_pb2.CreateRunnerTaskRequest(
                             kind=runner_task_pb2.RUNNER_TASK_KIND_LIST_RUN_RECORDS,
                             profile="stock"))
    assert violated_fields(error) == {"kind"}
