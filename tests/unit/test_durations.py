"""ferry.durations: the one duration grammar (docs/durations.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ferry.durations import (
    MAX_SECONDS,
    check_duration,
    format_duration,
    parse_duration,
    parse_duration_proto,
)
from google.protobuf.duration_pb2 import Duration


@pytest.mark.parametrize(("text", "expected"), [
    ("250ms", timedelta(milliseconds=250)),
    ("30s", timedelta(seconds=30)),
    ("10m", timedelta(minutes=10)),
    ("2h", timedelta(hours=2)),
    ("7d", timedelta(days=7)),
])
def test_every_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("90", timedelta(seconds=90)),
    ("1.5", timedelta(seconds=1.5)),
    ("0", timedelta(0)),
    ("0s", timedelta(0)),
    ("1.5h", timedelta(minutes=90)),
    ("0.25s", timedelta(milliseconds=250)),
    ("1.5ms", timedelta(microseconds=1500)),
])
def test_plain_numbers_are_seconds_and_amounts_may_have_decimals(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d12h", timedelta(days=1, hours=12)),
    ("2m30s", timedelta(minutes=2, seconds=30)),
    ("1s500ms", timedelta(seconds=1, milliseconds=500)),
    ("1d2h3m4s5ms", timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)),
    ("1d30s", timedelta(days=1, seconds=30)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    ("30 s", timedelta(seconds=30)),
    ("  2h  ", timedelta(hours=2)),
])
def test_combinations_largest_unit_first_with_optional_spaces(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (90, timedelta(seconds=90)),
    (1.5, timedelta(seconds=1.5)),
    (0, timedelta(0)),
])
def test_yaml_numbers_are_seconds(value, expected):
    assert parse_duration(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("", "is not a duration"),
    ("soon", "is not a duration"),
    ("30S", "is not a duration"),
    ("1h30", "is not a duration"),
    ("1 0s", "is not a duration"),
    (".5s", "is not a duration"),
    ("1e3", "is not a duration"),
    ("inf", "is not a duration"),
    ("nan", "is not a duration"),
    ("1w", "is not a duration"),
    ("30m1h", "largest unit first"),
    ("5m5m", "each unit once"),
    ("1s1d", "largest unit first"),
    ("-5", "not negative"),
    ("-1h", "not negative"),
    (-1, "0 or more"),
    (float("inf"), "0 or more"),
    (float("nan"), "0 or more"),
    (True, "is not a duration"),
    (None, "is not a duration"),
    (["1h"], "is not a duration"),
    ("3652501d", "longer than the longest"),
    (10**20, "longer than the longest"),
])
def test_bad_input_names_the_value_and_the_reason(value, reason):
    with pytest.raises(ValueError, match=reason) as caught:
        parse_duration(value)
    if isinstance(value, str) and value:
        assert f'"{value}"' in str(caught.value)


def test_the_longest_duration_is_what_protobuf_holds():
    longest = parse_duration(f"{MAX_SECONDS}s")
    assert parse_duration_proto(f"{MAX_SECONDS}s").seconds == MAX_SECONDS
    assert format_duration(longest) == "3652500d"


def test_errors_give_examples():
    with pytest.raises(ValueError) as caught:
        parse_duration("soon")
    assert "30s" in str(caught.value) and "7d" in str(caught.value)


def test_proto_form():
    assert parse_duration_proto("1h30m") == Duration(seconds=5400)
    assert parse_duration_proto("1.5") == Duration(seconds=1, nanos=500_000_000)
    assert parse_duration_proto(90) == Duration(seconds=90)


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(0), "0s"),
    (timedelta(seconds=45), "45s"),
    (timedelta(seconds=60), "1m"),
    (timedelta(seconds=90), "1m30s"),
    (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(days=7), "7d"),
    (timedelta(days=1, hours=2, seconds=3), "1d2h3s"),
    (timedelta(seconds=1.5), "1.5s"),
    (timedelta(milliseconds=250), "0.25s"),
    (timedelta(seconds=1.123456), "1.123456s"),
    (Duration(seconds=5400), "1h30m"),
    (Duration(seconds=1, nanos=500_000_000), "1.5s"),
    (3600.0, "1h"),
    (-90.0, "-1m30s"),
])
def test_format_writes_the_compact_form(value, text):
    assert format_duration(value) == text


@pytest.mark.parametrize("text", ["250ms", "30s", "10m", "2h", "7d", "1h30m", "1d2h3m4s5ms",
                                  "1.5", "0", "1h 30m", "3652500d"])
def test_format_reads_back(text):
    duration = parse_duration(text)
    assert parse_duration(format_duration(duration)) == duration


def test_wire_durations_must_not_be_negative():
    assert check_duration(Duration(seconds=30), "schedule.jitter") == []
    assert check_duration(Duration(), "schedule.jitter") == []
    for negative in (Duration(seconds=-1), Duration(nanos=-5), Duration(seconds=1, nanos=-5)):
        [violation] = check_duration(negative, "profile.source.timeout")
        assert violation.field == "profile.source.timeout"
        assert "negative" in violation.description
