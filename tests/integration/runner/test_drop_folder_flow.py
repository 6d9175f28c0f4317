"""Drop folders through the real services (registry, scheduler, runner,
RabbitMQ, the ``ferry`` CLI; issue 12, defect b): an empty folder is quiet,
a lost folder fails, half-written and unmarked files wait, ``each`` imports
every dropped file once, and a known checksum is not imported again unless
forced. File ages are set with ``os.utime``: no test waits for a clock."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient, all_pages
from ferry.v1 import (
    dispatch_service_pb2,
    profile_pb2,
    run_pb2,
    run_service_pb2,
    schedule_pb2,
    schedule_service_pb2,
)
from google.protobuf import duration_pb2, timestamp_pb2

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]


def drop_profile(name: str, folder: Path, *, selection: int = profile_pb2.FILE_SELECTION_NEWEST,
                 **source: object) -> profile_pb2.Profile:
    profile = stack.products_profile(name, folder / "unused.csv",
                                     location=str(folder / "*.csv"))
    profile.source.selection = selection
    for key, value in source.items():
        if isinstance(value, duration_pb2.Duration):
            getattr(profile.source, key).CopyFrom(value)
        else:
            setattr(profile.source, key, value)
    return profile


def drop(folder: Path, name: str, first_sku: int, rows: int = 5, age: float = 600) -> Path:
    """A products file whose SKUs start at ``first_sku``, modified ``age`` seconds ago."""
    path = folder / name
    path.write_text("sku,name,price,quantity\n" + "".join(
        f"SKU-{i:07d},Product {i},1.00,1\n" for i in range(first_sku, first_sku + rows)))
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


class Ticks:
    """Scheduled fires of a manual-trigger schedule, as the scheduler makes them."""

    def __init__(self, client: RegistryClient, profile: str, auto_pause_after: int = 0) -> None:
        self.client = client
        self.profile = profile
        self.schedule = client.schedules.CreateSchedule(
            schedule_service_pb2.CreateScheduleRequest(schedule=schedule_pb2.Schedule(
                profile=profile, manual=schedule_pb2.ManualTrigger(),
                auto_pause_after=auto_pause_after))).schedule
        self.hour = 0

    def fire(self) -> run_pb2.Run:
        self.hour += 1
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(datetime(2026, 3, 2, self.hour, tzinfo=UTC))
        return self.client.dispatch.CreateRun(dispatch_service_pb2.CreateRunRequest(
            profile=self.profile, schedule_id=self.schedule.id, fire_time=stamp,
            trigger=run_pb2.RUN_TRIGGER_SCHEDULE)).run

    def get(self) -> schedule_pb2.Schedule:
        return self.client.schedules.GetSchedule(
            schedule_service_pb2.GetScheduleRequest(id=self.schedule.id)).schedule


def runs_of(client: RegistryClient, profile: str) -> list[run_pb2.Run]:
    return list(all_pages(client.runs.ListRuns, run_service_pb2.ListRunsRequest(
        filter=f'profile = "{profile}"', page_size=100), "runs"))


def live(client: RegistryClient, profile: str, alive: Callable[[], None], *,
         force: bool = False) -> run_pb2.Run:
    run = stack.start_run(client, profile, force=force)
    return stack.wait_terminal(client, run.id, 60, alive)


def test_an_empty_drop_folder_is_quiet_and_a_lost_one_fails(
        tmp_path: Path, client: RegistryClient, registry: ServiceProcess,
        services: list[ServiceProcess], run_cli: Callable) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    stack.apply_profile(client, drop_profile("drops", folder))
    alive = stack.assert_alive(*services)
    ticks = Ticks(client, "drops", auto_pause_after=2)

    for _ in range(3):
        run = stack.wait_terminal(client, ticks.fire().id, 60, alive)
        assert stack.status_name(run) == "RUN_STATUS_UNCHANGED", run
        assert run.freshness.reason == run_pb2.FRESHNESS_REASON_NO_NEW_INPUT
        assert run.freshness.reason_detail == "no new input"
    schedule = ticks.get()
    assert not schedule.paused and schedule.consecutive_failures == 0, schedule

    waited = run_cli("runs", "start", "drops", "--wait", registry=registry, timeout=90)
    assert waited.returncode == 0, waited.stdout + waited.stderr
    shown = run_cli("runs", "get", runs_of(client, "drops")[0].id, registry=registry)
    assert "no new input" in shown.stdout

    stack.apply_profile(client, drop_profile("drops", tmp_path / "lost-mount"))
    lost = live(client, "drops", alive)
    assert stack.status_name(lost) == "RUN_STATUS_FAILED", lost
    assert lost.error_class == run_pb2.ERROR_CLASS_PERMANENT
    assert "lost-mount does not exist" in lost.error_message


def test_half_written_and_unmarked_files_wait(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    stack.apply_profile(client, drop_profile(
        "settled", folder, stable_for=duration_pb2.Duration(seconds=30)))
    alive = stack.assert_alive(*services)
    target = f"sqlite:///{tmp_path / 'target.db'}"

    upload = drop(folder, "upload.csv", 1, age=5)  # still being uploaded
    early = live(client, "settled", alive)
    assert stack.status_name(early) == "RUN_STATUS_UNCHANGED", early
    assert early.freshness.reason_detail.startswith("no new input; waiting: upload.csv")
    assert "stable_for 30s" in early.freshness.reason_detail
    assert not (tmp_path / "target.db").exists()

    settled = time.time() - 120
    os.utime(upload, (settled, settled))
    done = live(client, "settled", alive)
    assert stack.status_name(done) == "RUN_STATUS_COMPLETED", done
    assert done.counts.created == 5

    stack.apply_profile(client, drop_profile("marked", folder, ready_marker="{name}.done"))
    drop(folder, "next.csv", 100, age=60)
    unmarked = live(client, "marked", alive)
    assert stack.status_name(unmarked) == "RUN_STATUS_UNCHANGED", unmarked
    assert "next.csv (waiting for its marker next.csv.done)" in unmarked.freshness.reason_detail
    (folder / "next.csv.done").write_text("")
    (folder / "upload.csv.done").write_text("")
    marked = live(client, "marked", alive)
    assert stack.status_name(marked) == "RUN_STATUS_COMPLETED", marked
    assert stack.target_row(target, "SKU-0000100") is not None


def test_each_imports_three_dropped_files_once_across_two_ticks(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    stack.apply_profile(client, drop_profile("feed", folder,
                                             selection=profile_pb2.FILE_SELECTION_EACH))
    alive = stack.assert_alive(*services)
    for index, name in enumerate(["mon.csv", "tue.csv", "wed.csv"]):
        drop(folder, name, 1 + 10 * index, age=900 - 100 * index)
    ticks = Ticks(client, "feed")

    first = stack.wait_terminal(client, ticks.fire().id, 60, alive)
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first

    def three_done() -> bool:
        finished = [r for r in runs_of(client, "feed") if r.status in stack.TERMINAL]
        return len(finished) >= 3 and all(r.status in stack.TERMINAL
                                          for r in runs_of(client, "feed"))

    stack.wait_for(three_done, 60, "the follow-up runs to import the other files")
    second = stack.wait_terminal(client, ticks.fire().id, 60, alive)
    assert stack.status_name(second) == "RUN_STATUS_UNCHANGED", second
    assert second.freshness.reason_detail == "no new input"

    runs = sorted(runs_of(client, "feed"), key=lambda r: r.queue_time.ToDatetime())
    imported = [r for r in runs if r.status == run_pb2.RUN_STATUS_COMPLETED]
    assert [r.counts.created for r in imported] == [5, 5, 5]
    assert [r.trigger for r in imported] == [run_pb2.RUN_TRIGGER_SCHEDULE,
                                             run_pb2.RUN_TRIGGER_FOLLOW_UP,
                                             run_pb2.RUN_TRIGGER_FOLLOW_UP]
    assert [r.freshness.reason_detail for r in imported] == [
        "new file mon.csv", "new file tue.csv", "new file wed.csv"]
    assert len(runs) == 4
    assert stack.target_rows(f"sqlite:///{tmp_path / 'target.db'}") == 15


def test_known_content_under_a_new_name_is_not_imported_unless_forced(
        tmp_path: Path, client: RegistryClient, services: list[ServiceProcess]) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    stack.apply_profile(client, drop_profile("supplier", folder))
    alive = stack.assert_alive(*services)
    original = drop(folder, "catalog-1.csv", 1, age=900)
    first = live(client, "supplier", alive)
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first

    renamed = folder / "catalog-2.csv"
    shutil.copyfile(original, renamed)
    stamp = time.time() - 300
    os.utime(renamed, (stamp, stamp))
    again = live(client, "supplier", alive)
    assert stack.status_name(again) == "RUN_STATUS_UNCHANGED", again
    assert again.freshness.reason == run_pb2.FRESHNESS_REASON_SAME_CONTENT
    assert again.freshness.reason_detail == \
        f"same content as catalog-1.csv imported by run {first.id}"

    forced = live(client, "supplier", alive, force=True)
    assert stack.status_name(forced) == "RUN_STATUS_COMPLETED", forced
    assert forced.counts.unchanged == 5
