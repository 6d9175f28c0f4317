"""Resolving secret references into values, mapping failures to
CredentialsError (the message names the reference, never a value)."""

from __future__ import annotations

from ferry.secrets import SecretError, resolve_secret

from ferry_domain.engine.errors import CredentialsError


def secret(ref: str, what: str) -> str:
    try:
        return resolve_secret(ref)
    except SecretError as exc:
        raise CredentialsError(f"{what}: {exc}") from None
