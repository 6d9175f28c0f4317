"""The ``paced-csv`` connector: a products CSV file delivered at a pace the
test sets while the run reads it.

A fault or cancel test needs a run that is provably still going when the kill,
SIGTERM, cancel or registry restart lands, and a re-run that goes at full
speed. The pace lives in a small JSON control file (``source.options["pace"]``)
that the test rewrites (``tests.support.paced_source.PacedSource``):

- throttled: at most ``rate`` rows a second, and with ``hold_at`` never more
  than that many rows until the pace changes (the read waits; the runner's
  heartbeats go on);
- open (rate 0): every row at once; an attempt that starts open never looks
  at the control file again.

Rows are the CSV's cells as strings keyed by the header, as the CSV reader
hands them to the mapping. Standard library only: this module is imported by
the runner process.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

STEP = 100  # rows handed out between two looks at the pace
POLL = 0.05  # seconds between two reads of the control file while waiting


@dataclass(frozen=True)
class Pace:
    rate: int = 0  # rows a second; 0: open, full speed
    hold_at: int = 0  # with a rate: rows after which the read waits; 0: no hold

    @property
    def open(self) -> bool:
        return self.rate <= 0

    def allows(self, served: int, elapsed: float) -> bool:
        """May the next ``STEP`` rows go, ``served`` rows and ``elapsed``
        seconds into the read?"""
        if self.open:
            return True
        if self.hold_at and served + STEP > self.hold_at:
            return False
        return served + STEP <= self.rate * elapsed

    @classmethod
    def load(cls, path: Path) -> Pace:
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        """Replace the control file in one step, so a reader never sees half of it."""
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self)))
        os.replace(partial, path)


class PacedCsv:
    """``factory(location, options, credentials)`` of the connector API."""

    def __init__(self, location: str, options: Mapping[str, str],
                 credentials: str | None) -> None:
        self.path = Path(location)
        self.control = Path(options["pace"])

    def check(self) -> str:
        """The connector API's optional probe: a line saying what was checked;
        raises when the file or the control file cannot be read."""
        with self.path.open(newline="") as handle:
            header = next(csv.reader(handle), [])
        pace = Pace.load(self.control)
        return (f"paced CSV {self.path} is readable ({len(header)} columns, "
                f"{'open' if pace.open else f'{pace.rate} rows/s'})")

    def read(self) -> Iterator[dict[str, str]]:
        with self.path.open(newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows)
            throttle = _Throttle(self.control)
            while not throttle.pace.open:
                throttle.wait()
                block = list(islice(rows, STEP))
                if not block:
                    return
                yield from (dict(zip(header, row, strict=True)) for row in block)
                throttle.served += len(block)
            yield from (dict(zip(header, row, strict=True)) for row in rows)


class PlainCsv:
    """The ``plain-csv`` connector: a CSV file's rows, with no ``check()``."""

    def __init__(self, location: str, options: Mapping[str, str],
                 credentials: str | None) -> None:
        self.path = Path(location)

    def read(self) -> Iterator[dict[str, str]]:
        with self.path.open(newline="") as handle:
            yield from csv.DictReader(handle)


class _Throttle:
    """The pace of one read, reread from the control file every ``POLL`` seconds."""

    def __init__(self, control: Path) -> None:
        self.control = control
        self.pace = Pace.load(control)
        self.served = 0
        self.started = self.looked = time.monotonic()

    def wait(self) -> None:
        """Until the pace lets the next block go."""
        while True:
            now = time.monotonic()
            if now - self.looked >= POLL:
                self.pace = Pace.load(self.control)
                self.looked = now
            if self.pace.allows(self.served, now - self.started):
                return
            time.sleep(POLL)
