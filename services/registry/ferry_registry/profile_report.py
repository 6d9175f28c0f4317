"""The report ``ValidateProfile`` returns for a stored profile: its static
validation (``ferry_domain.profiles.validation``) as one ``definition`` line,
or one line per violation; then, when it is well-formed and live checks are
configured, the live checks (source reachable, shape, target writable)."""

from __future__ import annotations

from ferry_domain.profiles.validation import validate_profile

from ferry_registry.live_checks import CheckResult, LiveChecks
from ferry_registry.live_checks.results import failed, ok
from ferry_registry.store.profiles import ProfileStore

DEFINITION = "definition"


class ProfileReport:
    def __init__(self, store: ProfileStore, live: LiveChecks | None = None) -> None:
        self._store = store
        self._live = live

    def checks(self, name: str) -> list[CheckResult]:
        """The report's lines for the stored profile ``name`` (NotFoundError if none)."""
        profile = self._store.get(name)
        violations = validate_profile(profile)
        if violations:
            return [failed(f"{DEFINITION}: {v.field}", v.description) for v in violations]
        well_formed = ok(DEFINITION, "the profile is well-formed")
        if self._live is None:
            return [well_formed]
        return [well_formed, *self._live.run(profile)]
