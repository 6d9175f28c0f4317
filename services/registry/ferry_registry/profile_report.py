"""The report ``ValidateProfile`` returns for a stored profile: its static
validation (``ferry_domain.profiles.validation``) as one ``definition`` line,
or one line per violation. The live checks (source, shape, target) need the
runners' volumes, secrets and network: a runner executes them as a runner
task (``ferry_domain.live_checks``, ``ferry profiles validate``)."""

from __future__ import annotations

from ferry_domain.live_checks.results import CheckResult, failed, ok
from ferry_domain.profiles.validation import validate_profile

from ferry_registry.store.profiles import ProfileStore

DEFINITION = "definition"


class ProfileReport:
    def __init__(self, store: ProfileStore) -> None:
        self._store = store

    def checks(self, name: str) -> list[CheckResult]:
        """The report's lines for the stored profile ``name`` (NotFoundError if none)."""
        profile = self._store.get(name)
        violations = validate_profile(profile)
        if violations:
            return [failed(f"{DEFINITION}: {v.field}", v.description) for v in violations]
        return [ok(DEFINITION, "the profile is well-formed")]
