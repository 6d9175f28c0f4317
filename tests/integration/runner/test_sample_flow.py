"""Masked samples end to end: real registry, scheduler, runner and RabbitMQ.

A customers CSV with emails and phones is imported by a profile with
``retention.sample_rows``: each run records where its masked sample is
(``sample_location``, a SAMPLE_SAVED retention action), the sample holds the
first N rows with no raw email or phone, the same email masks the same way in
two runs (the runner's generated key, kept in ``<state>/mask.key``), a failed
run gets its sample too, and ``ferry runs get`` shows the location.
"""

from __future__ import annotations

import csv
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import profile_pb2, run_pb2

from tests.integration.runner import stack
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.rabbitmq]

SAMPLE_ROWS = 4
COLUMNS = ["email", "first_name", "last_name", "phone", "city", "postcode"]
RAW_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
RAW_PHONE = re.compile(r"\+?\d[\d ().-]{5,}\d")


@pytest.fixture
def services(tmp_path: Path, registry: ServiceProcess, queues: stack.Queues
             ) -> Iterator[dict[str, ServiceProcess]]:
    procs = {
        "scheduler": stack.scheduler_process(tmp_path, registry.address, queues),
        "runner": stack.runner_process(tmp_path, registry.address, queues,
                                       FERRY_RUN_LEASE="3s"),
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


def write_customers(path: Path, numbers: list[int]) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in numbers:
            writer.writerow([f"customer{i}@example.com", f"First{i}", f"Last{i}",
                             f"+33 6 12 34 {i:02d} 78", f"City{i}", f"750{i:02d}"])
    return path


def customers_profile(name: str, csv_path: Path, extra_field: str = "") -> profile_pb2.Profile:
    profile = stack.products_profile(name, csv_path)
    profile.entity_type = "customers"
    del profile.mapping.fields[:]
    for column in COLUMNS + ([extra_field] if extra_field else []):
        profile.mapping.fields.add(target=column, source=column)
    profile.retention.sample_rows = SAMPLE_ROWS
    profile.retention.masked_fields.append("postcode")
    profile.retry.max_attempts = 1
    return profile


def sample_of(run: run_pb2.Run) -> tuple[list[dict[str, str]], str]:
    path = Path(run.sample_location)
    text = path.read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines())), text


def assert_sample(run: run_pb2.Run, samples: Path) -> list[dict[str, str]]:
    assert run.sample_location, run
    assert Path(run.sample_location).parent == samples
    assert run.id in Path(run.sample_location).name
    rows, text = sample_of(run)
    assert len(rows) == SAMPLE_ROWS and list(rows[0]) == COLUMNS
    assert not RAW_EMAIL.search(text), text
    assert not RAW_PHONE.search(text), text
    for value in ("customer", "First", "Last", "City", "750"):
        assert value not in text, (value, text)
    kinds = [a.kind for a in run.retention_actions]
    assert kinds.count(run_pb2.RETENTION_ACTION_KIND_SAMPLE_SAVED) == 1, run
    saved = next(a for a in run.retention_actions
                 if a.kind == run_pb2.RETENTION_ACTION_KIND_SAMPLE_SAVED)
    assert saved.path == run.sample_location
    return rows


def test_each_run_saves_a_masked_sample(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess],
        registry: ServiceProcess, run_cli: Callable[..., object]) -> None:
    alive = stack.assert_alive(*services.values())
    samples = tmp_path / "runner" / "samples"
    source = write_customers(tmp_path / "customers.csv", list(range(1, 21)))
    stack.apply_profile(client, customers_profile("customers", source))

    first = stack.wait_terminal(client, stack.start_run(client, "customers").id, 60, alive)
    assert stack.status_name(first) == "RUN_STATUS_COMPLETED", first
    first_rows = assert_sample(first, samples)

    # The second run reads customer 3 first: it masks the same way.
    write_customers(source, [3, 30, 31, 32, 33])
    second = stack.wait_terminal(client, stack.start_run(client, "customers").id, 60, alive)
    assert stack.status_name(second) == "RUN_STATUS_COMPLETED", second
    second_rows = assert_sample(second, samples)
    assert second.sample_location != first.sample_location
    assert second_rows[0] == first_rows[2]
    assert len({row["email"] for row in first_rows + second_rows}) == SAMPLE_ROWS * 2 - 1
    key = tmp_path / "runner" / "mask.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    # A failed run (a mapped column is missing) keeps its sample too.
    stack.apply_profile(client, customers_profile("broken", source, extra_field="company"))
    failed = stack.wait_terminal(client, stack.start_run(client, "broken").id, 60, alive)
    assert stack.status_name(failed) == "RUN_STATUS_FAILED", failed
    assert failed.error_class == run_pb2.ERROR_CLASS_SOURCE_SHAPE, failed
    assert assert_sample(failed, samples)[0] == first_rows[2]

    shown = run_cli("runs", "get", first.id, registry=registry)
    assert shown.returncode == 0, shown.stderr  # type: ignore[attr-defined]
    assert re.search(rf"sample:\s+{re.escape(first.sample_location)}",
                     shown.stdout), shown.stdout  # type: ignore[attr-defined]


def test_a_dry_run_is_sampled_and_an_unreadable_sample_is_a_warning(
        tmp_path: Path, client: RegistryClient, services: dict[str, ServiceProcess]) -> None:
    alive = stack.assert_alive(*services.values())
    source = write_customers(tmp_path / "customers.csv", list(range(1, 6)))
    stack.apply_profile(client, customers_profile("customers", source))
    dry = stack.wait_terminal(
        client, stack.start_run(client, "customers", dry_run=True).id, 60, alive)
    assert stack.status_name(dry) == "RUN_STATUS_COMPLETED", dry
    assert_sample(dry, tmp_path / "runner" / "samples")

    # The samples folder cannot be created: the run still completes, with a
    # warning line (like a failed retention step, it does not change the status).
    samples = tmp_path / "runner" / "samples"
    for path in samples.iterdir():
        path.unlink()
    samples.rmdir()
    samples.write_text("in the way")
    run = stack.wait_terminal(client, stack.start_run(client, "customers").id, 60, alive)
    assert stack.status_name(run) == "RUN_STATUS_COMPLETED", run
    assert not run.sample_location
    assert any(w.startswith("sample not saved: ") for w in run.warnings), run.warnings
    assert run.counts.created == 5
