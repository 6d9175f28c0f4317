"""Live checks of a profile for ``ValidateProfile``: without importing
anything, is the source reachable with its credentials, does its shape match
the mapping, and can the target be written? Each check gives one
``CheckResult`` line; every probe is time-bounded (``TIMEOUT_SECONDS``), and an
unexpected error becomes a failed line, never a failed call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ferry.v1 import profile_pb2

from ferry_registry.live_checks.results import SHAPE, SOURCE, TARGET, CheckResult, failed, ok
from ferry_registry.live_checks.shape import compare_shape
from ferry_registry.live_checks.sources import Probe, probe_source
from ferry_registry.live_checks.targets import check_target

__all__ = ["CheckResult", "LiveChecks"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _guarded(check: str, call: Callable[[], T], fallback: Callable[[CheckResult], T]) -> T:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - one bad probe is one failed line
        log.exception("profile check %s failed unexpectedly", check)
        return fallback(failed(check, f"the check itself failed: {type(exc).__name__}: {exc}"))


class LiveChecks:
    def __init__(self, target_url: str = "", file_roots: Sequence[Path] | None = None) -> None:
        self._target_url = target_url
        self._file_roots = file_roots

    def run(self, profile: profile_pb2.Profile) -> list[CheckResult]:
        results: list[CheckResult] = []
        if profile.operation != profile_pb2.OPERATION_EXPORT:
            probe = _guarded(SOURCE, lambda: probe_source(profile.source, self._file_roots),
                             lambda line: Probe(line, shape_note="the source check failed"))
            results.append(probe.result)
            if probe.columns is None:
                line = f"not compared: {probe.shape_note}"
                results.append(ok(SHAPE, line) if probe.result.ok else failed(SHAPE, line))
            else:
                columns = probe.columns
                results.append(_guarded(SHAPE, lambda: compare_shape(
                    profile, profile.source.location, columns), lambda line: line))
        results.extend(_guarded(TARGET, lambda: check_target(profile, self._target_url),
                                lambda line: [line]))
        return results
