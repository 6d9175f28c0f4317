"""Bearer tokens: parsing the token table and finding who holds a token.

The table lives in a secret (``FERRY_AUTH_TOKENS=file:/etc/ferry/tokens`` or
``env:NAME``), one token per line::

    # comments and blank lines are ignored
    reader:3q2-QHc3bW9sZ2VkLXJlYWRlci10b2tlbg
    alice:operator:c2VjcmV0LW9wZXJhdG9yLXRva2VuLWFsaWNl
    runner-1:service:cnVubmVyLW9uZS1zZXJ2aWNlLXRva2Vu

``role:token`` or ``name:role:token``; roles are ``reader``, ``operator``
and ``service``. A name (default: ``<role>-line<N>``) shows in logs; a token
never does. Tokens are at least ``MIN_TOKEN_LENGTH`` characters, hold no
whitespace or colon, and appear once.

Only SHA-256 digests of tokens are kept in memory. ``TokenTable.lookup``
hashes the presented token and compares it with every stored digest using
``hmac.compare_digest``, without stopping at the first match.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ferry.config import ConfigError
from ferry.security.roles import Role, parse_role

MIN_TOKEN_LENGTH = 16


class TokenTableError(ConfigError):
    """The token table is malformed; the message names the line, never a token."""


@dataclass(frozen=True)
class Principal:
    """The holder of a token: a name for logs and the role it was given."""

    name: str
    role: Role


@dataclass(frozen=True)
class _Entry:
    digest: bytes
    principal: Principal


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class TokenTable:
    """Token digests and the principals they stand for."""

    def __init__(self, entries: list[tuple[str, Principal]]) -> None:
        self._entries = tuple(_Entry(_digest(token), who) for token, who in entries)

    @classmethod
    def parse(cls, text: str, *, source: str = "token table") -> TokenTable:
        """Parse ``role:token`` / ``name:role:token`` lines; ``source`` names
        the table in error messages."""
        entries: list[tuple[str, Principal]] = []
        seen_tokens: set[bytes] = set()
        seen_names: set[str] = set()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{source} line {number}"
            parts = line.split(":")
            if len(parts) == 2:
                role_text, token = parts
                name = ""
            elif len(parts) == 3:
                name, role_text, token = (p.strip() for p in parts)
                if not name:
                    raise TokenTableError(f"{where}: the name before the role is empty")
            else:
                raise TokenTableError(
                    f"{where}: expected role:token or name:role:token "
                    f"(tokens may not contain ':')")
            try:
                role = parse_role(role_text)
            except ValueError as exc:
                raise TokenTableError(f"{where}: {exc}") from None
            token = token.strip()
            if len(token) < MIN_TOKEN_LENGTH:
                raise TokenTableError(
                    f"{where}: token is shorter than {MIN_TOKEN_LENGTH} characters")
            if any(ch.isspace() for ch in token):
                raise TokenTableError(f"{where}: token contains whitespace")
            digest = _digest(token)
            if digest in seen_tokens:
                raise TokenTableError(f"{where}: the same token appears on an earlier line")
            name = name or f"{role.value}-line{number}"
            if name in seen_names:
                raise TokenTableError(f"{where}: the name {name!r} appears on an earlier line")
            seen_tokens.add(digest)
            seen_names.add(name)
            entries.append((token, Principal(name=name, role=role)))
        if not entries:
            raise TokenTableError(f"{source} holds no tokens")
        return cls(entries)

    def lookup(self, token: str) -> Principal | None:
        """The principal holding ``token``, or None for an unknown token."""
        presented = _digest(token)
        found: Principal | None = None
        for entry in self._entries:
            if hmac.compare_digest(entry.digest, presented):
                found = entry.principal
        return found

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        roles = ", ".join(sorted({e.principal.role.value for e in self._entries}))
        return f"TokenTable({len(self._entries)} tokens; roles: {roles})"
