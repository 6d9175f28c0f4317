"""The List filter language: parsing, values and error messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ferry.errors import InvalidArgumentError
from ferry.v1 import run_pb2
from ferry_registry.store import filters
from ferry_registry.store.runs import FILTER_FIELDS


def parse(text: str) -> list[filters.Comparison]:
    return filters.parse(text, FILTER_FIELDS)


def test_empty_filter_is_no_condition():
    assert parse("") == [] and parse("   ") == []


def test_conjunction_with_short_and_full_enum_names_and_quotes():
    found = parse('status = "FAILED" AND trigger = RUN_TRIGGER_SCHEDULE and '
                  "profile != 'stock feed' AND dry_run = TRUE")
    assert found == [
        filters.Comparison("status", "=", run_pb2.RUN_STATUS_FAILED),
        filters.Comparison("trigger", "=", run_pb2.RUN_TRIGGER_SCHEDULE),
        filters.Comparison("profile", "!=", "stock feed"),
        filters.Comparison("dry_run", "=", True),
    ]


def test_times_take_every_operator_and_normalize_to_utc():
    for op in ("=", "!=", ">=", "<=", ">", "<"):
        (found,) = parse(f'queue_time {op} "2026-01-01T01:00:00+01:00"')
        assert found.op == op
        assert found.value == datetime(2026, 1, 1, tzinfo=UTC)


def test_escaped_quotes_in_values():
    (found,) = parse(r'profile = "a \"quoted\" name"')
    assert found.value == 'a "quoted" name'


@pytest.mark.parametrize(("text", "problem"), [
    ("colour = red", "unknown field 'colour'"),
    ("status = NOPE", "not a valid status"),
    ("status >= FAILED", "operator >= is not allowed"),
    ("profile = a OR profile = b", "expected AND"),
    ("profile = a AND", "incomplete comparison"),
    ("profile", "incomplete comparison"),
    ("profile stock x", "expected an operator"),
    ("profile = =", "expected a value"),
    ('profile = "open', "unterminated quoted string"),
    ("profile = a; drop", "unexpected character ';'"),
    ("queue_time > tomorrow", "RFC 3339"),
    ("dry_run = yes", "true or false"),
])
def test_errors_say_what_is_wrong(text, problem):
    with pytest.raises(InvalidArgumentError) as caught:
        parse(text)
    assert problem in caught.value.message
    assert [v.field for v in caught.value.violations] == ["filter"]


def test_canonical_form_ignores_order_and_spelling():
    one = filters.canonical(parse('status = FAILED AND profile = "x"'))
    two = filters.canonical(parse("profile = x and status = RUN_STATUS_FAILED"))
    assert one == two
    assert one != filters.canonical(parse("profile = y AND status = FAILED"))
