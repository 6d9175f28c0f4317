"""The stored freshness token: one string per profile holding every
configured method's own token.

Format: compact JSON, keys sorted, one key per method (the method's enum name
without ``FRESHNESS_METHOD_``, lower case), for example::

    {"checksum":"xxh3_128:9f0c…","mtime_size":"1048576@2026-11-28T14:58:08.123456789Z"}

The key ``profile_digest`` holds the digest of what the run writes
(``ferry_domain.profiles.digest``): a token is bound to the source *and* to
the profile that imported it. Values are strings, except ``http_validators`` which is an object with
``etag``, ``last_modified`` and ``sha`` (each present only when known).
An empty or unreadable token decodes to ``{}``: every method then has no
baseline. After a rollback the token holds only ``profile_digest`` and
``rolled_back_by`` (the rollback run's id).
"""

from __future__ import annotations

import json
from typing import Any

from ferry.v1 import profile_pb2

_PREFIX = "FRESHNESS_METHOD_"
DIGEST_KEY = "profile_digest"
# Set by the registry when a rollback undid the last import (the rollback's
# run id): no method has a baseline, the next run imports the source again.
ROLLED_BACK_KEY = "rolled_back_by"


def method_key(method: int) -> str:
    """``FRESHNESS_METHOD_MTIME_SIZE`` -> ``mtime_size``."""
    return profile_pb2.FreshnessMethod.Name(method).removeprefix(_PREFIX).lower()


def method_name(method: int) -> str:
    """The enum value's full name, e.g. ``FRESHNESS_METHOD_CHECKSUM``."""
    return profile_pb2.FreshnessMethod.Name(method)


def encode(parts: dict[str, Any]) -> str:
    """One token string for all methods; empty when there is nothing to store."""
    if not parts:
        return ""
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(token: str) -> dict[str, Any]:
    """The per-method parts of a stored token ({} when empty or unreadable)."""
    if not token:
        return {}
    try:
        value = json.loads(token)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
