"""AIP-158 pagination: page sizes and opaque keyset page tokens.

A token holds the sort key of the last item returned, the list it belongs to
and a digest of the filter and order it was issued for, plus an HMAC so a
tampered token is rejected (INVALID_ARGUMENT) instead of silently skipping
rows. Tokens stay valid across registry restarts and replicas.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from ferry.errors import InvalidArgumentError, Violation

_KEY = b"ferry.v1 page token"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE,
              maximum: int = MAX_PAGE_SIZE) -> int:
    """0 means the default; above the maximum is coerced; negative is invalid."""
    if requested < 0:
        raise InvalidArgumentError(f"page_size must not be negative, got {requested}",
                                   [Violation("page_size", "must not be negative")])
    if requested == 0:
        return default
    return min(requested, maximum)


def _bad_token(why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"invalid page_token: {why}", [Violation("page_token", why)])


def _digest(kind: str, query: str) -> str:
    return hashlib.sha256(f"{kind}\n{query}".encode()).hexdigest()[:16]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.fromisoformat(value["dt"])
    return value


def encode_token(kind: str, query: str, key: Sequence[Any]) -> str:
    payload = json.dumps({"k": kind, "q": _digest(kind, query),
                          "v": [_encode_value(v) for v in key]},
                         separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(_KEY, payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


def decode_token(token: str, kind: str, query: str) -> list[Any] | None:
    """The sort key stored in ``token``; None for an empty token."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise _bad_token("not a page token returned by this method") from None
    mac, payload = raw[:12], raw[12:]
    if not hmac.compare_digest(mac, hmac.new(_KEY, payload, hashlib.sha256).digest()[:12]):
        raise _bad_token("the token was modified or does not come from this method")
    try:
        data = json.loads(payload)
        values = [_decode_value(v) for v in data["v"]]
    except (ValueError, KeyError, TypeError):
        raise _bad_token("the token cannot be read") from None
    if data.get("k") != kind:
        raise _bad_token(f"the token belongs to another list, not {kind}")
    if data.get("q") != _digest(kind, query):
        raise _bad_token("the filter or order changed since the token was issued; "
                         "start again without a page_token")
    return values


@dataclass(frozen=True)
class Order:
    """Sort columns with directions, for keyset pages."""

    columns: tuple[tuple[Any, bool], ...]  # (column, descending)

    def order_by(self) -> list[Any]:
        return [c.desc() if desc else c.asc() for c, desc in self.columns]

    def after(self, key: Sequence[Any]) -> Any:
        """Rows strictly after the row whose sort key is ``key``."""
        if len(key) != len(self.columns):
            raise _bad_token("the token does not match this list's order")
        alternatives = []
        for index, (column, desc) in enumerate(self.columns):
            equal = [c == key[i] for i, (c, _) in enumerate(self.columns[:index])]
            beyond = column < key[index] if desc else column > key[index]
            alternatives.append(sa.and_(*equal, beyond))
        return sa.or_(*alternatives)


@dataclass
class Page:
    rows: list[Any]
    next_token: str


def fetch_page(session: Any, statement: Any, order: Order, *, kind: str, query: str,
               token: str, size: int, key_of: Any) -> Page:
    """Run ``statement`` (a select of rows) one page at a time."""
    key = decode_token(token, kind, query)
    if key is not None:
        statement = statement.where(order.after(key))
    statement = statement.order_by(*order.order_by()).limit(size + 1)
    rows = list(session.scalars(statement))
    more = len(rows) > size
    rows = rows[:size]
    next_token = encode_token(kind, query, key_of(rows[-1])) if more and rows else ""
    return Page(rows=rows, next_token=next_token)
