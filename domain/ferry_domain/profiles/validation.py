"""Structural validation of a ``ferry.v1.Profile``.

``validate_profile`` checks the rules every component relies on (name,
operation, entity type, source or export destination, secret references,
ranges), then adds what the engine knows (entity fields, transforms) through
``ferry_domain.engine.check_profile``. Violations name proto fields rooted at
``profile`` (``profile.source.credentials_ref``).
"""

from __future__ import annotations

import re

from ferry.durations import check_duration
from ferry.errors import Violation
from ferry.secrets import check_secret_ref
from ferry.v1 import profile_pb2 as pb

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_BATCH_SIZE = 100_000
MAX_ATTEMPTS = 100
MAX_SAMPLE_ROWS = 10_000


def validate_profile(profile: pb.Profile) -> list[Violation]:
    """Every structural problem of ``profile``, then the engine's; empty when valid."""
    violations: list[Violation] = []
    violations += _check_identity(profile)
    if profile.operation == pb.OPERATION_IMPORT:
        violations += _check_source(profile)
        if profile.HasField("export"):
            violations.append(Violation("profile.export", "is only for export profiles"))
    elif profile.operation == pb.OPERATION_EXPORT:
        if not profile.export.directory:
            violations.append(Violation("profile.export.directory",
                                        "is required for export profiles"))
        violations += _check_format(profile.export.format, "profile.export.format")
    violations += check_secret_ref(profile.target.dsn_ref, "profile.target.dsn_ref")
    violations += _check_retry(profile.retry)
    violations += _check_threshold(profile.error_threshold)
    violations += _check_retention(profile.retention)
    if not 0 <= profile.batch_size <= MAX_BATCH_SIZE:
        violations.append(Violation("profile.batch_size",
                                    f"must be between 0 and {MAX_BATCH_SIZE}, "
                                    f"got {profile.batch_size}"))
    reported = {v.field for v in violations}
    violations += [v for v in _engine_violations(profile) if v.field not in reported]
    return violations


def _engine_violations(profile: pb.Profile) -> list[Violation]:
    """The engine's checks, with field paths rooted at ``profile`` like ours."""
    try:
        from ferry_domain.engine import check_profile
    except ImportError:  # the engine is not installed in this build
        return []
    return [
        v if v.field.startswith("profile.") else Violation(f"profile.{v.field}", v.description)
        for v in check_profile(profile)
    ]


def _check_identity(profile: pb.Profile) -> list[Violation]:
    violations: list[Violation] = []
    if not profile.name:
        violations.append(Violation("profile.name", "is required"))
    elif not NAME_PATTERN.match(profile.name):
        violations.append(Violation(
            "profile.name",
            f'"{profile.name}" must be 1 to 63 lower-case letters, digits, "-" or "_", '
            "starting with a letter or digit"))
    if profile.operation == pb.OPERATION_UNSPECIFIED:
        violations.append(Violation("profile.operation", "is required (import or export)"))
    elif profile.operation not in pb.Operation.values():
        violations.append(Violation("profile.operation", f"unknown value {profile.operation}"))
    if not profile.entity_type:
        violations.append(Violation("profile.entity_type",
                                    "is required (e.g. products, customers, inventory)"))
    return violations


def _check_source(profile: pb.Profile) -> list[Violation]:
    source = profile.source
    if not profile.HasField("source") or source.kind == pb.SOURCE_KIND_UNSPECIFIED:
        return [Violation("profile.source.kind",
                          "import profiles need a source (file, http, sql or connector)")]
    violations: list[Violation] = []
    if source.kind in (pb.SOURCE_KIND_FILE, pb.SOURCE_KIND_HTTP, pb.SOURCE_KIND_SQL) \
            and not source.location:
        what = {pb.SOURCE_KIND_FILE: "a path or glob", pb.SOURCE_KIND_HTTP: "a URL",
                pb.SOURCE_KIND_SQL: "a query"}[source.kind]
        violations.append(Violation("profile.source.location", f"is required ({what})"))
    if source.kind == pb.SOURCE_KIND_CONNECTOR and not source.connector:
        violations.append(Violation("profile.source.connector",
                                    "is required for connector sources"))
    violations += check_secret_ref(source.credentials_ref, "profile.source.credentials_ref")
    violations += check_secret_ref(source.dsn_ref, "profile.source.dsn_ref")
    violations += check_duration(source.timeout, "profile.source.timeout")
    violations += _check_format(source.format, "profile.source.format")
    return violations


def _check_format(fmt: pb.Format, field: str) -> list[Violation]:
    violations: list[Violation] = []
    for name in ("delimiter", "quote_char"):
        value = getattr(fmt, name)
        if value and len(value) != 1 and value != "\\t":
            violations.append(Violation(f"{field}.{name}",
                                        f'must be one character, got "{value}"'))
    return violations


def _check_retry(retry: pb.RetryPolicy) -> list[Violation]:
    violations: list[Violation] = []
    if not 0 <= retry.max_attempts <= MAX_ATTEMPTS:
        violations.append(Violation("profile.retry.max_attempts",
                                    f"must be between 0 (default) and {MAX_ATTEMPTS}, "
                                    f"got {retry.max_attempts}"))
    for name in ("initial_backoff", "max_backoff", "max_elapsed"):
        violations += check_duration(getattr(retry, name), f"profile.retry.{name}")
    if retry.HasField("initial_backoff") and retry.HasField("max_backoff") and (
            retry.max_backoff.ToTimedelta() < retry.initial_backoff.ToTimedelta()):
        violations.append(Violation("profile.retry.max_backoff",
                                    "must not be shorter than initial_backoff"))
    return violations


def _check_threshold(threshold: pb.ErrorThreshold) -> list[Violation]:
    violations: list[Violation] = []
    if threshold.max_errors < -1:
        violations.append(Violation("profile.error_threshold.max_errors",
                                    "must be -1 (no count limit) or more"))
    if not 0 <= threshold.max_error_percent <= 100:
        violations.append(Violation("profile.error_threshold.max_error_percent",
                                    f"must be between 0 and 100, "
                                    f"got {threshold.max_error_percent:g}"))
    return violations


def _check_retention(retention: pb.RetentionPolicy) -> list[Violation]:
    violations: list[Violation] = []
    for name in ("keep_failed_days", "keep_runs_days", "keep_min_runs"):
        if getattr(retention, name) < 0:
            violations.append(Violation(f"profile.retention.{name}", "must be 0 or more"))
    if not 0 <= retention.sample_rows <= MAX_SAMPLE_ROWS:
        violations.append(Violation("profile.retention.sample_rows",
                                    f"must be between 0 and {MAX_SAMPLE_ROWS}"))
    if retention.on_success == pb.SUCCESS_ACTION_MOVE_TO_BACKUP and not retention.backup_dir:
        violations.append(Violation("profile.retention.backup_dir",
                                    "is required when on_success is move_to_backup"))
    return violations
