"""Secrets by reference: ``env:NAME`` or ``file:/path``, never inline.

A reference names where the secret lives; ``resolve_secret`` reads it at the
moment of use. Values never go into logs, run records or errors: use
``SecretRedactor`` to scrub text that may contain one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ferry.errors import InvalidArgumentError, Violation

_REF = re.compile(r"^(env):([A-Za-z_][A-Za-z0-9_]*)$|^(file):(/.+)$")


class SecretError(Exception):
    """A secret reference cannot be resolved; the message names the reference,
    never a value."""


def check_secret_ref(ref: str, field: str) -> list[Violation]:
    """Violations for a malformed reference (empty is allowed)."""
    if not ref or _REF.match(ref):
        return []
    return [
        Violation(
            field,
            "must reference a secret as env:NAME or file:/absolute/path, not hold its value",
        )
    ]


def resolve_secret(ref: str) -> str:
    """Return the secret a reference points at (stripped of a trailing newline)."""
    match = _REF.match(ref or "")
    if not match:
        raise SecretError(f"secret reference {_describe(ref)} is not env:NAME or file:/path")
    if match.group(1):
        name = match.group(2)
        value = os.environ.get(name)
        if value is None:
            raise SecretError(f"secret env:{name} is not set in the environment")
        return value
    path = Path(match.group(4))
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SecretError(f"secret file:{path} cannot be read ({exc.strerror})") from None


def _describe(ref: str) -> str:
    return "(empty)" if not ref else f"of {len(ref)} characters"


def validate_ref(ref: str, field: str) -> None:
    violations = check_secret_ref(ref, field)
    if violations:
        raise InvalidArgumentError.from_violations("secret reference", violations)


class SecretRedactor:
    """Replaces known secret values in text with ``***``."""

    def __init__(self, values: list[str] | None = None) -> None:
        kept = {v for v in (values or []) if v and len(v) >= 4}
        self._values = sorted(kept, key=len, reverse=True)

    def add(self, value: str) -> None:
        if value and len(value) >= 4 and value not in self._values:
            self._values.append(value)
            self._values.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        return text
