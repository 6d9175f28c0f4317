"""The freshness gate: before a live run reads anything, has the source changed?

``FreshnessGate.check(claim)`` asks the registry for the profile's stored
token (``GetFreshnessToken``), probes the source with the profile's methods
(``ferry_domain.freshness.probe``) and returns a ``GateVerdict``:

- ``unchanged``: finish the run UNCHANGED at once — nothing read or written;
- otherwise run it, and send ``current_token`` with FinishRun. The registry
  stores it only when a live run ends COMPLETED or WARNING, in the same
  transaction as the terminal state (invariant 7).

Profiles without freshness methods skip the gate. Forced runs and dry runs
are never gated (the verdict is BYPASSED) but still compute the token, so a
forced run that succeeds stores a fresh baseline. Probe failures raise
``FreshnessError`` subclasses whose ``error_class`` the executor classifies
like engine errors (transient ones are retried in the attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ferry.retry import call_registry
from ferry.v1 import execution_service_pb2 as ex
from ferry.v1 import profile_pb2
from ferry_domain.engine.sources.files import resolve_files
from ferry_domain.freshness import Verdict, probe

from ferry_runner.registry import Claim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateVerdict:
    unchanged: bool
    evidence: Any  # run_pb2.FreshnessEvidence
    current_token: str
    summary: str


class FreshnessGate:
    def __init__(self, execution_stub: Any, target_url: str,
                 file_roots: Sequence[Path] | None = None) -> None:
        self._stub = execution_stub
        self._target_url = target_url
        self._file_roots = file_roots

    def check(self, claim: Claim) -> GateVerdict | None:
        profile = claim.profile
        if not list(profile.freshness):
            return None
        previous = call_registry(self._stub.GetFreshnessToken,
                                 ex.GetFreshnessTokenRequest(profile=profile.name),
                                 what="GetFreshnessToken").token
        paths = None
        if (profile.operation != profile_pb2.OPERATION_EXPORT
                and profile.source.kind == profile_pb2.SOURCE_KIND_FILE):
            # Confined like the engine's reads: nothing outside the roots is
            # even stat'ed or hashed (PermanentSourceError "path not allowed").
            paths = resolve_files(profile.source.location, profile.source.selection,
                                  self._file_roots)
        report = probe(profile, paths=paths, previous_token=previous,
                       force=claim.run.force or claim.run.dry_run,
                       target_url=self._target_url)
        verdict = GateVerdict(unchanged=report.verdict is Verdict.UNCHANGED,
                              evidence=report.to_proto(), current_token=report.current_token,
                              summary=report.summary())
        log.info("freshness gate: %s", verdict.summary,
                 extra={"fields": {"freshness_verdict": str(report.verdict)}})
        return verdict
