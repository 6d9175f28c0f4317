"""Start-up errors are one clear line and exit status 1."""

from __future__ import annotations

import socket
import subprocess

from tests.support.processes import BIN, base_env


def run_scheduler(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ferry-scheduler")], env=base_env(**env),
                          capture_output=True, text=True, timeout=30)


def test_bad_configuration_is_one_line_and_exit_1():
    done = run_scheduler(FERRY_SCHEDULE_LEASE="soon")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "FERRY_SCHEDULE_LEASE" in lines[0] and "not a duration" in lines[0]


def test_health_address_in_use_is_one_line_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_scheduler(FERRY_SCHEDULER_HEALTH=f"127.0.0.1:{port}",
                             FERRY_REGISTRY="127.0.0.1:1")
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{port}" in lines[0]
