"""Static validation of a ``ferry.v1.Profile``: the one entry point.

``validate_profile`` is what the registry runs on every apply and on
``ValidateProfile``; it does no I/O. It checks every rule of a profile's
definition here: identity (name, operation), the source or the export
destination, secret references, names written to (target table, export
file prefix), formats, durations and ranges, ``expect_change_within`` and
the webhooks (``notifications``). Then it adds the engine's own
checks (``ferry_domain.engine.check_profile``): the rules only the engine can
decide, against its catalogue of entity types, transforms and formats (see
that module). Each rule lives in exactly one of the two.

Violations name proto fields rooted at ``profile``
(``profile.source.credentials_ref``,
``profile.mapping.fields[2].transforms[0].name``).
"""

from __future__ import annotations

import codecs
import re
from datetime import timedelta
from urllib.parse import urlsplit

from ferry.durations import check_duration
from ferry.errors import Violation
from ferry.secrets import check_secret_ref
from ferry.v1 import profile_pb2 as pb

from ferry_domain.engine import check_profile
from ferry_domain.profiles.remote_source_checks import check_remote_source

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
TABLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
FILE_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9._-]{0,100}$")
MARKER_PATTERN = re.compile(r"^(?:[^/\\{}]|\{name\}|\{stem\})+$")
MAX_BATCH_SIZE = 100_000
MAX_ATTEMPTS = 100
MAX_SAMPLE_ROWS = 10_000
MAX_NOTIFICATIONS = 10

_LOCATION_KINDS = {pb.SOURCE_KIND_FILE: "a path or glob", pb.SOURCE_KIND_HTTP: "a URL",
                   pb.SOURCE_KIND_SQL: "a query"}


def validate_profile(profile: pb.Profile) -> list[Violation]:
    """Every problem of ``profile``, the definition's then the engine's; empty when
    it is valid."""
    violations = _check_identity(profile)
    if profile.operation == pb.OPERATION_IMPORT:
        violations += _check_source(profile)
        if profile.HasField("export"):
            violations.append(Violation("profile.export", "is only for export profiles"))
    elif profile.operation == pb.OPERATION_EXPORT:
        violations += _check_export(profile.export)
    violations += _check_target(profile.target)
    violations += _check_retry(profile.retry)
    violations += _check_threshold(profile.error_threshold)
    violations += _check_retention(profile.retention)
    violations += _check_expectations(profile)
    if not 0 <= profile.batch_size <= MAX_BATCH_SIZE:
        violations.append(Violation("profile.batch_size",
                                    f"must be between 0 and {MAX_BATCH_SIZE}, "
                                    f"got {profile.batch_size}"))
    violations += [Violation(f"profile.{v.field}", v.description) for v in check_profile(profile)]
    return violations


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
    elif profile.operation == pb.OPERATION_ROLLBACK:
        violations.append(Violation(
            "profile.operation",
            "rollback is only a run's operation (`ferry runs rollback RUN`); a profile "
            "imports or exports"))
    elif profile.operation not in pb.Operation.values():
        violations.append(Violation("profile.operation", f"unknown value {profile.operation}"))
    return violations


def _check_source(profile: pb.Profile) -> list[Violation]:
    source = profile.source
    if not profile.HasField("source") or source.kind == pb.SOURCE_KIND_UNSPECIFIED:
        return [Violation("profile.source.kind", "import profiles need a source "
                          "(file, http, sftp, ftp, sql or connector)")]
    violations = _check_location(source)
    if source.kind == pb.SOURCE_KIND_CONNECTOR and not source.connector:
        violations.append(Violation("profile.source.connector",
                                    "is required for connector sources"))
    if source.auth in (pb.AUTH_KIND_BEARER, pb.AUTH_KIND_BASIC) and not source.credentials_ref:
        violations.append(Violation("profile.source.credentials_ref",
                                    "is required for bearer or basic auth"))
    violations += check_secret_ref(source.credentials_ref, "profile.source.credentials_ref")
    if source.kind == pb.SOURCE_KIND_SQL and not source.dsn_ref:
        violations.append(Violation("profile.source.dsn_ref", "is required for SQL sources"))
    violations += check_secret_ref(source.dsn_ref, "profile.source.dsn_ref")
    violations += check_duration(source.timeout, "profile.source.timeout")
    violations += _check_drop_folder(source)
    violations += check_remote_source(source)
    violations += _check_format(source.format, "profile.source.format")
    return violations


def _check_drop_folder(source: pb.Source) -> list[Violation]:
    """``stable_for`` and ``ready_marker`` hold back files of a drop folder."""
    violations = check_duration(source.stable_for, "profile.source.stable_for")
    remote = source.kind in (pb.SOURCE_KIND_SFTP, pb.SOURCE_KIND_FTP)
    used = (["stable_for"] if source.HasField("stable_for") and not remote else []) + \
        (["ready_marker"] if source.ready_marker else [])
    if used and (source.kind != pb.SOURCE_KIND_FILE
                 or source.selection == pb.FILE_SELECTION_SINGLE):
        violations += [Violation(f"profile.source.{name}",
                                 "applies to drop folders only: a file source whose location "
                                 "is a glob or folder, with selection newest or each")
                       for name in used]
    marker = source.ready_marker
    if marker and (not MARKER_PATTERN.match(marker) or marker in (".", "..")):
        violations.append(Violation(
            "profile.source.ready_marker",
            f'"{marker}" must be a file name or glob in the same folder (no "/"), '
            'optionally with {name} or {stem}, e.g. "{name}.done" or "_SUCCESS"'))
    return violations


