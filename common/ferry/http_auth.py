"""What every HTTP GET of a source sends: the profile's headers, bearer or
basic auth read from the secret reference, and the timeout.

The engine's HTTP source, the freshness probe and the registry's validation
all build their requests here; each turns ``HttpAuthError`` into its own
credentials error. Messages name the secret reference, never its value.
"""

from __future__ import annotations

import httpx

from ferry.secrets import SecretError, resolve_secret
from ferry.v1 import profile_pb2

DEFAULT_TIMEOUT = 30.0


class HttpAuthError(Exception):
    """The source's credentials cannot be turned into a request."""


def source_timeout(source: profile_pb2.Source, default: float = DEFAULT_TIMEOUT) -> float:
    """The source's timeout in seconds, or ``default`` when unset or not positive."""
    if source.HasField("timeout"):
        seconds = source.timeout.seconds + source.timeout.nanos / 1e9
        if seconds > 0:
            return seconds
    return default


def request_auth(source: profile_pb2.Source
                 ) -> tuple[dict[str, str], httpx.Auth | None, list[str]]:
    """Headers, httpx auth and the secret values used (to redact from messages)."""
    headers = dict(source.headers)
    if source.auth not in (profile_pb2.AUTH_KIND_BEARER, profile_pb2.AUTH_KIND_BASIC):
        return headers, None, []
    if not source.credentials_ref:
        raise HttpAuthError("source.credentials_ref is required for bearer or basic auth")
    try:
        value = resolve_secret(source.credentials_ref)
    except SecretError as exc:
        raise HttpAuthError(f"source.credentials_ref: {exc}") from None
    if source.auth == profile_pb2.AUTH_KIND_BEARER:
        headers["Authorization"] = f"Bearer {value}"
        return headers, None, [value]
    user, sep, password = value.partition(":")
    if not sep:
        raise HttpAuthError(
            f"secret {source.credentials_ref} must hold user:password for basic auth")
    return headers, httpx.BasicAuth(user, password), [value, password]
