"""Records tasks executed by a runner (``ferry_runner.record_tasks`` through
``RunnerTaskHandler``) against a real SQLite target written by the engine:
the answer of each kind, masked personal values, and the errors a caller
sees (no changeset, a bad page token) answered as the runner's message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ferry.v1 import execution_service_pb2 as ex
from ferry.v1 import profile_pb2, record_pb2, runner_task_pb2
from ferry_domain.engine import run_profile
from ferry_domain.runs.states import RunStatus
from ferry_runner.metrics import RunnerMetrics
from ferry_runner.record_tasks import RecordTasks, to_value
from ferry_runner.tasks import RunnerTaskHandler
from google.protobuf import json_format

Kind = runner_task_pb2.RunnerTaskKind
KEY = b"unit-test-mask-key"
CREATED, UPDATED = record_pb2.RECORD_ACTION_CREATED, record_pb2.RECORD_ACTION_UPDATED


def products(path: Path) -> profile_pb2.Profile:
    return profile_pb2.Profile(
        name="stock", entity_type="products", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=profile_pb2.SOURCE_KIND_FILE, location=str(path),
                                  format=profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_CSV)),
        mapping=profile_pb2.Mapping(fields=[
            profile_pb2.FieldMapping(target=t, source=s)
            for t, s in (("sku", "SKU"), ("name", "Name"), ("price", "Price"))]),
        target=profile_pb2.Target(kind=profile_pb2.TARGET_KIND_SQL))


def customers(path: Path) -> profile_pb2.Profile:
    profile = products(path)
    profile.name, profile.entity_type = "people", "customers"
    del profile.mapping.fields[:]
    profile.mapping.fields.extend([
        profile_pb2.FieldMapping(target=t, source=s)
        for t, s in (("email", "Email"), ("first_name", "First"), ("country", "Country"))])
    return profile


def imported(profile: profile_pb2.Profile, url: str, run_id: str, rows: str) -> None:
    Path(profile.source.location).write_text(rows)
    result = run_profile(profile, dry_run=False, default_target_url=url, run_id=run_id)
    assert result.status is RunStatus.COMPLETED, result


@pytest.fixture
def stock(tmp_path: Path) -> tuple[profile_pb2.Profile, str]:
    """Two live imports: run-1 creates A1, B2, C3; run-2 changes B2's price."""
    url = f"sqlite:///{tmp_path / 'target.db'}"
    profile = products(tmp_path / "stock.csv")
    imported(profile, url, "run-1", "SKU,Name,Price\nA1,Apple,1.50\nB2,Pear,2.00\nC3,Fig,3\n")
    imported(profile, url, "run-2", "SKU,Name,Price\nA1,Apple,1.50\nB2,Pear,2.40\nC3,Fig,3\n")
    return profile, url


def task(kind: int, **query: Any) -> runner_task_pb2.RunnerTask:
    return runner_task_pb2.RunnerTask(id="t1", kind=kind, **query)


def list_task(run_id: str, **fields: Any) -> runner_task_pb2.RunnerTask:
    return task(Kind.RUNNER_TASK_KIND_LIST_RUN_RECORDS,
                run_records_query=record_pb2.RunRecordsQuery(run_id=run_id, **fields))


def plain(value) -> Any:
    return json_format.MessageToDict(value)


def test_a_run_lists_its_records_page_by_page(stock):
    profile, url = stock
    tasks = RecordTasks(url, KEY)
    first = tasks.answer(list_task("run-1", page_size=2), profile).run_records
    assert [(r.action, list(r.key), r.run_id) for r in first.records] == [
        (CREATED, ["A1"], "run-1"), (CREATED, ["B2"], "run-1")]
    assert first.next_page_token
    rest = tasks.answer(list_task("run-1", page_size=2, page_token=first.next_page_token),
                        profile).run_records
    assert [list(r.key) for r in rest.records] == [["C3"]] and not rest.next_page_token

    [update] = tasks.answer(list_task("run-2"), profile).run_records.records
    assert (update.action, list(update.key)) == (UPDATED, ["B2"])
    assert [(f.field, float(plain(f.before)), float(plain(f.after)))
            for f in update.fields] == [("price", 2.0, 2.4)]
    only_created = tasks.answer(list_task("run-2", actions=[CREATED]), profile)
    assert list(only_created.run_records.records) == []


def test_a_record_now_and_the_runs_that_touched_it_newest_first(stock):
    profile, url = stock
    record = RecordTasks(url, KEY).answer(task(
        Kind.RUNNER_TASK_KIND_GET_RECORD, record_query=record_pb2.RecordQuery(key=["B2"])),
        profile).record
    assert record.found and record.last_run_id == "run-2" and list(record.key) == ["B2"]
    values = {v.field: plain(v.value) for v in record.values}
    # A product's name is not personal: shown as stored.
    assert values["name"] == "Pear" and float(values["price"]) == 2.4
    assert [(h.run_id, h.action) for h in record.history] == [
        ("run-2", UPDATED), ("run-1", CREATED)]

    absent = RecordTasks(url, KEY).answer(task(
        Kind.RUNNER_TASK_KIND_GET_RECORD, record_query=record_pb2.RecordQuery(key=["Z9"])),
        profile).record
    assert not absent.found and list(absent.values) == [] and list(absent.history) == []


