"""The filter language of List methods (a subset of AIP-160).

A filter is a conjunction of comparisons joined by ``AND``::

    status = "FAILED" AND profile = "stock" AND queue_time >= "2026-01-01T00:00:00Z"

- A comparison is ``field OP value``; OP is one of ``= != >= <= > <``.
- Values are double- or single-quoted strings, or bare words (``FAILED``,
  ``true``, ``stock-feed``).
- Enum fields take the short name (``FAILED``, ``IMPORT``, ``SCHEDULE``) or the
  full name (``RUN_STATUS_FAILED``), case-insensitively; only ``=``/``!=``.
- Boolean fields take ``true``/``false``; only ``=``/``!=``.
- Time fields take RFC 3339 (``2026-01-01T00:00:00Z``); every operator.
- String fields: ``=``/``!=``.

Anything else is an ``InvalidArgumentError`` that says what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from ferry.errors import InvalidArgumentError, Violation
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

OPERATORS = ("!=", ">=", "<=", "=", ">", "<")
_TOKEN = re.compile(r"""\s*(?:
    (?P<op>!=|>=|<=|=|>|<)
  | "(?P<dq>(?:[^"\\]|\\.)*)"
  | '(?P<sq>(?:[^'\\]|\\.)*)'
  | (?P<word>[A-Za-z0-9_.:+\-]+)
  | (?P<bad>\S))""", re.VERBOSE)


@dataclass(frozen=True)
class Field:
    """A filterable field: ``kind`` is enum, string, bool or time."""

    column: Any
    kind: str
    enum: EnumTypeWrapper | None = None
    prefix: str = ""


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    value: Any


def _error(problem: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"invalid filter: {problem}", [Violation("filter", problem)])


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        if match.group("op"):
            found.append(("op", match.group("op")))
        elif match.group("dq") is not None:
            found.append(("str", re.sub(r"\\(.)", r"\1", match.group("dq"))))
        elif match.group("sq") is not None:
            found.append(("str", re.sub(r"\\(.)", r"\1", match.group("sq"))))
        elif match.group("word"):
            found.append(("word", match.group("word")))
        else:
            char = match.group("bad")
            if char in "\"'":
                rest = text[match.start("bad"):]
                raise _error(f"unterminated quoted string starting at {rest!r}")
            raise _error(f"unexpected character {char!r} at position {match.start('bad') + 1}")
    return found


def parse(text: str, fields: dict[str, Field]) -> list[Comparison]:
    """Parse ``text`` into comparisons over ``fields`` (raises InvalidArgumentError)."""
    tokens = _tokens(text or "")
    comparisons: list[Comparison] = []
    known = ", ".join(sorted(fields))
    index = 0
    while index < len(tokens):
        if comparisons:
            kind, word = tokens[index]
            if kind != "word" or word.upper() != "AND":
                raise _error(f"expected AND between comparisons, got {word!r} "
                             "(only AND is supported)")
            index += 1
        if index + 3 > len(tokens):
            rest = " ".join(t for _, t in tokens[index:]) or "end of filter"
            raise _error(f"incomplete comparison near {rest!r}; expected field OP value")
        (fkind, name), (okind, op), (vkind, raw) = tokens[index:index + 3]
        index += 3
        if fkind != "word":
            raise _error(f"expected a field name, got {name!r}")
        if name not in fields:
            raise _error(f"unknown field {name!r}; filterable fields: {known}")
        if okind != "op":
            raise _error(f"expected an operator ({' '.join(OPERATORS)}) after {name!r}, "
                         f"got {op!r}")
        if vkind == "op":
            raise _error(f"expected a value after {name} {op}, got {raw!r}")
        comparisons.append(Comparison(name, op, _value(name, fields[name], op, raw)))
    return comparisons


def _value(name: str, field: Field, op: str, raw: str) -> Any:
    if field.kind in ("enum", "bool", "string") and op not in ("=", "!="):
        raise _error(f"operator {op} is not allowed for {name}; use = or !=")
    if field.kind == "enum":
        assert field.enum is not None
        upper = raw.upper()
        for candidate in (upper, field.prefix + upper):
            if candidate in field.enum.keys() and not candidate.endswith("_UNSPECIFIED"):
                return field.enum.Value(candidate)
        names = ", ".join(k.removeprefix(field.prefix) for k in field.enum.keys()
                          if not k.endswith("_UNSPECIFIED"))
        raise _error(f"{raw!r} is not a valid {name}; expected one of {names}")
    if field.kind == "bool":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise _error(f"{name} must be true or false, got {raw!r}")
        return lowered == "true"
    if field.kind == "time":
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _error(f"{name} needs an RFC 3339 time such as 2026-01-01T00:00:00Z, "
                         f"got {raw!r}") from None
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return raw


def clauses(comparisons: list[Comparison], fields: dict[str, Field]) -> list[Any]:
    """SQLAlchemy conditions for parsed comparisons."""
    result = []
    for comparison in comparisons:
        column = fields[comparison.field].column
        value = comparison.value
        result.append({
            "=": lambda c, v: c == v, "!=": lambda c, v: c != v,
            ">=": lambda c, v: c >= v, "<=": lambda c, v: c <= v,
            ">": lambda c, v: c > v, "<": lambda c, v: c < v,
        }[comparison.op](column, value))
        if comparison.op == "!=" and fields[comparison.field].kind == "string":
            result[-1] = sa.or_(result[-1], column.is_(None))
    return result


def canonical(comparisons: list[Comparison]) -> str:
    """A stable text of the filter, to bind page tokens to it."""
    parts = []
    for c in comparisons:
        value = c.value.isoformat() if isinstance(c.value, datetime) else repr(c.value)
        parts.append(f"{c.field}{c.op}{value}")
    return " AND ".join(sorted(parts))
