"""A masked sample of the first rows of an import run's source, for audit.

For a live or dry import run of a FILE, SFTP, FTP, HTTP or SQL source whose
profile has ``retention.sample_rows`` > 0, the first N source records (as
read: source column -> value) are masked with ``ferry_domain.masking.profile_masker(key,
profile)`` and written by ``ferry_domain.retention.save_sample`` to
``<FERRY_SAMPLES_DIR>/<run_id>.sample.csv``. The run records the path
(``sample_location``) and a SAMPLE_SAVED retention action, and sends the same
masked rows with FinishRun (``FinishPlan.sample``, capped by
``ferry_domain.samples``) to be stored with the run in the registry. This happens for
COMPLETED, WARNING and FAILED runs (a failed run's sample helps most), not for
CANCELLED or UNCHANGED ones, and before retention moves or deletes the files.

The engine has no hook that hands out the records it reads, so the sample is
read again, with the engine's own readers (``open_parts``, the runner's
``FERRY_FILE_ROOTS`` and size limits): the files the run read, or the source
again when it read none (HTTP, SQL, or a run that failed before opening a
file); only the first N records are parsed (an HTTP body, or the remote
file an SFTP/FTP run read, is downloaded again). Sampling never fails a
run: an error becomes a warning line of the run, and is logged.

The key (``ferry.mask_key``: ``FERRY_MASK_KEY``, or one generated in
``<FERRY_STATE_DIR>/mask.key``) makes masks deterministic: the same value
masks the same way under one key.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ferry.v1 import profile_pb2
from ferry_domain import retention
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.engine.limits import using as using_limits
from ferry_domain.engine.sources import open_parts
from ferry_domain.engine.sources.files import is_glob
from ferry_domain.masking import profile_masker
from ferry_domain.runs.states import RunStatus
from ferry_domain.samples import sample_from_records

from ferry_runner.outcome import READ_THE_SOURCE, FinishPlan

log = logging.getLogger(__name__)

_REMOTE = (profile_pb2.SOURCE_KIND_SFTP, profile_pb2.SOURCE_KIND_FTP)
SAMPLED_SOURCES = (profile_pb2.SOURCE_KIND_FILE, profile_pb2.SOURCE_KIND_UNSPECIFIED,
                   profile_pb2.SOURCE_KIND_HTTP, profile_pb2.SOURCE_KIND_SQL, *_REMOTE)


# -- reading the first records -------------------------------------------------------

def read_first_records(source: profile_pb2.Source, limit: int,
                       file_roots: Sequence[Path] | None = None,
                       limits: SourceLimits | None = None,
                       paths: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The first ``limit`` records of the source as ``{source column: value}``,
    read with the engine's readers; stops reading once it has them. ``paths``:
    the files the run read (a file source then reads those, not whatever its
    glob matches now)."""
    rows: list[dict[str, Any]] = []
    with using_limits(limits):
        for each in _sources(source, paths):
            _read_into(rows, each, limit, file_roots)
            if len(rows) >= limit:
                break
    return rows


def _sources(source: profile_pb2.Source, paths: Sequence[str]) -> list[profile_pb2.Source]:
    if not paths or source.kind not in (profile_pb2.SOURCE_KIND_FILE,
                                        profile_pb2.SOURCE_KIND_UNSPECIFIED, *_REMOTE):
        return [source]
    found = []
    for path in paths:
        one = profile_pb2.Source()
        one.CopyFrom(source)
        # A name with glob characters is escaped: it matches only itself.
        remote = source.kind in _REMOTE
        one.location = glob.escape(path) if is_glob(path) and not remote else path
        one.selection = profile_pb2.FILE_SELECTION_NEWEST
        found.append(one)
    return found


def _read_into(rows: list[dict[str, Any]], source: profile_pb2.Source, limit: int,
               file_roots: Sequence[Path] | None) -> None:
    parts = open_parts(source, file_roots)
    try:
        for part in parts:
            try:
                for batch in part.batches(limit - len(rows)):
                    rows.extend(_record(part, raw) for raw in batch[:limit - len(rows)])
                    if len(rows) >= limit:
                        break
            finally:
                part.close()
            if len(rows) >= limit:
                break
    finally:
        close = getattr(parts, "close", None)
        if close is not None:
            close()


def _record(part: RecordStream, raw: Any) -> dict[str, Any]:
    if part.kind == "dict":
        return dict(raw)
    return dict(zip(part.columns, raw, strict=False))


# -- the step -------------------------------------------------------------------------

@dataclass(frozen=True)
class Sampler:
    """Saves the masked sample of a run (``apply``); built once per runner."""

    directory: Path
    key: bytes
    file_roots: tuple[Path, ...] | None = None
    limits: SourceLimits | None = None

    def wanted(self, profile: profile_pb2.Profile, status: RunStatus) -> bool:
        return (profile.retention.sample_rows > 0
                and profile.operation != profile_pb2.OPERATION_EXPORT
                and profile.source.kind in SAMPLED_SOURCES
                and status in READ_THE_SOURCE)

    def apply(self, profile: profile_pb2.Profile, plan: FinishPlan, *, run_id: str,
              now: datetime) -> FinishPlan:
        """The plan with the sample's location and SAMPLE_SAVED action, or
        with a warning when the sample could not be saved."""
        if not self.wanted(profile, plan.status):
            return plan
        limit = profile.retention.sample_rows
        try:
            rows = read_first_records(profile.source, limit, self.file_roots, self.limits,
                                      plan.source_paths)
            if not rows:
                log.info("no masked sample saved: the source has no records")
                return plan
            masker = profile_masker(self.key, profile)
            masked = masker.mask_rows(rows, limit=limit)
            # save_sample masks too; a masked value masks to itself.
            path, action = retention.save_sample(masked, self.directory, run_id, masker,
                                                 now=now)
        except Exception as exc:  # noqa: BLE001 - sampling never fails the run
            reason = str(exc) or type(exc).__name__
            log.warning("could not save the masked sample: %s", reason)
            return replace(plan, warnings=(*plan.warnings, f"sample not saved: {reason}"))
        log.info("retention: %s %s (%s)", action.kind, action.path, action.detail)
        return replace(plan, sample_location=str(path), sample=sample_from_records(masked),
                       retention_actions=(*plan.retention_actions, action.to_proto()))
