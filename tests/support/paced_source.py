"""A products source whose pace the test controls: throttle a run's first
attempt so the kill, SIGTERM, cancel or registry restart provably lands while
it runs, then open it so the re-run goes at full speed.

    paced = PacedSource(tmp_path, rate=5_000)           # rows a second
    profile = paced.profile(stack.products_profile("big", csv_path))
    ...  # wait for a progress report, then kill / cancel / restart
    paced.open()                                         # the re-run: full speed

The runner reads the file through the ``paced-csv`` connector
(``tests/support/plugins/ferry_paced_csv.py``); every service a test starts
has that plugin folder on its PYTHONPATH (``processes.base_env``).
"""

from __future__ import annotations

from pathlib import Path

from ferry.v1 import profile_pb2

from tests.support.plugins.ferry_paced_csv import Pace

CONNECTOR = "paced-csv"


class PacedSource:
    """The control file of one or more paced sources (the profiles that name it)."""

    def __init__(self, folder: Path, *, rate: int, hold_at: int = 0) -> None:
        """Start throttled: at most ``rate`` rows a second, and with
        ``hold_at`` no more than that many rows until ``open()``."""
        folder.mkdir(parents=True, exist_ok=True)
        self.control = folder / "pace.json"
        Pace(rate=rate, hold_at=hold_at).save(self.control)

    def open(self) -> None:
        """Every read goes at full speed from now on."""
        Pace().save(self.control)

    def profile(self, profile: profile_pb2.Profile) -> profile_pb2.Profile:
        """``profile`` reading its CSV file (source.location) at this pace."""
        profile.source.CopyFrom(profile_pb2.Source(
            kind=profile_pb2.SOURCE_KIND_CONNECTOR, connector=CONNECTOR,
            location=profile.source.location, options={"pace": str(self.control)}))
        return profile
