"""Is the source reachable with its credentials? Read its columns and its
first rows (the sample its shape's types come from), and nothing more.

- FILE: the path (or glob, or folder) resolves to a readable file, inside
  ``FERRY_FILE_ROOTS`` when set; the columns come from the engine's reader on
  the file selection would read (the newest match for a glob).
- HTTP: one GET with the profile's headers and credentials; the body is read
  up to ``MAX_BODY_BYTES``. 401/403/404/429/5xx become lines naming the
  secret reference (never its value) or the field to fix.
- SQL: connect through ``source.dsn_ref`` and run
  ``SELECT * FROM (<query>) AS ferry_probe LIMIT 200`` for the columns and rows.
- SFTP / FTP: connect, check the host key, log in and list the files the
  selection reads (``remote_source``); nothing is downloaded.
- CONNECTOR: the plugin's optional ``check()`` probe (it returns a line saying
  what it checked, or raises); a connector without one is "not probed", a
  note, never a pass. Its shape is checked when a run opens it.

Each probe returns ``Probe(result, columns, rows)``; ``columns`` is None when
the shape cannot be checked, with the reason in ``shape_note``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from ferry.errors import PermissionDeniedError
from ferry.secrets import SecretError, SecretRedactor, resolve_secret
from ferry.v1 import profile_pb2
from sqlalchemy.pool import NullPool

from ferry_domain.engine.errors import EngineError
from ferry_domain.engine.fingerprint import SAMPLE_ROWS, head_rows
from ferry_domain.engine.formats.dispatch import format_name, open_records
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.sources.connectors import make_connector
from ferry_domain.engine.sources.files import is_glob, resolve_files
from ferry_domain.engine.sources.http import build_request, safe_url
from ferry_domain.live_checks.results import (
    SOURCE,
    CheckResult,
    failed,
    first_line,
    noted,
    ok,
)

TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 1 << 20
LINE_FORMATS = ("csv", "tsv", "ndjson")


@dataclass(frozen=True)
class Probe:
    result: CheckResult
    columns: list[str] | None = None
    shape_note: str = ""
    # The first rows (lists aligned with the columns, or mappings for "dict").
    rows: list = field(default_factory=list)
    kind: str = "list"


def _read(result: CheckResult, stream: RecordStream) -> Probe:
    """The probe of an opened stream: its columns and first rows."""
    try:
        head, _ = head_rows(stream.batches(SAMPLE_ROWS))
        return Probe(result, list(stream.columns), rows=head, kind=stream.kind)
    finally:
        stream.close()


def probe_source(source: profile_pb2.Source, file_roots: Sequence[Path] | None) -> Probe:
    kind = source.kind
    try:
        if kind in (profile_pb2.SOURCE_KIND_FILE, profile_pb2.SOURCE_KIND_UNSPECIFIED):
            return _probe_file(source, file_roots)
        if kind == profile_pb2.SOURCE_KIND_HTTP:
            return _probe_http(source)
        if kind == profile_pb2.SOURCE_KIND_SQL:
            return _probe_sql(source)
        if kind in (profile_pb2.SOURCE_KIND_SFTP, profile_pb2.SOURCE_KIND_FTP):
            from ferry_domain.live_checks.remote_source import check_remote

            return Probe(ok(SOURCE, check_remote(source)),
                         shape_note="remote files are checked when a run reads them")
    except (EngineError, SecretError, PermissionDeniedError, OSError) as exc:
        return Probe(failed(SOURCE, first_line(exc)), shape_note="the source is not reachable")
    return _probe_connector(source)


def _probe_connector(source: profile_pb2.Source) -> Probe:
    later = "connector sources are checked when a run opens them"
    name = source.connector
    try:
        connector = make_connector(source)
        check = getattr(connector, "check", None)
        if not callable(check):
            return Probe(noted(SOURCE, f"not probed (connector {name!r} has no check())"),
                         shape_note=later)
        said = check()
    except Exception as exc:  # noqa: BLE001 - a plugin may raise anything
        return Probe(failed(SOURCE, f"connector {name!r}: {first_line(exc)}"),
                     shape_note="the source is not reachable")
    return Probe(ok(SOURCE, f"connector {name!r}: {said or 'check() passed'}"),
                 shape_note=later)


def _timeout(source: profile_pb2.Source) -> float:
    seconds = source.timeout.seconds + source.timeout.nanos / 1e9
    return min(seconds, TIMEOUT_SECONDS) if seconds > 0 else TIMEOUT_SECONDS


# --- files ----------------------------------------------------------------------


def _files(source: profile_pb2.Source, roots: Sequence[Path] | None) -> list[Path]:
    if roots is None:
        return resolve_files(source.location, source.selection)
    from ferry.security.paths import confine_glob, confine_path

    location = source.location
    if not is_glob(location):
        try:
            path = confine_path(location, roots)
        except FileNotFoundError:
            raise FileNotFoundError(f"source file {location} does not exist") from None
        if not path.is_dir():
            return [path]
        location = str(path / "*")
    matches = [p for p in confine_glob(location, roots) if p.is_file()]
    if not matches:
        raise FileNotFoundError(f"no file matches {source.location!r}")
    return resolve_files(location, source.selection)


def _probe_file(source: profile_pb2.Source, roots: Sequence[Path] | None) -> Probe:
    files = _files(source, roots)
    path = files[-1]
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        which = (f"{len(files)} files match {source.location!r}; newest {path}"
                 if len(files) > 1 or str(path) != source.location else f"file {path}")
        result = ok(SOURCE, f"{which} is readable ({stat.st_size} bytes, modified {modified})")
        return _read(result, open_records(handle, str(path), source.format, source.options))


# --- HTTP -----------------------------------------------------------------------


def _status_line(status: int, shown: str, source: profile_pb2.Source) -> str:
    prefix = f"HTTP {status} from {shown}"
    ref = source.credentials_ref
    if status in (401, 403):
        if ref:
            return (f"{prefix}: the credentials were refused; check FERRY secret {ref} "
                    "(source.credentials_ref)")
        return f"{prefix}: the source needs credentials; set source.auth and source.credentials_ref"
    if status == 404:
        return f"{prefix}: not found; check source.location"
    if status == 429:
        return f"{prefix}: rate limited; try again later"
    if status >= 500:
        return f"{prefix}: the server failed; try again later or ask its owner"
    return f"{prefix}: the request was refused"


def _probe_http(source: profile_pb2.Source) -> Probe:
    shown = safe_url(source.location)
    headers, auth, secrets = build_request(source)
    redactor = SecretRedactor(secrets)
    body = io.BytesIO()
    complete = True
    try:
        with httpx.Client(timeout=_timeout(source), follow_redirects=True) as client, \
                client.stream("GET", source.location, headers=headers, auth=auth) as response:
            if response.status_code >= 400:
                return Probe(failed(SOURCE, _status_line(response.status_code, shown, source)),
                             shape_note="the source is not reachable")
            content_type = response.headers.get("content-type", "")
            for chunk in response.iter_bytes(1 << 16):
                body.write(chunk)
                if body.tell() >= MAX_BODY_BYTES:
                    complete = False
                    break
            status = response.status_code
    except httpx.HTTPError as exc:
        text = redactor.redact(f"{type(exc).__name__}: {exc}")
        return Probe(failed(SOURCE, f"cannot reach {shown}: {text}"),
                     shape_note="the source is not reachable")
    auth_note = f" with secret {source.credentials_ref}" if source.credentials_ref else ""
    result = ok(SOURCE, f"GET {shown} answered HTTP {status}{auth_note}")
    name = urlsplit(source.location).path.rsplit("/", 1)[-1] or shown
    data = body.getvalue()
    if not complete:
        kind = format_name(source.format, source.options, name)
        compressed = name.lower().endswith((".gz", ".zip")) or source.format.compression in (
            profile_pb2.COMPRESSION_GZIP, profile_pb2.COMPRESSION_ZIP)
        if kind not in LINE_FORMATS or compressed:
            return Probe(result, shape_note=f"the body is over {MAX_BODY_BYTES} bytes and its "
                                            "format is read whole; a dry run checks the shape")
        data = data[:data.rfind(b"\n") + 1]
    return _read(result, open_records(io.BytesIO(data), name, source.format, source.options,
                                      content_type))


# --- SQL ------------------------------------------------------------------------


def connect_args(url: sa.engine.URL, seconds: float) -> dict[str, object]:
    if url.get_backend_name() == "sqlite":
        return {"timeout": seconds}
    if url.get_backend_name() == "postgresql":
        return {"connect_timeout": max(1, int(seconds))}
    return {}


def _probe_sql(source: profile_pb2.Source) -> Probe:
    if not source.dsn_ref:
        return Probe(failed(SOURCE, "source.dsn_ref is required for SQL sources"))
    url_text = resolve_secret(source.dsn_ref)
    redactor = SecretRedactor([url_text])
    try:
        url = sa.engine.make_url(url_text)
        if url.password:
            redactor.add(str(url.password))
        engine = sa.create_engine(url, poolclass=NullPool,
                                  connect_args=connect_args(url, _timeout(source)))
    except Exception as exc:  # noqa: BLE001 - any bad URL is one clear line
        return Probe(failed(SOURCE, f"secret {source.dsn_ref} is not a usable SQLAlchemy URL "
                                    f"({type(exc).__name__})"))
    query = source.location.strip().rstrip(";")
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET statement_timeout = {int(_timeout(source) * 1000)}")
            result = conn.execute(sa.text(
                f"SELECT * FROM ({query}) AS ferry_probe LIMIT {SAMPLE_ROWS}"))
            columns = list(result.keys())
            rows = [list(row) for row in result]
    except sa.exc.SQLAlchemyError as exc:
        return Probe(failed(SOURCE, redactor.redact(
            f"SQL source through secret {source.dsn_ref}: {first_line(exc)}")),
            shape_note="the source is not reachable")
    finally:
        engine.dispose()
    return Probe(ok(SOURCE, f"the query runs on the {engine.dialect.name} database of secret "
                            f"{source.dsn_ref} ({len(columns)} columns)"), columns, rows=rows)
