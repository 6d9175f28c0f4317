"""The dev stack's children outlive neither the supervisor nor its stdout:
the console goes quiet when stdout breaks, the output pump keeps draining the
children, and a child dies when its supervisor is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tests.support.net import wait_until
from tools.devstack.children import ChildProcess
from tools.devstack.console import Console

ROOT = Path(__file__).resolve().parents[3]


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def broken_pipe_console(on_gone=lambda: None) -> Console:
    """A console whose reader has gone, as after ``tee`` died."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return Console(os.fdopen(write_end, "w"), on_gone=on_gone)


def test_a_console_whose_reader_died_goes_quiet_without_raising_and_says_so_once():
    calls: list[str] = []
    console = broken_pipe_console(on_gone=lambda: calls.append("gone"))
    console.say("registry", "first line")
    assert console.gone
    console.say("registry", "second line")
    console.report("stopping registry")
    assert console.gone
    assert calls == ["gone"]


def test_the_pump_drains_a_child_after_stdout_broke():
    """A child writing far more than a pipe buffer holds still runs to its end:
    nothing is printed, but nothing blocks it."""
    console = broken_pipe_console()
    lines = 20_000  # about 2 MB, 30 pipe buffers
    child = ChildProcess(
        "chatty", [sys.executable, "-c", f"for i in range({lines}): print('x' * 100, i)"],
        dict(os.environ), console.say).start()
    try:
        assert child.process is not None
        assert child.process.wait(timeout=30) == 0
        assert console.gone
    finally:
        child.stop(timeout=5)


def test_stop_sends_sigterm_then_returns():
    lines: list[str] = []
    child = ChildProcess("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                         dict(os.environ), lambda name, line: lines.append(line)).start()
    child.stop(timeout=10)
    assert not child.alive()
    assert child.returncode == -signal.SIGTERM


def test_children_start_from_the_main_thread_only():
    raised: list[BaseException] = []

    def start() -> None:
        try:
            ChildProcess("x", [sys.executable, "-c", "pass"], dict(os.environ),
                         lambda name, line: None).start()
        except RuntimeError as exc:
            raised.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    assert raised and "main thread" in str(raised[0])


SUPERVISOR = textwrap.dedent(
    """
    import os, sys, time
    from tools.devstack.children import ChildProcess

    child = ChildProcess("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                         dict(os.environ), lambda name, line: None).start()
    print(child.pid, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_when_its_supervisor_is_killed():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR], env=env,
                                  stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        assert supervisor.stdout is not None
        child = int(supervisor.stdout.readline())
        assert running(child)
        supervisor.kill()
        supervisor.wait(timeout=10)
        wait_until(lambda: not running(child), timeout=10, what="the child to die")
    finally:
        supervisor.kill()
        supervisor.wait(timeout=10)
        if child and running(child):
            os.kill(child, signal.SIGKILL)
