"""``ferry dashboard --watch`` in a real terminal: a tmux session of 160x45
against a real registry, scheduler and runner; the screen is read back with
``capture-pane`` and checked as an operator would read it.

Set FERRY_DASHBOARD_SVG=/path/file.svg to also save the screen (with its
colours) as an SVG, e.g. for docs/images/dashboard.png.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.grpc_client import RegistryClient
from ferry.v1 import schedule_pb2, schedule_service_pb2

from tests.integration.test_cli_operator import apply_profiles, run_id_of
from tests.support.net import wait_until
from tests.support.processes import BIN

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.tool("tmux"),
]

WIDTH, HEIGHT = 160, 45


class Tmux:
    """A private tmux server (its own socket), killed at the end."""

    def __init__(self) -> None:
        self.socket = f"ferry-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=check, timeout=10)

    def screen(self, *, colours: bool = False, session: str = "dash") -> str:
        return self("capture-pane", "-p", *(["-e"] if colours else []), "-t", session).stdout

    def alive(self, session: str = "dash") -> bool:
        return self("has-session", "-t", session, check=False).returncode == 0

    def kill(self) -> None:
        self("kill-server", check=False)
        # tmux leaves its socket file behind; remove ours.
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    session = Tmux()
    try:
        yield session
    finally:
        session.kill()


def save_svg(ansi: str, path: str) -> None:
    """The captured screen as an SVG, for docs/images (convert it with
    ``rsvg-convert -o dashboard.png dashboard.svg``)."""
    from rich.console import Console
    from rich.text import Text

    with open(os.devnull, "w") as sink:
        recorder = Console(record=True, width=WIDTH, force_terminal=True,
                           color_system="truecolor", file=sink)
        # One decode for the whole screen: tmux leaves a style on from the line before.
        recorder.print(Text.from_ansi(ansi.rstrip("\n")), no_wrap=True, overflow="crop")
        svg = recorder.export_svg(title="ferry dashboard --watch")
    # Keep runs of spaces: without this, SVG renderers collapse the cell padding.
    Path(path).write_text(svg.replace("<svg ", '<svg xml:space="preserve" ', 1))


def test_dashboard_watch_in_a_terminal(run_cli, registry, services, tmp_path, tmux):
    apply_profiles(registry, tmp_path)
    ids = {}
    for name, code in (("good", 0), ("warn", 2), ("bad", 1)):
        result = run_cli("runs", "start", name, "--wait", registry=registry)
        assert result.returncode == code, result.stdout + result.stderr
        ids[name] = run_id_of(result.stdout)
    with RegistryClient(registry.address) as client:
        created = client.schedules.CreateSchedule(schedule_service_pb2.CreateScheduleRequest(
            schedule=schedule_pb2.Schedule(profile="warn", daily=schedule_pb2.DailyTrigger(
                time=schedule_pb2.TimeOfDay(hours=6))), request_id=uuid.uuid4().hex)).schedule
    paused = run_cli("schedules", "pause", created.id, "--reason", "supplier on holiday",
                     registry=registry)
    assert paused.returncode == 0, paused.stderr

    command = (f"env -u COLUMNS -u LINES FERRY_REGISTRY={registry.address} TERM=xterm-256color "
               f"{BIN / 'ferry'} dashboard --watch --interval 1")
    tmux("new-session", "-d", "-s", "dash", "-x", str(WIDTH), "-y", str(HEIGHT), command)

    wait_until(lambda: "Schedules needing attention" in tmux.screen(), timeout=20,
               what="the dashboard on the tmux screen")
    screen = tmux.screen()
    lines = screen.splitlines()
    assert lines[0].startswith("Ferry dashboard") and registry.address in lines[0]
    assert "failed 1" in lines[1] and "warning 1" in lines[1] and "completed 1" in lines[1]
    header_at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["STATUS", "ID"])
    rows = [line.split() for line in lines if line.split()[:1] in (["FAILED"], ["WARNING"])]
    assert [row[:3] for row in rows] == [["FAILED", ids["bad"], "bad"],
                                         ["WARNING", ids["warn"], "warn"]], screen
    assert ids["good"] not in screen
    assert "too many rows in error" in screen, screen
    # Cut to the width with an ellipsis, never wrapped or pushed off the screen.
    assert lines[header_at + 1].rstrip().endswith("…"), screen
    [schedule_line] = [line for line in lines if created.id in line]
    assert schedule_line.split()[0] == "paused" and "supplier on holiday" in schedule_line
    assert max(len(line) for line in lines) <= WIDTH

    # Colour on a terminal: FAILED is drawn in red (SGR 31 or 91 or a 256/truecolor red).
    coloured = tmux.screen(colours=True)
    failed_line = next(line for line in coloured.splitlines() if ids["bad"] in line)
    assert "\x1b[" in failed_line and ("31" in failed_line or "91" in failed_line)

    # The view refreshes in place: a new failure shows up without restarting.
    retried = run_cli("runs", "retry", ids["bad"], "--wait", registry=registry)
    assert retried.returncode == 1, retried.stdout + retried.stderr
    wait_until(lambda: "failed 2" in tmux.screen(), timeout=15, what="the refreshed counts")

    if os.environ.get("FERRY_DASHBOARD_SVG"):
        save_svg(tmux.screen(colours=True), os.environ["FERRY_DASHBOARD_SVG"])

    # Ctrl-C ends the watch; the terminal session closes with it.
    tmux("send-keys", "-t", "dash", "C-c")
    deadline = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not tmux.alive(), tmux.screen()


def test_start_wait_in_a_terminal_ends_with_the_status(run_cli, registry, services, tmp_path,
                                                      tmux):
    """On a terminal, --wait draws a live progress view; the outcome stays on the
    screen and the exit status follows the run."""
    apply_profiles(registry, tmp_path)
    ferry = f"env -u COLUMNS -u LINES FERRY_REGISTRY={registry.address} {BIN / 'ferry'}"
    script = (f"{ferry} runs start warn --wait; echo EXIT=$?; "
              f"{ferry} runs start bad --wait; echo EXIT=$?; sleep 60")
    tmux("new-session", "-d", "-s", "wait", "-x", str(WIDTH), "-y", str(HEIGHT),
         "sh", "-c", script)
    wait_until(lambda: tmux.screen(session="wait").count("EXIT=") == 2, timeout=30,
               what="both runs to end on the tmux screen")
    screen = tmux.screen(session="wait")
    codes = [line for line in screen.splitlines() if line.startswith("EXIT=")]
    assert codes == ["EXIT=2", "EXIT=1"], screen
    assert "WARNING: read 20" in screen and "FAILED: read 20" in screen
    assert "first error: row 3, price" in screen and "hint:" in screen
    assert "Traceback" not in screen