def _check_location(source: pb.Source) -> list[Violation]:
    if source.kind in _LOCATION_KINDS and not source.location.strip():
        return [Violation("profile.source.location",
                          f"is required ({_LOCATION_KINDS[source.kind]})")]
    if source.kind != pb.SOURCE_KIND_HTTP:
        return []
    violations: list[Violation] = []
    if not source.location.lower().startswith(("http://", "https://")):
        violations.append(Violation("profile.source.location",
                                    "must be an http:// or https:// URL"))
    url = urlsplit(source.location)
    if url.username or url.password:
        violations.append(Violation("profile.source.location",
                                    "must not hold credentials; use credentials_ref"))
    return violations


def _check_export(export: pb.ExportSpec) -> list[Violation]:
    violations: list[Violation] = []
    if not export.directory:
        violations.append(Violation("profile.export.directory",
                                    "is required for export profiles"))
    if not FILE_PREFIX_PATTERN.match(export.file_prefix):
        violations.append(Violation("profile.export.file_prefix",
                                    "use letters, digits, '.', '_' and '-' only"))
    violations += _check_format(export.format, "profile.export.format")
    return violations


def _check_format(fmt: pb.Format, field: str) -> list[Violation]:
    violations: list[Violation] = []
    for name in ("delimiter", "quote_char"):
        value = getattr(fmt, name)
        if value and len(value) != 1:
            violations.append(Violation(f"{field}.{name}",
                                        f'must be one character, got "{value}"'))
    if fmt.encoding:
        try:
            codecs.lookup(fmt.encoding)
        except LookupError:
            violations.append(Violation(f"{field}.encoding",
                                        f"unknown text encoding {fmt.encoding!r}"))
    return violations


def _check_target(target: pb.Target) -> list[Violation]:
    violations = check_secret_ref(target.dsn_ref, "profile.target.dsn_ref")
    if target.table and not TABLE_PATTERN.match(target.table):
        violations.append(Violation("profile.target.table",
                                    "must be a plain SQL identifier (letters, digits, _)"))
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
    for name in ("keep_backup_days", "keep_failed_days", "keep_runs_days", "keep_min_runs"):
        if getattr(retention, name) < 0:
            violations.append(Violation(f"profile.retention.{name}", "must be 0 or more"))
    if not 0 <= retention.sample_rows <= MAX_SAMPLE_ROWS:
        violations.append(Violation("profile.retention.sample_rows",
                                    f"must be between 0 and {MAX_SAMPLE_ROWS}"))
    if retention.on_success == pb.SUCCESS_ACTION_MOVE_TO_BACKUP and not retention.backup_dir:
        violations.append(Violation("profile.retention.backup_dir",
                                    "is required when on_success is move_to_backup"))
    return violations


def _check_expectations(profile: pb.Profile) -> list[Violation]:
    """``expect_change_within`` (positive when set) and the webhooks."""
    violations = check_duration(profile.expect_change_within, "profile.expect_change_within")
    if profile.HasField("expect_change_within") and not violations and \
            profile.expect_change_within.ToTimedelta() <= timedelta(0):
        violations.append(Violation("profile.expect_change_within",
                                    "must be longer than 0s (leave it out to never go stale)"))
    if len(profile.notifications) > MAX_NOTIFICATIONS:
        violations.append(Violation("profile.notifications",
                                    f"at most {MAX_NOTIFICATIONS} webhooks"))
    for i, notification in enumerate(profile.notifications):
        violations += _check_notification(notification, f"profile.notifications[{i}]")
        if notification.events and pb.NOTIFICATION_EVENT_STALE in notification.events and \
                not profile.HasField("expect_change_within"):
            violations.append(Violation(f"profile.notifications[{i}].events",
                                        "stale needs the profile's expect_change_within"))
    return violations


def _check_notification(notification: pb.ProfileNotification, field: str) -> list[Violation]:
    violations: list[Violation] = []
    url = urlsplit(notification.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        violations.append(Violation(f"{field}.url", "must be an http:// or https:// URL"))
    if not notification.events:
        violations.append(Violation(f"{field}.events",
                                    "name at least one of failed, recovered, stale, auto_paused"))
    unknown = [e for e in notification.events
               if e == pb.NOTIFICATION_EVENT_UNSPECIFIED or e not in pb.NotificationEvent.values()]
    if unknown:
        violations.append(Violation(f"{field}.events", f"unknown event {unknown[0]}"))
    if notification.format not in pb.NotificationFormat.values():
        violations.append(Violation(f"{field}.format", f"unknown value {notification.format}"))
    violations += check_secret_ref(notification.secret_ref, f"{field}.secret_ref")
    return violations
