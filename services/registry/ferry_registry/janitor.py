"""The janitor: a thread that keeps run history and failed source files within
their retention (like the lease reaper, one pass every interval).

Each pass deletes old terminal runs with their events and rejected rows
(``HistoryStore.purge_runs``), then purges failed source files older than
``retention.keep_failed_days`` from each profile's ``retention.failed_dir``
with ``ferry_domain.retention.purge_failed`` (logged; nothing is recorded on runs).
A file a failed run moved there stays while that failure is not released, and
``keep_failed_days`` after its release (``HistoryStore.failed_file_pins``).
A failed folder the registry cannot see (another machine) or, when
``FERRY_FILE_ROOTS`` is set, outside those roots, is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ferry.clock import Clock
from ferry.security.paths import PathNotAllowedError, confine_path
from ferry_domain.retention import purge_failed

from ferry_registry.store.history import HistoryStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JanitorPass:
    runs_deleted: int
    files_purged: int


class Janitor:
    def __init__(self, history: HistoryStore, clock: Clock, interval: timedelta,
                 file_roots: Sequence[Path] | None = None) -> None:
        self._history = history
        self._clock = clock
        self._interval = interval.total_seconds()
        self._file_roots = file_roots
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> JanitorPass:
        runs = self._history.purge_runs(self._stop.is_set)
        return JanitorPass(runs, self._purge_failed_files())

    def _purge_failed_files(self) -> int:
        purged = 0
        for folder in self._history.failed_folders():
            path = folder.failed_dir
            try:
                if self._file_roots is not None:
                    path = str(confine_path(path, self._file_roots, must_exist=False))
                actions = purge_failed(path, folder.keep_days, self._clock.now(),
                                       self._history.failed_file_pins(folder.profile))
            except (PathNotAllowedError, OSError) as exc:
                log.warning("failed source files not purged: %s", exc, extra={"fields": {
                    "profile": folder.profile, "failed_dir": folder.failed_dir}})
                continue
            for action in actions:
                log.info("failed source file purged", extra={"fields": {
                    "profile": folder.profile, "path": action.path, "detail": action.detail}})
            purged += len(actions)
        return purged

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="janitor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - keep cleaning after a database hiccup
                log.exception("janitor pass failed; retrying next interval")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
