"""How times, enums, tables and triggers are shown."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from ferry.v1 import run_pb2, schedule_pb2
from ferry_cli.output import elapsed, full_time, local_time, print_details, print_table, short_enum
from ferry_cli.runs import run_details, run_rows
from ferry_cli.schedules import describe_trigger
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp


@pytest.fixture
def paris(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def stamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


def test_times_are_local_and_compact(paris):
    now = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert local_time(stamp(datetime(2026, 11, 28, 9, 5, 7, tzinfo=UTC)), now) == "10:05:07"
    assert local_time(stamp(datetime(2026, 11, 27, 9, 5, tzinfo=UTC)), now) == "2026-11-27 10:05"
    assert local_time(Timestamp(), now) == "-"
    assert full_time(stamp(datetime(2026, 7, 1, 4, 0, tzinfo=UTC))) == "2026-07-01 06:00:00 +0200"


def test_elapsed():
    start = stamp(datetime(2026, 1, 1, 10, 0, tzinfo=UTC))
    end = stamp(datetime(2026, 1, 1, 11, 30, 5, tzinfo=UTC))
    assert elapsed(start, end) == "1h30m5s"
    assert elapsed(Timestamp(), end) == "-"


def test_short_enum():
    assert short_enum("RUN_STATUS_FAILED", "RUN_STATUS_") == "FAILED"
    assert short_enum("RUN_STATUS_UNSPECIFIED", "RUN_STATUS_") == "-"


@pytest.mark.parametrize(("schedule", "text"), [
    (schedule_pb2.Schedule(hourly=schedule_pb2.HourlyTrigger(minute=5)), "hourly at :05"),
    (schedule_pb2.Schedule(daily=schedule_pb2.DailyTrigger(
        time=schedule_pb2.TimeOfDay(hours=6, minutes=30))), "daily 06:30"),
    (schedule_pb2.Schedule(weekly=schedule_pb2.WeeklyTrigger(
        day=schedule_pb2.WEEKDAY_MONDAY, time=schedule_pb2.TimeOfDay(hours=6))),
     "weekly mon 06:00"),
    (schedule_pb2.Schedule(cron=schedule_pb2.CronTrigger(expression="*/5 * * * *")),
     "cron */5 * * * *"),
    (schedule_pb2.Schedule(interval=schedule_pb2.IntervalTrigger(every=Duration(seconds=5400)))
     , "every 1h30m"),
    (schedule_pb2.Schedule(manual=schedule_pb2.ManualTrigger()), "manual"),
])
def test_describe_trigger(schedule, text):
    assert describe_trigger(schedule) == text


def test_table_has_headers_and_rows(capsys):
    print_table(["ID", "STATUS"], [["r-1", "FAILED"], ["r-2", "COMPLETED"]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "STATUS"]
    assert [line.split() for line in lines[1:]] == [["r-1", "FAILED"], ["r-2", "COMPLETED"]]


def test_empty_table_says_so(capsys):
    print_table(["ID"], [], empty="no runs")
    assert capsys.readouterr().out == "no runs\n"


def test_run_row_and_details():
    run = run_pb2.Run(id="r-1", profile="stock-feed", status=run_pb2.RUN_STATUS_WARNING,
                      trigger=run_pb2.RUN_TRIGGER_SCHEDULE, dry_run=True,
                      counts=run_pb2.RunCounts(rows_read=10, created=2, updated=7, skipped=1,
                                               filtered=3),
                      first_error=run_pb2.RowError(row=4, field="price", message="not a number"),
                      attempt=1, max_attempts=3)
    row = run_rows([run])[0]
    assert row[:4] == ["r-1", "stock-feed", "WARNING (dry run)", "schedule"]
    assert row[6:] == ["10", "2", "7", "1", "3", "0"]
    details = dict(run_details(run))
    assert details["rows"] == "read 10, created 2, updated 7, skipped 1, filtered 3"
    assert details["first error"] == "row 4, price: not a number"
    assert details["attempt"] == "1 of 3"


def test_details_skip_empty_values(capsys):
    print_details([("id", "r-1"), ("error", ""), ("hint", "-"), ("status", "FAILED")])
    assert capsys.readouterr().out == "id:     r-1\nstatus: FAILED\n"
