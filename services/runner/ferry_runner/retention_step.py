"""Retention of a file source after a live run (``ferry_domain.retention``).

- COMPLETED / WARNING: ``retention.on_success`` — keep, delete, or move the
  files read to ``<backup_dir>/YYYY/MM/DD/``.
- FAILED: the files move to ``<failed_dir>/YYYY/MM/DD/`` when a failed folder
  is set (otherwise they stay where they are: a failed source is never lost),
  and failed files older than ``keep_failed_days`` are purged, except those
  of failures not yet released (``pins``, asked of the registry:
  ``GetFailedFilePins``); without the pins nothing is purged.
- After either: backups older than ``keep_backup_days`` are purged from
  ``backup_dir``.

Each purged file is recorded on the run as a PURGED retention action.

SFTP and FTP sources follow the same rules on their server
(``ferry_domain.remote_retention``, which also purges old backups there);
failed files are purged from local folders only.

Dry runs, exports, other non-file sources, cancelled and unchanged runs leave the
files alone. A retention step that fails does not change the run's outcome:
it becomes a warning, and the steps already taken are still recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
from ferry.retry import RetryStopped
from ferry.v1 import profile_pb2
from ferry_domain import retention
from ferry_domain.remote_retention import apply_remote
from ferry_domain.runs.states import RunStatus

from ferry_runner.outcome import READ_THE_SOURCE, FinishPlan

log = logging.getLogger(__name__)


_REMOTE_KINDS = (profile_pb2.SOURCE_KIND_SFTP, profile_pb2.SOURCE_KIND_FTP)
Pins = Callable[[], Mapping[str, datetime | None]]


def apply_retention(profile: profile_pb2.Profile, plan: FinishPlan, *, dry_run: bool,
                    now: datetime, pins: Pins | None = None) -> FinishPlan:
    remote = profile.source.kind in _REMOTE_KINDS
    if (dry_run or profile.operation == profile_pb2.OPERATION_EXPORT
            or (profile.source.kind != profile_pb2.SOURCE_KIND_FILE and not remote)
            or plan.status not in READ_THE_SOURCE):
        return plan
    policy = profile.retention
    actions: list[Any] = []
    warnings = list(plan.warnings)
    failed = plan.status is RunStatus.FAILED
    try:
        if remote:
            actions += apply_remote(profile.source, plan.source_paths, policy, now,
                                    failed=failed)
        elif failed:
            actions += retention.apply_failure([Path(p) for p in plan.source_paths], policy, now)
        else:
            actions += retention.apply_success([Path(p) for p in plan.source_paths], policy, now)
    except retention.RetentionError as exc:
        actions += exc.actions
        warnings.append(f"retention: {exc}")
        log.warning("retention step failed: %s", exc)
    if not remote:
        actions += _purge(profile, plan.status, now, pins, warnings)
    if not actions and warnings == list(plan.warnings):
        return plan
    for action in actions:
        log.info("retention: %s %s (%s)", action.kind, action.path, action.detail)
    return replace(plan, retention_actions=(*plan.retention_actions,
                                            *(a.to_proto() for a in actions)),
                   warnings=tuple(warnings))


def _purge(profile: profile_pb2.Profile, status: RunStatus, now: datetime, pins: Pins | None,
           warnings: list[str]) -> list[Any]:
    """Failed files past ``keep_failed_days`` (after a failed run) and backups
    past ``keep_backup_days``, each on its own: a purge that cannot be done
    becomes a warning and leaves the other to run."""
    policy = profile.retention
    done: list[Any] = []
    if (status is RunStatus.FAILED and policy.failed_dir and policy.keep_failed_days > 0
            and pins is not None):
        done += _attempt("failed files", warnings, lambda: retention.purge_failed(
            policy.failed_dir, policy.keep_failed_days, now, pins()))
    if policy.backup_dir and policy.keep_backup_days > 0:
        done += _attempt("backups", warnings, lambda: retention.purge_backups(
            policy.backup_dir, policy.keep_backup_days, now))
    return done


def _attempt(what: str, warnings: list[str], purge: Callable[[], list[Any]]) -> list[Any]:
    try:
        return purge()
    except (OSError, grpc.RpcError, RetryStopped) as exc:
        warnings.append(f"retention: no {what} purged ({exc})")
        log.warning("retention purge of %s skipped: %s", what, exc)
        return []
