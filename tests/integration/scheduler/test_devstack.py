"""``make run`` (``python -m tools.devstack``) in a scratch copy of the repository:
children start with prefixed logs, the examples get schedules, scheduled runs
appear, and the children die with the supervisor however it ends: SIGINT with
its output piped into ``tee`` (which dies first), the reader of its output
exiting, or SIGKILL.

The stacks of these tests share one xdist group: each serves the stock feed on
the example's fixed port 8089."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import run_pb2, schedule_service_pb2

from tests.integration.scheduler.support import private_broker, runs_of
from tests.support.net import free_port, wait_until
from tests.support.processes import base_env

ROOT = Path(__file__).resolve().parents[3]
DEVSTACK = [sys.executable, "-m", "tools.devstack"]
UP = b"devstack  | up."
CHILDREN = 5  # registry, stock feed, scheduler, two runners

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("devstack")]


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                           text=True, check=False).stdout.split()
    return [int(p) for p in found]


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stack_processes(prefix: str) -> list[int]:
    """Every running process started with this test's broker prefix in its
    environment: the supervisor and whatever it started, orphans included."""
    marker = f"FERRY_AMQP_PREFIX={prefix}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ and running(int(entry.name)):
            found.append(int(entry.name))
    return found


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def scratch_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def devstack_env(registry_port: int, prefix: str) -> dict[str, str]:
    """The tool runs from the repository (``PYTHONPATH``), on a free registry port
    and a private broker topology."""
    return base_env(FERRY_REGISTRY=f"127.0.0.1:{registry_port}", FERRY_AMQP_PREFIX=prefix,
                    PYTHONPATH=str(ROOT))


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Process groups to SIGKILL at teardown, whatever the test saw."""
    groups: list[int] = []
    yield groups
    for pid in groups:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def supervisor_in(shell: int) -> int:
    """The devstack process among the children of the shell running the pipeline."""
    for pid in children_of(shell):
        if b"tools.devstack" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise AssertionError(f"no devstack process under shell {shell}")


def wait_up(log_path: Path, process: subprocess.Popen) -> None:
    wait_until(lambda: UP in log_path.read_bytes() or process.poll() is not None,
               timeout=90, interval=0.2, what="the dev stack")
    assert process.poll() is None, log_path.read_text()[-3000:]


def assert_all_gone(children: list[int], port: int, prefix: str, *, timeout: float) -> None:
    wait_until(lambda: not any(running(pid) for pid in children) and not listening(port),
               timeout=timeout, interval=0.2, what="every child to exit")
    assert stack_processes(prefix) == []


def test_make_run_starts_the_stack_schedules_examples_and_stops_on_ctrl_c(tmp_path: Path):
    scratch_copy(tmp_path)
    port = free_port()
    registry = f"127.0.0.1:{port}"
    log_path = tmp_path / "devstack.log"
    with private_broker() as broker, log_path.open("wb") as log:
        stack = subprocess.Popen(
            DEVSTACK, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            env=devstack_env(port, broker.prefix))
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
        assert not running(pid), f"child {pid} left running"
    assert (tmp_path / ".ferry" / "registry.db").exists()
    assert (tmp_path / ".ferry" / "examples" / "data").is_dir()


def test_ctrl_c_with_the_output_piped_into_tee_stops_every_child(tmp_path: Path,
                                                                 leftovers: list[int]):
    """``make run | tee log`` then Ctrl-C: the terminal sends SIGINT to the whole
    foreground group; tee dies first, so the supervisor's next write fails with
    EPIPE, and it must still stop every child."""
    scratch_copy(tmp_path)
    port = free_port()
    log_path, errors = tmp_path / "tee.log", tmp_path / "stderr.log"
    log_path.touch()
    with private_broker() as broker:
        shell = subprocess.Popen(
            ["bash", "-c", f"{shlex.join(DEVSTACK)} 2>{shlex.quote(str(errors))}"
                          f" | tee {shlex.quote(str(log_path))} >/dev/null"],
            cwd=tmp_path, env=devstack_env(port, broker.prefix), start_new_session=True)
        leftovers.append(shell.pid)
        wait_up(log_path, shell)
        supervisor = supervisor_in(shell.pid)
        children = children_of(supervisor)
        leftovers.extend(children)
        assert len(children) >= CHILDREN - 1, log_path.read_text()[-3000:]  # 8089 may be taken
        assert listening(port)

        os.killpg(shell.pid, signal.SIGINT)  # what Ctrl-C in a terminal does

        shell.wait(timeout=60)
        wait_until(lambda: not running(supervisor), timeout=30, what="the supervisor to exit")
        assert_all_gone(children, port, broker.prefix, timeout=30)
    assert "Traceback" not in errors.read_text(), errors.read_text()


def test_children_die_when_the_supervisor_is_killed(tmp_path: Path, leftovers: list[int]):
    """SIGKILL leaves the supervisor no chance to stop anything: the kernel's
    parent-death signal takes the children down with it."""
    scratch_copy(tmp_path)
    port = free_port()
    log_path = tmp_path / "devstack.log"
    with private_broker() as broker, log_path.open("wb") as log:
        stack = subprocess.Popen(DEVSTACK, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                 env=devstack_env(port, broker.prefix), start_new_session=True)
        leftovers.append(stack.pid)
        wait_up(log_path, stack)
        children = children_of(stack.pid)
        leftovers.extend(children)
        assert len(children) >= CHILDREN - 1, log_path.read_text()[-3000:]  # 8089 may be taken
        assert listening(port)

        stack.kill()
        stack.wait(timeout=10)

        assert_all_gone(children, port, broker.prefix, timeout=15)


def test_the_stack_stops_when_the_reader_of_its_output_exits(tmp_path: Path,
                                                              leftovers: list[int]):
    """``make run | head``: once the reader has what it wanted and exits, the
    next write fails with EPIPE and the stack stops in order, where a plain
    program would die of SIGPIPE."""
    scratch_copy(tmp_path)
    port = free_port()
    with private_broker() as broker:
        shell = subprocess.Popen(
            ["bash", "-c", f"{shlex.join(DEVSTACK)} | sed -n '/^devstack  | up\\./q'"],
            cwd=tmp_path, env=devstack_env(port, broker.prefix), start_new_session=True)
        leftovers.append(shell.pid)
        try:
            shell.wait(timeout=120)
        finally:
            leftovers.extend(stack_processes(broker.prefix))
        assert_all_gone([], port, broker.prefix, timeout=30)
