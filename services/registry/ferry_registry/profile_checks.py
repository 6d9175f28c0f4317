"""Static validation of a profile, delegated to ``ferry_domain.profiles.validation``.

Until that shared module is installed, a minimal set of checks of our own is
used so the registry never stores a profile it cannot key or run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ferry.errors import Violation
from ferry.v1 import profile_pb2

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _shared_validator() -> Callable[[profile_pb2.Profile], list[Violation]] | None:
    try:
        from ferry_domain.profiles.validation import validate_profile  # type: ignore[import-not-found]
    except ImportError:
        return None
    return validate_profile


def check_name(name: str) -> list[Violation]:
    if not name:
        return [Violation("profile.name", "is required")]
    if not NAME.match(name):
        return [Violation("profile.name", f"{name!r} must be 1 to 63 lower-case letters, "
                          "digits, '-' or '_', starting with a letter or digit")]
    return []


def minimal_checks(profile: profile_pb2.Profile) -> list[Violation]:
    violations = check_name(profile.name)
    if not profile.entity_type:
        violations.append(Violation("profile.entity_type", "is required"))
    if profile.operation == profile_pb2.OPERATION_UNSPECIFIED:
        violations.append(Violation("profile.operation", "is required (IMPORT or EXPORT)"))
    if profile.operation == profile_pb2.OPERATION_IMPORT:
        if profile.source.kind == profile_pb2.SOURCE_KIND_UNSPECIFIED:
            violations.append(Violation("profile.source.kind", "is required for an import"))
        if not profile.source.location and profile.source.kind != profile_pb2.SOURCE_KIND_CONNECTOR:
            violations.append(Violation("profile.source.location", "is required for an import"))
    if profile.operation == profile_pb2.OPERATION_EXPORT and not profile.export.directory:
        violations.append(Violation("profile.export.directory", "is required for an export"))
    for index, field in enumerate(profile.mapping.fields):
        if not field.target:
            violations.append(Violation(f"profile.mapping.fields[{index}].target",
                                        "is required"))
    if profile.retry.max_attempts < 0:
        violations.append(Violation("profile.retry.max_attempts", "must not be negative"))
    if profile.batch_size < 0:
        violations.append(Violation("profile.batch_size", "must not be negative"))
    return violations


def validate(profile: profile_pb2.Profile) -> list[Violation]:
    """Every problem of ``profile``; the name is always checked here too."""
    shared = _shared_validator()
    if shared is None:
        return minimal_checks(profile)
    violations = list(shared(profile))
    if not any(v.field == "profile.name" for v in violations):
        violations = check_name(profile.name) + violations
    return violations
