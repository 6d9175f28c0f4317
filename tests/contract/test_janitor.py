"""The janitor: run history kept N days and at least the newest M runs per
profile; old terminal runs go with their events and rejected rows; queued and
running runs stay; failed source files older than keep_failed_days are purged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import grpc
from ferry.v1 import execution_service_pb2, profile_pb2, run_pb2, run_service_pb2

from tests.contract.helpers import (
    apply,
    claim,
    expect_error,
    finish,
    get_run,
    list_runs,
    profile,
    start_run,
    when,
)


def runs_of(client, name: str) -> set[str]:
    return {r.id for r in list_runs(client, f'profile = "{name}"', page_size=1000).runs}


def count_rows(internals, model, run_id: str) -> int:
    from sqlalchemy import func, select

    with internals.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)
                              .where(model.run_id == run_id))


def test_janitor_keeps_recent_and_newest_runs_with_their_events(client, clock, internals):
    from ferry_registry.db.models import RejectedRowRow, RunEventRow

    kept = profile("kept")
    kept.retention.CopyFrom(profile_pb2.RetentionPolicy(keep_runs_days=10, keep_min_runs=2))
    apply(client, kept)
    apply(client, profile("defaults"))  # registry defaults: 90 days, 100 runs
    old = start_run(client, "kept")
    finish(client, claim(client, old.id), run_pb2.RUN_STATUS_WARNING,
           rejected_rows=[run_service_pb2.RejectedRow(row=3, message="bad price")])
    assert count_rows(internals, RejectedRowRow, old.id) == 1
    newer = []
    for _ in range(2):
        clock.advance(timedelta(days=1))
        run = start_run(client, "kept")
        finish(client, claim(client, run.id), run_pb2.RUN_STATUS_FAILED)
        newer.append(run.id)
    defaults_old = start_run(client, "defaults")
    finish(client, claim(client, defaults_old.id))

    clock.advance(timedelta(days=5))  # nothing is older than 10 days yet
    assert internals.janitor.run_once().runs_deleted == 0
    clock.advance(timedelta(days=30))  # all three are old; the newest two are kept
    assert internals.janitor.run_once().runs_deleted == 1
    assert runs_of(client, "kept") == set(newer)
    expect_error(grpc.StatusCode.NOT_FOUND, client.runs.GetRun,
                 run_service_pb2.GetRunRequest(id=old.id))
    assert count_rows(internals, RunEventRow, old.id) == 0
    assert count_rows(internals, RejectedRowRow, old.id) == 0
    assert count_rows(internals, RunEventRow, newer[0]) > 0
    assert internals.history.purge_runs() == 0  # idempotent

    assert runs_of(client, "defaults") == {defaults_old.id}  # 35 days < 90
    clock.advance(timedelta(days=60))
    internals.janitor.run_once()
    # 95 days old, but it is one of the newest 100 runs of its profile (default).
    assert runs_of(client, "defaults") == {defaults_old.id}
    assert runs_of(client, "kept") == set(newer)


def test_janitor_never_deletes_queued_or_running_runs(client, clock, internals):
    busy = profile("busy")
    busy.retention.CopyFrom(profile_pb2.RetentionPolicy(keep_runs_days=1, keep_min_runs=1))
    apply(client, busy)
    running = start_run(client, "busy")
    claim(client, running.id, lease=timedelta(hours=1))
    queued = start_run(client, "busy")
    cancelled = [start_run(client, "busy") for _ in range(2)]
    for run in cancelled:
        client.runs.CancelRun(run_service_pb2.CancelRunRequest(id=run.id))
    clock.advance(timedelta(days=30))
    assert internals.janitor.run_once().runs_deleted == 1
    assert runs_of(client, "busy") == {running.id, queued.id, cancelled[1].id}
    assert get_run(client, running.id).status == run_pb2.RUN_STATUS_RUNNING


def test_janitor_deletes_in_batches_beyond_the_newest_runs(client, clock, internals):
    apply(client)
    internals.history._batch = 3  # small batches: several transactions per pass
    ids = []
    for _ in range(8):
        run = start_run(client)
        finish(client, claim(client, run.id))
        ids.append(run.id)
        clock.advance(timedelta(minutes=1))
    internals.history._defaults = type(internals.history._defaults)(days=1, min_runs=3)
    clock.advance(timedelta(days=2))
    assert internals.janitor.run_once().runs_deleted == 5
    assert runs_of(client, "stock") == set(ids[-3:])


def test_janitor_purges_failed_source_files_older_than_keep_failed_days(client, clock,
                                                                        internals, tmp_path):
    failed = tmp_path / "failed"
    old_file = failed / "2026" / "02" / "20" / "stock.csv"
    new_file = failed / "2026" / "03" / "01" / "stock.csv"
    for path in (old_file, new_file):
        path.parent.mkdir(parents=True)
        path.write_text("sku\n1\n")
    prof = profile()
    prof.retention.CopyFrom(profile_pb2.RetentionPolicy(failed_dir=str(failed),
                                                        keep_failed_days=7))
    apply(client, prof)
    assert internals.janitor.run_once().files_purged == 1  # clock: 2026-03-02
    assert not old_file.exists() and new_file.exists()
    assert not Path(failed / "2026" / "02").exists()


def test_keep_min_runs_counts_runs_that_did_work_not_unchanged_ones(client, clock, internals):
    quiet = profile("quiet")
    quiet.retention.CopyFrom(profile_pb2.RetentionPolicy(keep_runs_days=1, keep_min_runs=2))
    apply(client, quiet)
    worked = []
    for _ in range(3):
        run = start_run(client, "quiet")
        finish(client, claim(client, run.id))
        worked.append(run.id)
        clock.advance(timedelta(minutes=1))
    unchanged = []
    for _ in range(4):  # a quiet feed: nothing new on every later tick
        run = start_run(client, "quiet")
        finish(client, claim(client, run.id), run_pb2.RUN_STATUS_UNCHANGED)
        unchanged.append(run.id)
        clock.advance(timedelta(minutes=1))
    clock.advance(timedelta(days=2))
    assert internals.janitor.run_once().runs_deleted == 5
    # The newest two runs that imported something stay; the UNCHANGED ones go by age.
    assert runs_of(client, "quiet") == set(worked[-2:])


def test_a_failed_runs_evidence_stays_until_a_later_live_run_completes(client, clock,
                                                                       internals):
    from ferry_registry.db.models import RejectedRowRow

    feed = profile("feed")
    feed.retention.CopyFrom(profile_pb2.RetentionPolicy(keep_runs_days=3, keep_min_runs=1))
    apply(client, feed)
    failed = start_run(client, "feed")
    finish(client, claim(client, failed.id), run_pb2.RUN_STATUS_FAILED,
           rejected_rows=[run_service_pb2.RejectedRow(row=2, message="bad price")])
    clock.advance(timedelta(days=1))
    dry = start_run(client, "feed", dry_run=True)  # a dry run does not solve it
    finish(client, claim(client, dry.id))
    clock.advance(timedelta(days=30))  # far past the keep days: still pinned
    internals.janitor.run_once()
    assert failed.id in runs_of(client, "feed")
    assert count_rows(internals, RejectedRowRow, failed.id) == 1

    fixed = start_run(client, "feed")  # the later live run completes: released
    finish(client, claim(client, fixed.id), run_pb2.RUN_STATUS_WARNING)
    clock.advance(timedelta(days=2))  # the keep days count from the release
    internals.janitor.run_once()
    assert failed.id in runs_of(client, "feed")
    clock.advance(timedelta(days=2))
    internals.janitor.run_once()
    assert failed.id not in runs_of(client, "feed")
    assert count_rows(internals, RejectedRowRow, failed.id) == 0


def pins_of(client, name: str) -> list[execution_service_pb2.FailedFilePin]:
    return list(client.execution.GetFailedFilePins(
        execution_service_pb2.GetFailedFilePinsRequest(profile=name)).pins)


def moved_to_failed(path: Path) -> run_pb2.RetentionAction:
    return run_pb2.RetentionAction(kind=run_pb2.RETENTION_ACTION_KIND_MOVED_TO_FAILED,
                                   path=str(path), detail="run failed")


def test_a_failed_runs_source_file_stays_until_released_then_keep_failed_days(
        client, clock, internals, tmp_path):
    failed = tmp_path / "failed"
    pinned = failed / "2026" / "02" / "20" / "stock.csv"  # clock: 2026-03-02
    stray = failed / "2026" / "02" / "20" / "other.csv"  # no run knows it
    for path in (pinned, stray):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("sku\n1\n")
    prof = profile("feed")
    prof.retention.CopyFrom(profile_pb2.RetentionPolicy(failed_dir=str(failed),
                                                        keep_failed_days=7))
    apply(client, prof)
    run = start_run(client, "feed")
    finish(client, claim(client, run.id), run_pb2.RUN_STATUS_FAILED,
           retention_actions=[moved_to_failed(pinned)])
    dry = start_run(client, "feed", dry_run=True)  # a dry run does not solve it
    finish(client, claim(client, dry.id))
    assert internals.history.failed_file_pins("feed") == {str(pinned): None}
    [pin] = pins_of(client, "feed")  # what a runner asks before it purges
    assert pin.path == str(pinned) and not pin.HasField("release_time")

    clock.advance(timedelta(days=30))
    assert internals.janitor.run_once().files_purged == 1
    assert pinned.exists() and not stray.exists()

    fixed = start_run(client, "feed")  # a later live run completes: released
    finish(client, claim(client, fixed.id))
    assert internals.history.failed_file_pins("feed") == {str(pinned): clock.now()}
    [pin] = pins_of(client, "feed")
    assert when(pin.release_time) == clock.now()
    clock.advance(timedelta(days=7))
    assert internals.janitor.run_once().files_purged == 0
    assert pinned.exists()
    clock.advance(timedelta(days=1))
    assert internals.janitor.run_once().files_purged == 1
    assert not pinned.exists()
