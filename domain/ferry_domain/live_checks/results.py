"""One line of ``ferry profiles validate``: which check, its outcome (passed,
failed, or a note: not probed, or a drift to look at), and why."""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "source"
SHAPE = "shape"
SHAPE_DRIFT = "shape drift"
CREDENTIALS = "credentials"
TARGET = "target"
EXPORT_DIRECTORY = "export directory"


@dataclass(frozen=True)
class CheckResult:
    check: str
    ok: bool
    message: str
    # Not a failure, but not a pass either (shown "!"): not probed, or a drift.
    note: bool = False


def ok(check: str, message: str) -> CheckResult:
    return CheckResult(check, True, message)


def noted(check: str, message: str) -> CheckResult:
    return CheckResult(check, True, message, note=True)


def failed(check: str, message: str) -> CheckResult:
    return CheckResult(check, False, message)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
