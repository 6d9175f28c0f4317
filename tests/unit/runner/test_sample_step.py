"""The sampling step: the first N source records, masked, saved with the run.

Real CSV files and the engine's readers; a fake registry and engine for the
executor. Covers which runs are sampled, what the sample holds, that masks
are stable under one key, that a sampling error is a warning (never a failed
run), that retention still moves the file after it was sampled, and the
masking key (FERRY_MASK_KEY or a generated <state>/mask.key).
"""

from __future__ import annotations

import csv
import os
import re
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ferry.config import ConfigError
from ferry.mask_key import load_mask_key
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.runs.states import ErrorClass, RunStatus
from ferry_runner.config import RunnerConfig
from ferry_runner.outcome import FinishPlan, counts_dict
from ferry_runner.retention_step import apply_retention
from ferry_runner.sample_step import Sampler, read_first_records

from tests.unit.runner.test_execution import (
    Counts,
    FakeRegistry,
    Result,
    executor,
    make_claim,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\d[\d ]{6,}\d")
COLUMNS = ["email", "first_name", "phone", "city", "note"]


def write_customers(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(1, rows + 1):
            writer.writerow([f"user{i}@example.com", f"Name{i}", f"+33 6 12 34 {i:02d} 78",
                             "Lyon", f"call 06 12 34 56 {i:02d} or mail alt{i}@shop.test"])
    return path


def customers_profile(location: Path | str, sample_rows: int = 3,
                      kind: int = profile_pb2.SOURCE_KIND_FILE) -> profile_pb2.Profile:
    return profile_pb2.Profile(
        name="customers", entity_type="customers", operation=profile_pb2.OPERATION_IMPORT,
        source=profile_pb2.Source(kind=kind, location=str(location),
                                  format=profile_pb2.Format(kind=profile_pb2.FORMAT_KIND_CSV)),
        retention=profile_pb2.RetentionPolicy(sample_rows=sample_rows,
                                              masked_fields=["first_name"]))


def plan(status: RunStatus = RunStatus.COMPLETED, **fields: Any) -> FinishPlan:
    return FinishPlan(status=status, counts=counts_dict(None), **fields)


def read_sample(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_first_records_are_read_with_the_engine_reader(tmp_path: Path) -> None:
    source = customers_profile(write_customers(tmp_path / "c.csv", 50)).source
    rows = read_first_records(source, 4)
    assert len(rows) == 4 and list(rows[0]) == COLUMNS
    assert rows[3]["email"] == "user4@example.com"


def test_first_records_span_the_files_of_a_glob(tmp_path: Path) -> None:
    write_customers(tmp_path / "a.csv", 2)
    write_customers(tmp_path / "b.csv", 2)
    source = customers_profile(tmp_path / "*.csv").source
    source.selection = profile_pb2.FILE_SELECTION_EACH
    assert len(read_first_records(source, 3)) == 3


def test_a_file_source_samples_the_files_the_run_read(tmp_path: Path) -> None:
    read = write_customers(tmp_path / "[old].csv", 2)  # glob characters in the name
    os.utime(read, (1, 1))
    (tmp_path / "new.csv").write_text(",".join(COLUMNS) + "\n")  # arrived after the run
    source = customers_profile(tmp_path / "*.csv").source
    assert read_first_records(source, 5) == []  # the glob now picks the newer, empty file
    rows = read_first_records(source, 5, paths=[str(read)])
    assert len(rows) == 2 and rows[0]["email"] == "user1@example.com"


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.WARNING, RunStatus.FAILED])
def test_sample_is_saved_masked_for_completed_warning_and_failed_runs(
        tmp_path: Path, status: str) -> None:
    profile = customers_profile(write_customers(tmp_path / "c.csv", 20), sample_rows=5)
    sampler = Sampler(tmp_path / "samples", KEY)
    done = sampler.apply(profile, plan(status, warnings=("w",)), run_id="run/1", now=NOW)
    assert done.status == status and done.warnings == ("w",)
    assert done.sample_location == str(tmp_path / "samples" / "run_1.sample.csv")
    rows = read_sample(done.sample_location)
    assert len(rows) == 5 and list(rows[0]) == COLUMNS
    text = Path(done.sample_location).read_text()
    assert not EMAIL.search(text), text
    assert not PHONE.search(text), text
    assert "user1" not in text and "Name1" not in text and "Lyon" not in text
    [action] = done.retention_actions
    assert action.kind == run_pb2.RETENTION_ACTION_KIND_SAMPLE_SAVED
    assert action.path == done.sample_location and "5 rows" in action.detail


def test_same_value_masks_the_same_way_across_runs_under_one_key(tmp_path: Path) -> None:
    profile = customers_profile(write_customers(tmp_path / "c.csv", 3))
    first = Sampler(tmp_path / "s", KEY).apply(profile, plan(), run_id="r1", now=NOW)
    second = Sampler(tmp_path / "s", KEY).apply(profile, plan(), run_id="r2", now=NOW)
    other = Sampler(tmp_path / "s", b"o" * 32).apply(profile, plan(), run_id="r3", now=NOW)
    a, b, c = (read_sample(p.sample_location) for p in (first, second, other))
    assert a == b and a[0]["email"] != a[1]["email"]
    assert a[0]["email"] != c[0]["email"]


@pytest.mark.parametrize("case", ["unchanged", "cancelled", "no rows", "export", "connector"])
def test_runs_that_are_not_sampled(tmp_path: Path, case: str) -> None:
    profile = customers_profile(write_customers(tmp_path / "c.csv", 3),
                                sample_rows=0 if case == "no rows" else 3)
    status = {"unchanged": RunStatus.UNCHANGED,
              "cancelled": RunStatus.CANCELLED}.get(case, RunStatus.COMPLETED)
    if case == "export":
        profile.operation = profile_pb2.OPERATION_EXPORT
    if case == "connector":
        profile.source.kind = profile_pb2.SOURCE_KIND_CONNECTOR
    before = plan(status)
    assert Sampler(tmp_path / "samples", KEY).apply(profile, before, run_id="r",
                                                    now=NOW) is before
    assert not (tmp_path / "samples").exists()


def test_a_sampling_error_is_a_warning_not_a_failed_run(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    profile = customers_profile(tmp_path / "gone.csv")
    done = Sampler(tmp_path / "samples", KEY).apply(profile,
                                                    plan(RunStatus.FAILED, warnings=("w",)),
                                                    run_id="r", now=NOW)
    assert done.status == RunStatus.FAILED and not done.sample_location
    assert done.warnings[0] == "w" and done.warnings[1].startswith("sample not saved: ")
    assert "gone.csv" in done.warnings[1]
    assert "could not save the masked sample" in caplog.text


def test_an_unwritable_samples_folder_is_a_warning(tmp_path: Path) -> None:
    profile = customers_profile(write_customers(tmp_path / "c.csv", 3))
    (tmp_path / "taken").write_text("a file, not a folder")
    done = Sampler(tmp_path / "taken", KEY).apply(profile, plan(), run_id="r", now=NOW)
    assert done.status == RunStatus.COMPLETED and not done.sample_location
    assert len(done.warnings) == 1 and "sample not saved" in done.warnings[0]


def test_an_empty_source_saves_no_sample_and_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(COLUMNS) + "\n")
    done = Sampler(tmp_path / "s", KEY).apply(customers_profile(path), plan(), run_id="r",
                                             now=NOW)
    assert not done.sample_location and not done.warnings


def test_the_file_is_sampled_before_retention_moves_it(tmp_path: Path) -> None:
    source = write_customers(tmp_path / "c.csv", 3)
    profile = customers_profile(source)
    profile.retention.on_success = profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP
    profile.retention.backup_dir = str(tmp_path / "backup")
    sampled = Sampler(tmp_path / "s", KEY).apply(
        profile, plan(source_paths=(str(source),)), run_id="r", now=NOW)
    done = apply_retention(profile, sampled, dry_run=False, now=NOW)
    assert [a.kind for a in done.retention_actions] == [
        run_pb2.RETENTION_ACTION_KIND_SAMPLE_SAVED, run_pb2.RETENTION_ACTION_KIND_MOVED_TO_BACKUP]
    assert not source.exists() and Path(done.sample_location).exists()


def test_executor_saves_the_sample_before_finishing(tmp_path: Path) -> None:
    source = write_customers(tmp_path / "c.csv", 10)
    claim = make_claim()
    claim.profile.CopyFrom(customers_profile(source, sample_rows=2))
    claim.profile.retry.max_attempts = 1

    def engine(profile: Any, **kwargs: Any) -> Result:
        return Result(RunStatus.FAILED, Counts(rows_read=10, errors=10),
                      error_class=ErrorClass.PERMANENT,
                      error_message="too many rows in error")

    registry = FakeRegistry()
    run = executor(registry, engine)
    run._sampler = Sampler(tmp_path / "samples", KEY)
    run.execute(claim)
    finished, _ = registry.finished[0]
    assert finished.status == RunStatus.FAILED
    assert finished.sample_location == str(tmp_path / "samples" / "run-1.sample.csv")
    assert len(read_sample(finished.sample_location)) == 2
    assert [a.kind for a in finished.retention_actions] == [
        run_pb2.RETENTION_ACTION_KIND_SAMPLE_SAVED]


# -- the masking key -------------------------------------------------------------------

def test_generated_key_is_kept_private_and_stable(tmp_path: Path) -> None:
    key = load_mask_key("", tmp_path / "state")
    path = tmp_path / "state" / "mask.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and load_mask_key("", tmp_path / "state") == key
    assert load_mask_key("", tmp_path / "other") != key
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["mask.key"]
    # The file doubles as a secret reference for other runners: same key.
    assert load_mask_key(f"file:{path}", tmp_path / "elsewhere") == key


def test_runners_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_mask_key("", tmp_path)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_key_from_a_secret_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_MASK_KEY", "a-shared-key-of-some-length")
    assert load_mask_key("env:TEST_MASK_KEY", tmp_path) == b"a-shared-key-of-some-length"
    assert not (tmp_path / "mask.key").exists()
    monkeypatch.setenv("TEST_MASK_KEY", "short")
    with pytest.raises(ConfigError, match="FERRY_MASK_KEY.*at least 16"):
        load_mask_key("env:TEST_MASK_KEY", tmp_path)
    with pytest.raises(ConfigError, match="FERRY_MASK_KEY.*TEST_MISSING_KEY"):
        load_mask_key("env:TEST_MISSING_KEY", tmp_path)


def test_unusable_key_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "mask.key").write_text("\n")
    with pytest.raises(ConfigError, match="mask.key holds no usable key"):
        load_mask_key("", tmp_path)


