"""One line of ``ferry profiles validate``: which check, ok or not, and why."""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "source"
SHAPE = "shape"
TARGET = "target"
EXPORT_DIRECTORY = "export directory"


@dataclass(frozen=True)
class CheckResult:
    check: str
    ok: bool
    message: str


def ok(check: str, message: str) -> CheckResult:
    return CheckResult(check, True, message)


def failed(check: str, message: str) -> CheckResult:
    return CheckResult(check, False, message)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
