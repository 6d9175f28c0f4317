"""RunService contract: start, list (filters, pagination), events, cancel,
retry, watch, summaries."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

import grpc
from ferry.v1 import profile_pb2, run_pb2, run_service_pb2

from tests.contract.conftest import START
from tests.contract.helpers import (
    apply,
    claim,
    expect_error,
    finish,
    get_run,
    list_runs,
    profile,
    start_run,
    violated_fields,
)


def test_start_run_is_idempotent_by_request_id(client):
    apply(client, profile(max_attempts=4))
    first = start_run(client, request_id="click-1")
    again = start_run(client, request_id="click-1")
    assert first.id == again.id
    assert first.status == run_pb2.RUN_STATUS_QUEUED
    assert first.trigger == run_pb2.RUN_TRIGGER_MANUAL
    assert (first.attempt, first.max_attempts) == (1, 4)
    assert first.entity_type == "products" and first.operation == profile_pb2.OPERATION_IMPORT
    assert first.profile_revision == 1
    assert start_run(client, request_id="click-2").id != first.id


def test_start_run_defaults_max_attempts_and_rejects_unknown_profiles(client):
    apply(client)
    assert start_run(client).max_attempts == 3
    error = expect_error(grpc.StatusCode.NOT_FOUND, start_run, client, "ghost")
    assert "ghost" in error.details()
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, start_run, client, "")


def test_list_is_newest_first_and_filters(client, clock):
    apply(client)
    apply(client, profile("other"))
    created = []
    for index in range(6):
        clock.advance(timedelta(minutes=1))
        created.append(start_run(client, "stock" if index % 2 else "other",
                                 dry_run=index == 5))
    listed = list_runs(client).runs
    assert [r.id for r in listed] == [r.id for r in reversed(created)]
    stock = list_runs(client, 'profile = "stock"').runs
    assert [r.id for r in stock] == [created[5].id, created[3].id, created[1].id]
    assert len(list_runs(client, "dry_run = true AND profile = stock").runs) == 1
    assert len(list_runs(client, "profile != stock").runs) == 3
    cutoff = (START + timedelta(minutes=4)).isoformat().replace("+00:00", "Z")
    recent = list_runs(client, f'queue_time >= "{cutoff}"').runs
    assert [r.id for r in recent] == [created[5].id, created[4].id, created[3].id]
    assert len(list_runs(client, f"queue_time < {cutoff} AND status = QUEUED").runs) == 3
    assert len(list_runs(client, "status = RUN_STATUS_QUEUED AND trigger = MANUAL").runs) == 6
    assert list_runs(client, "status = FAILED").runs == []
    assert len(list_runs(client, "operation = import and entity_type = products").runs) == 6
    finish(client, claim(client, created[0].id), run_pb2.RUN_STATUS_FAILED)
    assert [r.id for r in list_runs(client, 'status = "FAILED"').runs] == [created[0].id]


def test_bad_filters_say_what_is_wrong(client):
    cases = {
        "colour = red": "unknown field",
        "status = SOMETIMES": "not a valid status",
        "status > FAILED": "not allowed",
        "status = FAILED OR profile = x": "expected AND",
        "profile =": "incomplete",
        'profile = "open': "unterminated",
        "queue_time > yesterday": "RFC 3339",
        "dry_run = maybe": "true or false",
    }
    for text, problem in cases.items():
        error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, list_runs, client, text)
        assert problem in error.details(), (text, error.details())
        assert "filter" in violated_fields(error)


def test_pagination_follows_aip_158(client, clock):
    apply(client)
    ids = []
    for _ in range(7):
        clock.advance(timedelta(seconds=1))
        ids.append(start_run(client).id)
    seen, token, pages = [], "", 0
    while True:
        page = list_runs(client, "profile = stock", page_size=3, page_token=token)
        seen += [r.id for r in page.runs]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids)) and pages == 3
    # A run queued between pages does not shift the following pages (keyset).
    first = list_runs(client, page_size=3)
    clock.advance(timedelta(seconds=1))
    start_run(client)
    second = list_runs(client, page_size=3, page_token=first.next_page_token)
    assert [r.id for r in second.runs] == list(reversed(ids))[3:6]

    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, list_runs, client, page_size=-1)
    assert "page_size" in violated_fields(error)
    assert len(list_runs(client, page_size=100_000).runs) == 8  # coerced to the maximum
    token = list_runs(client, page_size=2).next_page_token
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, list_runs, client, page_size=2,
                         page_token=tampered)
    assert "page_token" in violated_fields(error)
    expect_error(grpc.StatusCode.INVALID_ARGUMENT, list_runs, client, page_size=2,
                 page_token="not-a-token")
    error = expect_error(grpc.StatusCode.INVALID_ARGUMENT, list_runs, client,
                         "profile = stock", page_size=2, page_token=token)
    assert "filter" in error.details()


def test_events_are_oldest_first_and_cancel_of_a_queued_run(client):
    apply(client)
    run = start_run(client)
    cancelled = client.runs.CancelRun(run_service_pb2.CancelRunRequest(
        id=run.id, reason="wrong day")).run
    assert cancelled.status == run_pb2.RUN_STATUS_CANCELLED
    assert "wrong day" in cancelled.error_message
    events = client.runs.ListRunEvents(run_service_pb2.ListRunEventsRequest(run_id=run.id)).events
    assert [e.status for e in events] == [run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_CANCELLED]
    assert all(e.type == run_pb2.RUN_EVENT_TYPE_STATUS and e.attempt == 1 for e in events)
    assert events[0].sequence < events[1].sequence
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.runs.CancelRun,
                 run_service_pb2.CancelRunRequest(id=run.id))
    expect_error(grpc.StatusCode.NOT_FOUND, client.runs.CancelRun,
                 run_service_pb2.CancelRunRequest(id="nope"))


def test_cancel_of_a_running_run_is_requested(client):
    apply(client)
    run = start_run(client)
    claimed = claim(client, run.id)
    asked = client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run.id)).run
    assert asked.status == run_pb2.RUN_STATUS_RUNNING and asked.cancel_requested
    done = finish(client, claimed, run_pb2.RUN_STATUS_CANCELLED)
    assert done.status == run_pb2.RUN_STATUS_CANCELLED


def test_retry_only_from_failed_cancelled_or_warning(client):
    apply(client)
    run = start_run(client)
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.runs.RetryRun,
                 run_service_pb2.RetryRunRequest(id=run.id))
    finish(client, claim(client, run.id), run_pb2.RUN_STATUS_FAILED, error_message="boom")
    retry = client.runs.RetryRun(run_service_pb2.RetryRunRequest(id=run.id,
                                                                 request_id="r1")).run
    assert retry.id != run.id
    assert retry.trigger == run_pb2.RUN_TRIGGER_RETRY and retry.retry_of == run.id
    assert retry.status == run_pb2.RUN_STATUS_QUEUED
    same = client.runs.RetryRun(run_service_pb2.RetryRunRequest(id=run.id, request_id="r1")).run
    assert same.id == retry.id
    finish(client, claim(client, retry.id))
    expect_error(grpc.StatusCode.FAILED_PRECONDITION, client.runs.RetryRun,
                 run_service_pb2.RetryRunRequest(id=retry.id))


def test_watch_streams_changes_until_terminal(client):
    apply(client)
    run = start_run(client)
    messages: list[run_service_pb2.WatchRunResponse] = []
    first_seen = threading.Event()

    def watch() -> None:
        for message in client.runs.WatchRun(run_service_pb2.WatchRunRequest(id=run.id),
                                            timeout=20):
            messages.append(message)
            first_seen.set()

    thread = threading.Thread(target=watch)
    thread.start()
    assert first_seen.wait(5)
    claimed = claim(client, run.id)
    finish(client, claimed, run_pb2.RUN_STATUS_COMPLETED)
    thread.join(10)
    assert not thread.is_alive()
    statuses = [m.run.status for m in messages]
    assert statuses[0] == run_pb2.RUN_STATUS_QUEUED
    assert statuses[-1] == run_pb2.RUN_STATUS_COMPLETED
    event_statuses = [e.status for m in messages for e in m.events]
    assert event_statuses == [run_pb2.RUN_STATUS_QUEUED, run_pb2.RUN_STATUS_RUNNING,
                              run_pb2.RUN_STATUS_COMPLETED]
    expect_error(grpc.StatusCode.NOT_FOUND,
                 lambda: list(client.runs.WatchRun(run_service_pb2.WatchRunRequest(id="x"),
                                                   timeout=5)))


def test_watch_ends_when_the_client_goes_away(client):
    apply(client)
    run = start_run(client)
    stream = client.runs.WatchRun(run_service_pb2.WatchRunRequest(id=run.id), timeout=20)
    assert next(stream).run.id == run.id
    stream.cancel()
    assert get_run(client, run.id).status == run_pb2.RUN_STATUS_QUEUED


def test_summarize_counts_by_status_in_the_window(client, clock):
    apply(client)
    old = start_run(client)
    finish(client, claim(client, old.id), run_pb2.RUN_STATUS_FAILED)
    clock.advance(timedelta(hours=30))
    finish(client, claim(client, start_run(client).id))
    start_run(client)
    counts = {c.status: c.count for c in client.runs.SummarizeRuns(
        run_service_pb2.SummarizeRunsRequest()).counts}
    assert counts[run_pb2.RUN_STATUS_COMPLETED] == 1
    assert counts[run_pb2.RUN_STATUS_QUEUED] == 1
    assert counts[run_pb2.RUN_STATUS_FAILED] == 0
    from ferry_registry import convert
    wide = {c.status: c.count for c in client.runs.SummarizeRuns(
        run_service_pb2.SummarizeRunsRequest(window=convert.to_duration(timedelta(days=2))
                                             )).counts}
    assert wide[run_pb2.RUN_STATUS_FAILED] == 1
