"""The freshness gate: before a live run reads anything, has the source changed?

``FreshnessGate.check(claim)`` asks the registry for the profile's stored
token (``GetFreshnessToken``), probes the source with the profile's methods
(``ferry_domain.freshness.probe``) and returns a ``GateVerdict``:

- ``unchanged``: finish the run UNCHANGED at once — nothing read or written;
- otherwise run it, and send ``current_token`` with FinishRun. The registry
  stores it only when a live run ends COMPLETED or WARNING, in the same
  transaction as the terminal state (invariant 7).

Drop folders (a FILE import whose location is a glob or a folder) go through
``ferry_domain.freshness.drop_folder`` first, with or without freshness
methods: an empty folder, files not ready yet, or only files imported before
end the run UNCHANGED ("no new input", "same content as …"); otherwise the
verdict names the one file to read (``read_path``), which the methods then
probe. A missing or unreadable folder fails the run (permanent).

SFTP and FTP imports whose location is a glob or a folder end UNCHANGED "no
new input" the same way when no file matches on the server (or none has been
still for ``stable_for``); a missing folder fails the run.

Profiles without freshness methods (and not reading a drop folder or a
server's folder) skip the gate. Forced runs and dry runs are never gated by
the methods (the verdict is BYPASSED) but still compute the token, so a
forced run that succeeds stores a fresh baseline; forced runs and retries
also read a file whose content was imported before. Probe failures raise
``FreshnessError`` (or the engine's ``PermanentSourceError``) subclasses
whose ``error_class`` the executor classifies like engine errors (transient
ones are retried in the attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ferry.retry import call_registry
from ferry.v1 import execution_service_pb2 as ex
from ferry.v1 import profile_pb2
from ferry_domain.engine.sources.files import resolve_files
from ferry_domain.freshness import FreshnessReport, Verdict, drop_folder, probe
from ferry_domain.freshness.decision import Reason, nothing_to_read
from ferry_domain.freshness.inputs import known_checksums
from ferry_domain.profiles.digest import profile_digest

from ferry_runner.registry import Claim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateVerdict:
    unchanged: bool
    evidence: Any  # run_pb2.FreshnessEvidence
    current_token: str
    summary: str
    # Drop folders: the one file to read, its checksum, whether more new
    # files wait after it, and the digest to record the import under.
    read_path: str = ""
    imported_files: tuple[tuple[str, str], ...] = field(default=())
    more_waiting: bool = False
    profile_digest: str = ""
    # Files the gate hashed, each with its checksum ((path, checksum)), so
    # the run's record of what it read does not hash them again.
    checksums: tuple[tuple[str, str], ...] = field(default=())

    def known_checksums(self) -> dict[str, str]:
        return dict(self.imported_files) | dict(self.checksums)

    def profile_to_run(self, profile: profile_pb2.Profile) -> profile_pb2.Profile:
        """The profile the engine runs: for a drop folder, reading ``read_path`` only."""
        if not self.read_path:
            return profile
        narrowed = profile_pb2.Profile()
        narrowed.CopyFrom(profile)
        narrowed.source.location = self.read_path
        narrowed.source.selection = profile_pb2.FILE_SELECTION_SINGLE
        return narrowed


class FreshnessGate:
    def __init__(self, execution_stub: Any, target_url: str,
                 file_roots: Sequence[Path] | None = None) -> None:
        self._stub = execution_stub
        self._target_url = target_url
        self._file_roots = file_roots

    def _stored(self, profile: str, digest: str = "",
                checksums: Sequence[str] = ()) -> ex.GetFreshnessTokenResponse:
        return call_registry(self._stub.GetFreshnessToken, ex.GetFreshnessTokenRequest(
            profile=profile, profile_digest=digest, checksums=list(checksums)),
            what="GetFreshnessToken")

    def check(self, claim: Claim) -> GateVerdict | None:
        profile = claim.profile
        if drop_folder.is_drop_folder(profile):
            return self._drop_folder(claim)
        if _lists_a_server(profile):
            # Imported here: paramiko / ftplib load only for remote sources.
            from ferry_domain.freshness.remote import nothing_ready

            nothing = nothing_ready(profile.source)
            if nothing:
                previous = self._stored(profile.name).token
                return _verdict(nothing_to_read(Reason.NO_NEW_INPUT, nothing, previous,
                                                profile_digest(profile)))
        if not list(profile.freshness):
            return None
        previous = self._stored(profile.name).token
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
        return _verdict(report, checksums=tuple(known_checksums(report, paths).items()))

    def _drop_folder(self, claim: Claim) -> GateVerdict:
        profile = claim.profile
        digest = profile_digest(profile)
        replies: list[ex.GetFreshnessTokenResponse] = []

        def lookup(checksums: list[str]) -> list[drop_folder.Imported]:
            replies.append(self._stored(profile.name, digest, checksums))
            return [drop_folder.Imported(f.path, f.checksum, f.run_id)
                    for f in replies[-1].imported_files]

        bypass = claim.run.force or bool(claim.run.retry_of)
        chosen = drop_folder.choose(profile, datetime.now(UTC), lookup, bypass=bypass,
                                    roots=self._file_roots)
        previous = replies[-1].token if replies else ""
        if chosen.path is None:
            return _verdict(nothing_to_read(chosen.reason, chosen.detail, previous, digest))
        read = str(chosen.path)
        if list(profile.freshness):
            report = probe(profile, paths=[chosen.path], previous_token=previous,
                           force=bypass or claim.run.dry_run, target_url=self._target_url)
        else:
            report = FreshnessReport(Verdict.CHANGED, "FRESHNESS_METHOD_UNSPECIFIED",
                                     previous, "", reason=Reason.SOURCE_CHANGED,
                                     detail=f"new file {chosen.path.name}",
                                     profile_digest=digest)
        return _verdict(report, read_path=read, imported_files=((read, chosen.checksum),),
                        more_waiting=chosen.more_waiting, profile_digest=digest)


def _lists_a_server(profile: profile_pb2.Profile) -> bool:
    """An SFTP / FTP import that may list a folder (not selection SINGLE)."""
    return (profile.operation == profile_pb2.OPERATION_IMPORT
            and profile.source.kind in (profile_pb2.SOURCE_KIND_SFTP, profile_pb2.SOURCE_KIND_FTP)
            and profile.source.selection != profile_pb2.FILE_SELECTION_SINGLE)


def _verdict(report: FreshnessReport, **drop: Any) -> GateVerdict:
    verdict = GateVerdict(unchanged=report.verdict is Verdict.UNCHANGED,
                          evidence=report.to_proto(), current_token=report.current_token,
                          summary=report.summary(), **drop)
    log.info("freshness gate: %s", verdict.summary,
             extra={"fields": {"freshness_verdict": str(report.verdict)}})
    return verdict
