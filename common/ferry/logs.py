"""Structured logging: JSON lines by default, a human format for terminals.

Run-related lines carry ``run_id`` and ``profile``: bind them for a block of
work with ``log_context(run_id=..., profile=...)``; every record logged inside
the block (in that thread or task) gets them. Extra fields passed with
``logger.info("...", extra={"fields": {...}})`` are added too.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_EMPTY: dict[str, Any] = {}
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "ferry_log_context", default=_EMPTY)  # noqa: B039 - never mutated, only replaced
_redactor = None


def set_redactor(redactor: Any) -> None:
    """Install a ``SecretRedactor`` applied to every formatted line."""
    global _redactor
    _redactor = redactor


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_context.get())


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(_context.get())
    extra = getattr(record, "fields", None)
    if isinstance(extra, dict):
        fields.update(extra)
    return fields


def _scrub(text: str) -> str:
    return _redactor.redact(text) if _redactor is not None else text


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _scrub(json.dumps(entry, default=str, ensure_ascii=False))


class HumanFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = f"{when} {record.levelname:<7} {self._service:<9} {record.getMessage()}"
        if fields:
            line = f"{line}  [{fields}]"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return _scrub(line)


def configure_logging(service: str, *, fmt: str = "json", level: str = "info") -> None:
    """Send every log record to stderr in the chosen format (json or human)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HumanFormatter(service) if fmt == "human" else JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pika", "sqlalchemy.engine", "alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
