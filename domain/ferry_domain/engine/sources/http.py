"""HTTP(S) GET sources: headers, bearer or basic auth from a secret
reference, timeouts; the body (JSON, CSV, ...) is spooled to a temporary
file so memory stays flat, then read like a file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
from ferry.http_auth import HttpAuthError, request_auth, source_timeout
from ferry.secrets import SecretRedactor
from ferry.v1 import profile_pb2

from ferry_domain.engine import limits as source_limits
from ferry_domain.engine.errors import (
    CredentialsError,
    PermanentSourceError,
    TransientSourceError,
)
from ferry_domain.engine.formats.dispatch import open_records
from ferry_domain.engine.formats.stream import RecordStream, share_read
from ferry_domain.engine.run_io import RunInput

DEFAULT_TIMEOUT = 30.0
SPOOL_MEMORY = 8 * 1024 * 1024


def safe_url(url: str) -> str:
    """The URL without user info or query string (which may hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def build_request(source: profile_pb2.Source) -> tuple[dict[str, str], httpx.Auth | None, list]:
    try:
        return request_auth(source)
    except HttpAuthError as exc:
        raise CredentialsError(str(exc)) from None


def open_http(source: profile_pb2.Source) -> Iterator[RecordStream]:
    url = source.location
    shown = safe_url(url)
    headers, auth, secrets = build_request(source)
    redactor = SecretRedactor(secrets)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    content_type = ""
    try:
        timeout = source_timeout(source, DEFAULT_TIMEOUT)
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            with client.stream("GET", url, headers=headers, auth=auth) as response:
                _check_status(response.status_code, shown)
                content_type = response.headers.get("content-type", "")
                final = safe_url(str(response.url))
                validators = (response.headers.get("etag", ""),
                              response.headers.get("last-modified", ""))
                limit = source_limits.current().max_source_bytes
                size = 0
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                    if limit and size > limit:
                        raise PermanentSourceError(
                            f"GET {shown}: the body is larger than the limit of {limit} bytes "
                            "(FERRY_MAX_SOURCE_BYTES)")
                    spool.write(chunk)
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        spool.close()
        name = type(exc).__name__
        raise TransientSourceError(redactor.redact(f"GET {shown} failed: {name}: {exc}")) from None
    except httpx.HTTPError as exc:
        spool.close()
        raise PermanentSourceError(redactor.redact(f"GET {shown} failed: {exc}")) from None
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    name = urlsplit(url).path.rsplit("/", 1)[-1] or shown
    try:
        stream = open_records(spool, name, source.format, source.options, content_type)
    except BaseException:
        spool.close()
        raise
    stream.name = shown
    stream.closers.insert(0, spool)
    stream.fraction = share_read(spool, size)
    stream.input = RunInput(path=final, size_bytes=size, etag=validators[0],
                            last_modified=validators[1], is_url=True)
    yield stream


def _check_status(status: int, shown: str) -> None:
    if status < 400:
        return
    message = f"GET {shown} answered HTTP {status}"
    if status in (401, 403):
        raise CredentialsError(message + "; check source.credentials_ref")
    if status == 429 or status >= 500 or status == 408:
        raise TransientSourceError(message)
    raise PermanentSourceError(message)
