"""ValidateProfile: the static checks of a stored profile, then, when it is
well-formed, the live checks (source reachable, shape, target writable)."""

from __future__ import annotations

from ferry_registry.live_checks import CheckResult, LiveChecks
from ferry_registry.store.profiles import ProfileStore


class ProfileValidator:
    def __init__(self, store: ProfileStore, live: LiveChecks | None = None) -> None:
        self._store = store
        self._live = live

    def validate(self, name: str) -> list[CheckResult]:
        static = [CheckResult(check, ok, message)
                  for check, ok, message in self._store.validate(name)]
        if self._live is None or not all(c.ok for c in static):
            return static  # a malformed profile is not probed
        return static + self._live.run(self._store.get(name))
