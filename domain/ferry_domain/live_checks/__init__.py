"""Live checks of a profile, executed by a runner (a VALIDATE_PROFILE runner
task) with its own volumes, secrets, target and connectors: without importing
anything, do the profile's secret references resolve, is the source reachable
with its credentials, does its shape match the mapping and the last good
run's, and can the target be written? Each check gives one ``CheckResult``
line; every probe is time-bounded (``TIMEOUT_SECONDS``), and an unexpected
error becomes a failed line, never a failed call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ferry.secrets import resolve_secret
from ferry.v1 import profile_pb2

from ferry_domain.engine.fingerprint import Fingerprint
from ferry_domain.live_checks.results import (
    CREDENTIALS,
    SHAPE,
    SHAPE_DRIFT,
    SOURCE,
    TARGET,
    CheckResult,
    failed,
    first_line,
    ok,
)
from ferry_domain.live_checks.shape import compare_drift, compare_shape
from ferry_domain.live_checks.sources import Probe, probe_source
from ferry_domain.live_checks.targets import check_target

__all__ = ["CheckResult", "LiveChecks"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _guarded(check: str, call: Callable[[], T], fallback: Callable[[CheckResult], T]) -> T:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - one bad probe is one failed line
        log.exception("profile check %s failed unexpectedly", check)
        return fallback(failed(check, f"the check itself failed: {type(exc).__name__}: {exc}"))


def secret_refs(profile: profile_pb2.Profile) -> list[tuple[str, str]]:
    """(field, reference) of every secret the profile names."""
    refs = [("source.credentials_ref", profile.source.credentials_ref),
            ("source.dsn_ref", profile.source.dsn_ref),
            ("target.dsn_ref", profile.target.dsn_ref)]
    if profile.operation == profile_pb2.OPERATION_EXPORT:
        refs = refs[2:]
    return [(name, ref) for name, ref in refs if ref]


def check_credentials(profile: profile_pb2.Profile) -> CheckResult:
    """Each secret reference resolves here (its value is never shown)."""
    refs = secret_refs(profile)
    if not refs:
        return ok(CREDENTIALS, "the profile names no secrets")
    for name, ref in refs:
        try:
            resolve_secret(ref)
        except Exception as exc:  # noqa: BLE001 - SecretError, OSError: one line
            return failed(CREDENTIALS, f"{name} {ref} cannot be resolved: {first_line(exc)}")
    return ok(CREDENTIALS, f"{len(refs)} secret reference(s) resolve: "
                           + ", ".join(ref for _, ref in refs))


class LiveChecks:
    def __init__(self, target_url: str = "", file_roots: Sequence[Path] | None = None) -> None:
        self._target_url = target_url
        self._file_roots = file_roots

    def run(self, profile: profile_pb2.Profile,
            last_good: Fingerprint | None = None) -> list[CheckResult]:
        """The lines in order: credentials, source, shape, shape drift (against
        ``last_good``, the last good run's fingerprint), target."""
        results = [_guarded(CREDENTIALS, lambda: check_credentials(profile), lambda line: line)]
        if profile.operation != profile_pb2.OPERATION_EXPORT:
            probe = _guarded(SOURCE, lambda: probe_source(profile.source, self._file_roots),
                             lambda line: Probe(line, shape_note="the source check failed"))
            results.append(probe.result)
            if probe.columns is None:
                line = f"not compared: {probe.shape_note}"
                for check in (SHAPE, SHAPE_DRIFT):
                    results.append(ok(check, line) if probe.result.ok else failed(check, line))
            else:
                found = probe
                results.append(_guarded(SHAPE, lambda: compare_shape(
                    profile, profile.source.location, found.columns or []), lambda line: line))
                results.append(_guarded(SHAPE_DRIFT, lambda: compare_drift(
                    profile, found, last_good), lambda line: line))
        results.extend(_guarded(TARGET, lambda: check_target(profile, self._target_url),
                                lambda line: [line]))
        return results
