"""Domain errors shared by every Ferry component.

Core code raises these; one place per transport maps them to a status (see
``ferry.grpc_errors`` for gRPC). Names end in ``Error``; each carries a
message written for the person who has to fix the problem.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One bad field of a request: ``field`` is a dotted path such as
    ``profile.mapping.fields[2].transforms[0].name``."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}"


class FerryError(Exception):
    """Base class of Ferry's domain errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(FerryError):
    """The request is malformed; ``violations`` names each bad field."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        violations = list(violations or [])
        if violations and message.endswith(":"):
            message = message + " " + "; ".join(str(v) for v in violations)
        super().__init__(message)
        self.violations = violations

    @classmethod
    def from_violations(cls, what: str, violations: list[Violation]) -> InvalidArgumentError:
        return cls(f"invalid {what}:", violations)


class NotFoundError(FerryError):
    """The named resource does not exist."""


class AlreadyExistsError(FerryError):
    """A resource with that identity exists already."""


class FailedPreconditionError(FerryError):
    """The system is not in a state where the request can be carried out."""


class UnavailableError(FerryError):
    """A dependency (database, broker, registry) cannot be reached right now;
    the caller may retry."""


class PermissionDeniedError(FerryError):
    """The caller may not do this."""