def test_two_runs_differ_by_the_changed_field_and_its_keys(stock):
    profile, url = stock
    diff = RecordTasks(url, KEY).answer(task(
        Kind.RUNNER_TASK_KIND_DIFF_RUNS,
        run_diff_query=record_pb2.RunDiffQuery(run_a="run-2", run_b="run-1")), profile).run_diff
    assert (diff.run_a, diff.run_b, diff.created_count, diff.deleted_count) == (
        "run-1", "run-2", 0, 0)
    [field] = diff.fields
    assert field.field == "price" and field.count == 1
    [change] = field.changes
    assert list(change.key) == ["B2"]
    assert (float(plain(change.value_a)), float(plain(change.value_b))) == (2.0, 2.4)


def test_customer_emails_and_names_leave_the_runner_masked(tmp_path):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    profile = customers(tmp_path / "people.csv")
    imported(profile, url, "run-1", "Email,First,Country\njane.doe@example.com,Jane,FR\n")
    imported(profile, url, "run-2", "Email,First,Country\njane.doe@example.com,Janet,FR\n")
    tasks = RecordTasks(url, KEY)
    answers = [
        tasks.answer(list_task("run-1"), profile),
        tasks.answer(list_task("run-2"), profile),
        tasks.answer(task(Kind.RUNNER_TASK_KIND_GET_RECORD, record_query=record_pb2.RecordQuery(
            key=["jane.doe@example.com"])), profile),
        tasks.answer(task(Kind.RUNNER_TASK_KIND_DIFF_RUNS, run_diff_query=record_pb2.RunDiffQuery(
            run_a="run-1", run_b="run-2")), profile)]
    text = json.dumps([plain(a) for a in answers])
    assert "jane.doe@example.com" not in text and "Jane" not in text, text
    [created] = answers[0].run_records.records
    assert created.key[0].startswith("j***@e***.com~")
    [update] = answers[1].run_records.records
    [first_name] = update.fields
    assert first_name.field == "first_name"
    assert plain(first_name.before).startswith("J***~") and plain(first_name.after) != plain(
        first_name.before)
    values = {v.field: plain(v.value) for v in answers[2].record.values}
    assert values["country"] == "FR" and values["email"].startswith("j***@e***.com~")
    # The same value masks the same way: records and the record agree.
    assert values["email"] == created.key[0] == answers[2].record.key[0]
    unmasked = RecordTasks(url, None).answer(list_task("run-1"), profile)
    assert list(unmasked.run_records.records[0].key) == ["jane.doe@example.com"]


class AnsweringRegistry:
    """Stands in for RunnerRegistry: hands out one claimed task, keeps the answer."""

    def __init__(self, claimed: runner_task_pb2.RunnerTask, profile: profile_pb2.Profile) -> None:
        self.reply = ex.ClaimRunnerTaskResponse(claimed=True, task=claimed, profile=profile)
        self.answers: list[tuple[list, str, Any]] = []

    def complete_task(self, task_id: str, checks: list, error: str, answer: Any = None) -> None:
        self.answers.append((checks, error, answer))


def execute(claimed: runner_task_pb2.RunnerTask, profile: profile_pb2.Profile, url: str):
    registry = AnsweringRegistry(claimed, profile)
    handler = RunnerTaskHandler(registry, RunnerMetrics(), target_url=url,  # type: ignore[arg-type]
                                file_roots=None, mask_key=KEY)
    handler._execute(registry.reply)
    [(checks, error, answer)] = registry.answers
    assert checks == []
    return error, answer


def test_the_handler_answers_records_and_refuses_with_the_reason(stock):
    profile, url = stock
    error, answer = execute(list_task("run-2"), profile, url)
    assert error == "" and [list(r.key) for r in answer.run_records.records] == [["B2"]]

    error, answer = execute(list_task("dry-or-purged"), profile, url)
    assert answer is None
    assert "dry-or-purged" in error and "changeset" in error, error
    assert not error.startswith("the runner could not execute"), error

    error, answer = execute(list_task("run-1", page_token="not-a-token"), profile, url)
    assert answer is None and "page token" in error, error


def test_values_become_json_values():
    from datetime import date
    from decimal import Decimal

    assert plain(to_value(None)) is None
    assert plain(to_value(True)) is True
    assert plain(to_value(3)) == 3
    assert plain(to_value(Decimal("19.90"))) == "19.90"
    assert plain(to_value(2**60)) == str(2**60)
    assert plain(to_value(date(2026, 1, 2))) == "2026-01-02"
    assert plain(to_value(["a", 1])) == ["a", 1]
    assert plain(to_value({"k": [None]})) == {"k": [None]}


def test_retention_masked_fields_are_masked_too(stock):
    profile, url = stock
    profile.retention.masked_fields.append("Name")
    [first] = RecordTasks(url, KEY).answer(list_task("run-1", page_size=1), profile) \
        .run_records.records
    record = RecordTasks(url, KEY).answer(task(
        Kind.RUNNER_TASK_KIND_GET_RECORD, record_query=record_pb2.RecordQuery(key=["A1"])),
        profile).record
    values = {v.field: plain(v.value) for v in record.values}
    assert values["name"].startswith("A***~") and float(values["price"]) == 1.5
    assert list(first.key) == ["A1"]
