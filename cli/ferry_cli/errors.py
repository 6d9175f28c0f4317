"""Turn what can go wrong into the lines an operator reads on stderr."""

from __future__ import annotations

import click
import grpc
from ferry.config import ConfigError
from ferry.errors import FerryError, InvalidArgumentError, Violation
from ferry.grpc_errors import field_violations


class CliError(click.ClickException):
    """An error shown as ``error: ...`` lines; exit status 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(self.message, err=True)


def _violation_lines(message: str, violations: list[Violation]) -> str:
    joined = "; ".join(str(v) for v in violations)
    if violations and message.endswith(joined):
        message = message[: -len(joined)].rstrip(" :;")
    if not message and len(violations) == 1:
        return f"error: {violations[0]}"
    lines = [f"error: {message}"]
    lines += [f"  {v}" for v in violations]
    return "\n".join(lines)


def describe_rpc_error(exc: grpc.RpcError, address: str = "", timeout: float | None = None
                       ) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else None) or ""
    where = f" at {address}" if address else ""
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"error: registry unreachable{where} ({details or 'unavailable'})"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        limit = f" within {timeout:g}s" if timeout else " in time"
        return f"error: registry{where} did not answer{limit} (deadline exceeded)"
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        try:
            violations = field_violations(exc)
        except Exception:  # noqa: BLE001 - details are optional decoration
            violations = []
        return _violation_lines(details or "invalid argument", violations)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return f"error: unauthenticated: {details} (set FERRY_TOKEN to env:NAME or file:/path)"
    if code == grpc.StatusCode.NOT_FOUND:
        return f"error: not found: {details}" if "not found" not in details else f"error: {details}"
    name = code.name.lower().replace("_", " ") if code is not None else "rpc failed"
    return f"error: {name}: {details}" if details else f"error: {name}"


def describe_error(exc: BaseException, address: str = "", timeout: float | None = None) -> str:
    """One ``error: ...`` line (plus one line per field violation)."""
    if isinstance(exc, grpc.RpcError):
        return describe_rpc_error(exc, address, timeout)
    if isinstance(exc, InvalidArgumentError):
        return _violation_lines(exc.message, exc.violations)
    if isinstance(exc, FerryError):
        return f"error: {exc.message}"
    if isinstance(exc, ConfigError):
        return f"error: configuration: {exc}"
    if isinstance(exc, FileNotFoundError):
        return f"error: file not found: {exc.filename}"
    if isinstance(exc, OSError):
        target = f": {exc.filename}" if exc.filename else ""
        return f"error: {exc.strerror or exc}{target}"
    return f"error: internal: {type(exc).__name__}: {exc}"
