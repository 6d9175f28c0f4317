"""``make run`` (``python -m tools.devstack``) in a scratch copy of the repository:
children start with prefixed logs, the examples get schedules, scheduled runs
appear, and SIGINT stops every child and exits 0."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2, schedule_service_pb2

from tests.integration.scheduler.support import private_broker, runs_of
from tests.support.net import free_port, wait_until
from tests.support.processes import base_env

ROOT = Path(__file__).resolve().parents[3]


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                           text=True, check=False).stdout.split()
    return [int(p) for p in found]


@pytest.mark.slow
def test_make_run_starts_the_stack_schedules_examples_and_stops_on_ctrl_c(tmp_path: Path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    registry = f"127.0.0.1:{free_port()}"
    log_path = tmp_path / "devstack.log"
    with private_broker() as broker, log_path.open("wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "-m", "tools.devstack"], cwd=tmp_path, stdout=log,
            stderr=subprocess.STDOUT,
            env=base_env(FERRY_REGISTRY=registry, FERRY_AMQP_PREFIX=broker.prefix,
                         PYTHONPATH=str(ROOT)))  # the tool runs from the repository
        try:
            wait_until(lambda: b"created example schedules" in log_path.read_bytes()
                       or stack.poll() is not None, timeout=60, what="example schedules")
            assert stack.poll() is None, log_path.read_text()
            with RegistryClient(registry) as client:
                schedules = client.schedules.ListSchedules(
                    schedule_service_pb2.ListSchedulesRequest()).schedules
                assert {"supplier-products", "customers"} <= {s.profile for s in schedules}
                wait_until(lambda: any(r.trigger == run_pb2.RUN_TRIGGER_SCHEDULE
                                       for r in runs_of(client)),
                           timeout=45, interval=0.5, what="a scheduled run")
            children = children_of(stack.pid)
            assert len(children) >= 2  # registry and scheduler at least
        finally:
            if stack.poll() is None:
                stack.send_signal(signal.SIGINT)
            try:
                code = stack.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stack.kill()
                raise
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    for name in ("registry ", "scheduler"):
        assert f"\n{name} | " in output or output.startswith(f"{name} | "), name
    assert "devstack  | stopped" in output
    time.sleep(0.2)
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}") or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", f"child {pid} left running"
    assert (tmp_path / ".ferry" / "registry.db").exists()
    assert (tmp_path / ".ferry" / "examples" / "data").is_dir()