def test_config_reads_samples_dir_and_mask_key_reference(tmp_path: Path) -> None:
    config = RunnerConfig.from_env({"FERRY_STATE_DIR": str(tmp_path)})
    assert config.samples_dir == str(tmp_path / "samples") and config.mask_key_ref == ""
    config = RunnerConfig.from_env({"FERRY_SAMPLES_DIR": "/srv/samples",
                                    "FERRY_MASK_KEY": "file:/run/secrets/mask"})
    assert config.samples_dir == "/srv/samples"
    assert config.mask_key_ref == "file:/run/secrets/mask"
    with pytest.raises(ConfigError, match="FERRY_MASK_KEY"):
        RunnerConfig.from_env({"FERRY_MASK_KEY": "the-key-itself"})


def test_samples_dir_is_absolute(tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        config = RunnerConfig.from_env({"FERRY_STATE_DIR": "state"})
    finally:
        os.chdir(cwd)
    assert config.samples_dir == str(tmp_path / "state" / "samples")


# -- HTTP and SQL sources: read again, the first N records ----------------------------

def test_sql_source_is_sampled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE c (email TEXT, phone TEXT, orders INTEGER)")
        conn.executemany("INSERT INTO c VALUES (?, ?, ?)",
                         [(f"u{i}@example.com", f"+44 20 7946 {i:04d}", i) for i in range(9)])
    monkeypatch.setenv("TEST_SAMPLE_DSN", f"sqlite:///{db}")
    profile = customers_profile("SELECT * FROM c ORDER BY orders", sample_rows=3,
                                kind=profile_pb2.SOURCE_KIND_SQL)
    profile.source.dsn_ref = "env:TEST_SAMPLE_DSN"
    done = Sampler(tmp_path / "s", KEY).apply(profile, plan(source_paths=("sql:sqlite",)),
                                             run_id="r", now=NOW)
    rows = read_sample(done.sample_location)
    assert [r["orders"] for r in rows] == ["0", "1", "2"]
    text = Path(done.sample_location).read_text()
    assert not EMAIL.search(text) and not PHONE.search(text), text


def test_http_source_is_sampled(tmp_path: Path) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = "\n".join(f'{{"email": "u{i}@example.com", "tel": "+1 415 555 {i:04d}"}}'
                     for i in range(7)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        profile = customers_profile(f"http://127.0.0.1:{server.server_port}/feed",
                                    sample_rows=2, kind=profile_pb2.SOURCE_KIND_HTTP)
        profile.source.format.kind = profile_pb2.FORMAT_KIND_NDJSON
        done = Sampler(tmp_path / "s", KEY).apply(profile, plan(RunStatus.WARNING), run_id="r",
                                                 now=NOW)
    finally:
        server.shutdown()
        server.server_close()
    rows = read_sample(done.sample_location)
    assert len(rows) == 2 and list(rows[0]) == ["email", "tel"]
    text = Path(done.sample_location).read_text()
    assert not EMAIL.search(text) and not PHONE.search(text), text
