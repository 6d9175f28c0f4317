"""``ferry runs records``, ``ferry records get`` and ``ferry runs diff`` against a
fake registry: the lines people read, paging up to --limit, JSON, and the
exit statuses (1: an error or no such record, 3: no runner answered)."""

from __future__ import annotations

import json

import grpc
from ferry import errors
from ferry.v1 import record_pb2, run_service_pb2
from ferry_cli.record_views import value_text
from google.protobuf import struct_pb2

from tests.unit.cli.fakes import FakeRpcError

CREATED, UPDATED = record_pb2.RECORD_ACTION_CREATED, record_pb2.RECORD_ACTION_UPDATED


def text(value: str) -> struct_pb2.Value:
    return struct_pb2.Value(string_value=value)


def number(value: float) -> struct_pb2.Value:
    return struct_pb2.Value(number_value=value)


def created(sku: str) -> record_pb2.RecordChange:
    return record_pb2.RecordChange(run_id="r1", key=[sku], action=CREATED)


def price_update(sku: str, before: str, after: str, run_id: str = "r2"
                 ) -> record_pb2.RecordChange:
    return record_pb2.RecordChange(run_id=run_id, key=[sku], action=UPDATED, fields=[
        record_pb2.FieldChange(field="price", before=text(before), after=text(after))])


def test_values_read_as_people_write_them():
    assert value_text(text("19.90")) == "19.90"
    assert value_text(text("")) == '""'
    assert value_text(number(3.0)) == "3" and value_text(number(2.5)) == "2.5"
    assert value_text(struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)) == "null"
    assert value_text(struct_pb2.Value()) == "null"
    assert value_text(struct_pb2.Value(bool_value=True)) == "true"
    listed = struct_pb2.Value()
    listed.list_value.values.extend([text("a"), number(1)])
    assert value_text(listed) == '["a", 1.0]'


def test_run_records_one_line_per_record_with_before_and_after(invoke, fake_registry):
    fake_registry.replies["ListRunRecords"] = run_service_pb2.ListRunRecordsResponse(
        records=[created("woo-album"), price_update("woo-belt", "65", "60")])
    result = invoke("runs", "records", "r2")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "created      woo-album",
        "updated      woo-belt   price: 65 -> 60",
        "run r2: 2 record(s)"]
    [request] = fake_registry.requests("ListRunRecords")
    assert (request.run_id, list(request.actions), request.page_size) == ("r2", [], 50)


def test_run_records_pages_until_the_limit_and_filters_by_action(invoke, fake_registry):
    pages = iter([
        run_service_pb2.ListRunRecordsResponse(
            records=[created(f"s{i}") for i in range(3)], next_page_token="p2"),
        run_service_pb2.ListRunRecordsResponse(
            records=[created(f"s{i}") for i in range(3, 6)], next_page_token="p3")])
    fake_registry.replies["ListRunRecords"] = lambda request: next(pages)
    result = invoke("runs", "records", "r1", "--limit", "5", "--action", "created,updated")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:5] == [f"created      s{i}" for i in range(5)]
    assert lines[5] == ("run r1: 5 record(s) (created, updated); more: raise --limit "
                        "(0 lists all)")
    first, second = fake_registry.requests("ListRunRecords")
    assert list(first.actions) == [CREATED, UPDATED] and first.page_size == 5
    assert (second.page_token, second.page_size) == ("p2", 2)


