"""A masked sample of the first rows of an import run's source, for audit.

For a live or dry import run of a FILE, HTTP or SQL source whose profile has
``retention.sample_rows`` > 0, the first N source records (as read: source
column -> value) are masked with ``ferry_domain.masking.Masker(key,
retention.masked_fields)`` and written by ``ferry_domain.retention.save_sample`` to
``<FERRY_SAMPLES_DIR>/<run_id>.sample.csv``. The run records the path
(``sample_location``) and a SAMPLE_SAVED retention action. This happens for
COMPLETED, WARNING and FAILED runs (a failed run's sample helps most), not for
CANCELLED or UNCHANGED ones, and before retention moves or deletes the files.

The engine has no hook that hands out the records it reads, so the sample is
read again, with the engine's own readers (``open_parts``, the runner's
``FERRY_FILE_ROOTS`` and size limits): the files the run read, or the source
again when it read none (HTTP, SQL, or a run that failed before opening a
file); only the first N records are parsed (an HTTP body is downloaded
again). Sampling never fails a run: an error becomes a warning line of the
run, and is logged.

The key (``FERRY_MASK_KEY``, a secret reference) makes masks deterministic:
the same value masks the same way under one key. When it is unset the runner
generates a random key once and keeps it in ``<FERRY_STATE_DIR>/mask.key``
(mode 0600), so masks stay stable across restarts of that runner; runners
that must correlate masks share one key through ``FERRY_MASK_KEY``.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ferry.config import ConfigError
from ferry.secrets import SecretError, resolve_secret
from ferry.v1 import profile_pb2
from ferry_domain import retention
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.limits import SourceLimits
from ferry_domain.engine.limits import using as using_limits
from ferry_domain.engine.sources import open_parts
from ferry_domain.engine.sources.files import is_glob
from ferry_domain.masking import Masker
from ferry_domain.runs.states import RunStatus

from ferry_runner.outcome import READ_THE_SOURCE, FinishPlan

log = logging.getLogger(__name__)

MASK_KEY_FILE = "mask.key"
MIN_KEY_CHARS = 16
SAMPLED_SOURCES = (profile_pb2.SOURCE_KIND_FILE, profile_pb2.SOURCE_KIND_UNSPECIFIED,
                   profile_pb2.SOURCE_KIND_HTTP, profile_pb2.SOURCE_KIND_SQL)


# -- the key ------------------------------------------------------------------------

def load_mask_key(ref: str, state_dir: str | Path) -> bytes:
    """The masking key: the secret ``ref`` points at, or (``ref`` empty) the
    one kept in ``<state_dir>/mask.key``, generated on first use. Raises
    ``ConfigError`` naming FERRY_MASK_KEY (never the key)."""
    if ref:
        try:
            value = resolve_secret(ref)
        except SecretError as exc:
            raise ConfigError(f"FERRY_MASK_KEY: {exc}") from None
        if len(value.strip()) < MIN_KEY_CHARS:
            raise ConfigError(f"FERRY_MASK_KEY: the key must be at least {MIN_KEY_CHARS} "
                              "characters")
        return value.encode("utf-8")
    path = Path(state_dir) / MASK_KEY_FILE
    try:
        if not path.exists():
            _create_key_file(path)
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"FERRY_MASK_KEY is unset and {path} cannot be used "
                          f"({exc.strerror or exc})") from None
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(f"FERRY_MASK_KEY is unset and {path} holds no usable key "
                          f"(at least {MIN_KEY_CHARS} characters); delete it or set "
                          "FERRY_MASK_KEY")
    return value.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Write a random key to ``path`` (mode 0600) unless another process did
    first: the key is written to a private temporary file, then hard-linked
    into place, so a reader never sees a partial key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".partial")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another runner was first: use its key
            os.link(temporary, path)
            log.info("generated a masking key in %s (set FERRY_MASK_KEY to share one key "
                     "between runners)", path)
    finally:
        Path(temporary).unlink(missing_ok=True)


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
                                        profile_pb2.SOURCE_KIND_UNSPECIFIED):
        return [source]
    found = []
    for path in paths:
        one = profile_pb2.Source()
        one.CopyFrom(source)
        # A name with glob characters is escaped: it matches only itself.
        one.location = glob.escape(path) if is_glob(path) else path
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
            masker = Masker(self.key, profile.retention.masked_fields)
            path, action = retention.save_sample(rows, self.directory, run_id, masker,
                                                 now=now, limit=limit)
        except Exception as exc:  # noqa: BLE001 - sampling never fails the run
            reason = str(exc) or type(exc).__name__
            log.warning("could not save the masked sample: %s", reason)
            return replace(plan, warnings=(*plan.warnings, f"sample not saved: {reason}"))
        log.info("retention: %s %s (%s)", action.kind, action.path, action.detail)
        return replace(plan, sample_location=str(path),
                       retention_actions=(*plan.retention_actions, action.to_proto()))
