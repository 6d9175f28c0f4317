"""HTTP probe: a conditional GET with the validators of the stored token.

- ``304 Not Modified``: unchanged; the body is never transferred.
- ``200`` with validators that differ from the stored ones: changed; the
  body is not read (the import downloads it), unless a checksum is wanted.
- ``200`` from a server that ignores validators (none sent back, or the same
  ones sent back with a full body): the body is streamed into XXH3-128 and
  compared with the stored body hash.
- 401/403 -> credentials error; 408/429/5xx and network errors -> transient;
  404/410 and other 4xx -> permanent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import xxhash
from ferry.http_auth import HttpAuthError, request_auth, source_timeout
from ferry.v1 import profile_pb2

from ferry_domain.freshness.errors import (
    FreshnessCredentialsError,
    FreshnessPermanentError,
    FreshnessTransientError,
    safe_url,
)
from ferry_domain.freshness.files import CHECKSUM_PREFIX

DEFAULT_TIMEOUT = 30.0
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class HttpProbe:
    """What one conditional GET found.

    ``not_modified`` is True on a 304. ``validators`` holds ``etag`` and
    ``last_modified`` when the server sent them (on a 304, the stored ones
    refreshed by any the server repeated). ``body_sha`` is the body checksum
    when the body was read, else None.
    """

    status: int
    not_modified: bool
    validators: dict[str, str]
    body_sha: str | None


def _timeout(source: profile_pb2.Source) -> float:
    return source_timeout(source, DEFAULT_TIMEOUT)


def request_headers(source: profile_pb2.Source) -> tuple[dict[str, str], httpx.Auth | None]:
    """Headers and auth for the source; the secret is read only here."""
    try:
        headers, auth, _secrets = request_auth(source)
    except HttpAuthError as exc:
        raise FreshnessCredentialsError(str(exc)) from None
    return headers, auth


def _validators(response: httpx.Response) -> dict[str, str]:
    found = {}
    if response.headers.get("etag"):
        found["etag"] = response.headers["etag"]
    if response.headers.get("last-modified"):
        found["last_modified"] = response.headers["last-modified"]
    return found


def _raise_for_status(response: httpx.Response, where: str) -> None:
    code = response.status_code
    if code in (401, 403):
        raise FreshnessCredentialsError(
            f"{where} answered {code}: the credentials were refused; check source.credentials_ref"
        )
    if code in (408, 425, 429) or code >= 500:
        raise FreshnessTransientError(f"{where} answered {code}; will retry")
    if code >= 400:
        raise FreshnessPermanentError(f"{where} answered {code}")


def _hash_body(response: httpx.Response) -> str:
    hasher = xxhash.xxh3_128()
    for chunk in response.iter_bytes(CHUNK):
        hasher.update(chunk)
    return CHECKSUM_PREFIX + hasher.hexdigest()


def conditional_get(
    source: profile_pb2.Source,
    previous: dict[str, Any],
    *,
    want_body_sha: bool,
    client: httpx.Client | None = None,
) -> HttpProbe:
    """GET ``source.location`` with If-None-Match / If-Modified-Since from
    ``previous`` (``{"etag": .., "last_modified": ..}``; empty means an
    unconditional GET). Reads the body only when it must be hashed: when
    ``want_body_sha`` or when the server's validators cannot tell."""
    url = source.location
    where = f"GET {safe_url(url)}"
    headers, auth = request_headers(source)
    if previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    # The decoded body is hashed; asking for it unencoded saves a decompression.
    headers.setdefault("Accept-Encoding", "identity")
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True)
    try:
        with http.stream("GET", url, headers=headers, auth=auth,
                         timeout=_timeout(source)) as response:
            if response.status_code == 304:
                refreshed = {k: v for k, v in previous.items() if k in ("etag", "last_modified")}
                refreshed.update(_validators(response))
                return HttpProbe(304, True, refreshed, None)
            _raise_for_status(response, where)
            validators = _validators(response)
            same = bool(validators) and all(
                previous.get(k) == v for k, v in validators.items()
            )
            ignores_validators = not validators or same
            body_sha = _hash_body(response) if (want_body_sha or ignores_validators) else None
            return HttpProbe(response.status_code, False, validators, body_sha)
    except httpx.TimeoutException:
        raise FreshnessTransientError(f"{where} timed out after {_timeout(source):g}s") from None
    except httpx.UnsupportedProtocol:
        raise FreshnessPermanentError(f"{where}: unsupported URL scheme") from None
    except httpx.TransportError as exc:
        raise FreshnessTransientError(f"{where} failed: {type(exc).__name__}") from None
    except httpx.InvalidURL:
        raise FreshnessPermanentError(f"source.location is not a valid URL: {where}") from None
    finally:
        if own_client:
            http.close()