def test_run_records_limit_0_lists_all_and_json_for_scripts(invoke, fake_registry):
    pages = iter([
        run_service_pb2.ListRunRecordsResponse(records=[created("a")], next_page_token="p2"),
        run_service_pb2.ListRunRecordsResponse(records=[price_update("b", "1", "2")])])
    fake_registry.replies["ListRunRecords"] = lambda request: next(pages)
    result = invoke("runs", "records", "r1", "--limit", "0", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [r["key"] for r in data["records"]] == [["a"], ["b"]]
    assert data["records"][1]["fields"] == [{"field": "price", "before": "1", "after": "2"}]
    assert data["nextPageToken"] == ""
    assert [r.page_size for r in fake_registry.requests("ListRunRecords")] == [500, 500]


def test_run_records_rejects_an_unknown_action(invoke, fake_registry):
    result = invoke("runs", "records", "r1", "--action", "renamed")
    assert result.exit_code == 2
    assert "'renamed' is not one of created, updated, deactivated, deleted" in result.output
    assert fake_registry.requests("ListRunRecords") == []


def test_a_run_without_a_changeset_is_an_error_line(invoke, fake_registry):
    fake_registry.replies["ListRunRecords"] = FakeRpcError.from_domain(
        errors.FailedPreconditionError("run r1 was a dry run: it wrote nothing, so it has "
                                       "no records"))
    result = invoke("runs", "records", "r1")
    assert result.exit_code == 1
    assert result.output.strip() == ("error: failed precondition: run r1 was a dry run: it "
                                     "wrote nothing, so it has no records")


def test_no_runner_answering_exits_3(invoke, fake_registry):
    fake_registry.replies["GetRecord"] = FakeRpcError(
        grpc.StatusCode.UNAVAILABLE, "no runner took the request within 9.5s; is a "
        "ferry-runner (and a ferry-scheduler to hand it requests) running?")
    result = invoke("records", "get", "woo", "woo-belt")
    assert result.exit_code == 3
    assert result.output.startswith("error: no runner answered: no runner took the request")
    fake_registry.replies["GetRecord"] = FakeRpcError(grpc.StatusCode.UNAVAILABLE,
                                                      "failed to connect to all addresses")
    result = invoke("records", "get", "woo", "woo-belt")
    assert result.exit_code == 1 and "registry unreachable" in result.output


def test_records_get_shows_the_row_and_the_runs_newest_first(invoke, fake_registry):
    fake_registry.replies["GetRecord"] = run_service_pb2.GetRecordResponse(
        record=record_pb2.StoredRecord(
            key=["woo-belt"], found=True, last_run_id="r2",
            values=[record_pb2.FieldValue(field="sku", value=text("woo-belt")),
                    record_pb2.FieldValue(field="price", value=text("60")),
                    record_pb2.FieldValue(field="brand", value=struct_pb2.Value(
                        null_value=struct_pb2.NULL_VALUE))],
            history=[price_update("woo-belt", "65", "60"),
                     record_pb2.RecordChange(run_id="r1", key=["woo-belt"], action=CREATED)]))
    result = invoke("records", "get", "woo", "woo-belt")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "profile: woo",
        "key:     woo-belt",
        "written by run r2",
        "  sku:   woo-belt",
        "  price: 60",
        "  (1 empty field(s) not shown; -o json has them)",
        "",
        "runs that touched it (newest first):",
        "  r2  updated      price: 65 -> 60",
        "  r1  created"]
    [request] = fake_registry.requests("GetRecord")
    assert (request.profile, list(request.key)) == ("woo", ["woo-belt"])


def test_records_get_of_an_absent_key_exits_1(invoke, fake_registry):
    fake_registry.replies["GetRecord"] = run_service_pb2.GetRecordResponse(
        record=record_pb2.StoredRecord(key=["nope"], found=False))
    result = invoke("records", "get", "woo", "nope", "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {"key": ["nope"]}
    result = invoke("records", "get", "woo", "nope")
    assert "no row with this key in the target" in result.output
    assert "no run recorded a change of it" in result.output


def test_runs_diff_names_the_keys_per_field(invoke, fake_registry):
    fake_registry.replies["DiffRuns"] = run_service_pb2.DiffRunsResponse(diff=record_pb2.RunDiff(
        run_a="r1", run_b="r2", runs=["r2"], created_count=3,
        created=[record_pb2.RecordKey(parts=["n1"]), record_pb2.RecordKey(parts=["n2"])],
        fields=[record_pb2.FieldDiff(field="price", count=2, changes=[
            record_pb2.KeyValueChange(key=["woo-belt"], value_a=text("65"), value_b=text("60")),
            record_pb2.KeyValueChange(key=["woo-cap"], value_a=text("18"), value_b=text("16")),
        ])]))
    result = invoke("runs", "diff", "r2", "r1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "from run r1 to run r2 (changes of run(s) r2)",
        "created: 3 key(s): n1; n2 and 1 more",
        "deleted: none",
        "price: 2 key(s) changed",
        "  woo-belt  65 -> 60",
        "  woo-cap   18 -> 16"]
    [request] = fake_registry.requests("DiffRuns")
    assert (request.run_a, request.run_b, request.key_limit) == ("r2", "r1", 50)
    result = invoke("runs", "diff", "r2", "r1", "-o", "json")
    assert json.loads(result.output)["fields"][0]["changes"][0] == {
        "key": ["woo-belt"], "valueA": "65", "valueB": "60"}
