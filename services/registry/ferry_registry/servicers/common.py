"""Helpers shared by the servicers."""

from __future__ import annotations

from ferry.errors import InvalidArgumentError, Violation


def require(**fields: object) -> None:
    """INVALID_ARGUMENT naming every empty required field."""
    missing = [Violation(name, "is required") for name, value in fields.items() if not value]
    if missing:
        raise InvalidArgumentError(
            f"missing required field(s): {', '.join(v.field for v in missing)}", missing)
