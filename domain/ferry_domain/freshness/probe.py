"""The freshness gate's probe: run each configured method against the
source, cheapest first, and decide.

Which methods fit which source:

=================  =============================================
FILE import        MTIME_SIZE, CHECKSUM
SFTP / FTP import  MTIME_SIZE (as listed), CHECKSUM (of the download)
HTTP import        HTTP_VALIDATORS, CHECKSUM (of the body)
SQL import         DB_MAX_UPDATED (over the source query)
CONNECTOR import   CONNECTOR_TOKEN
any export         DB_MAX_UPDATED (over the target table)
=================  =============================================

Every configured method is probed even when a cheaper one already saw a
change: the token the run stores must hold a baseline for every method, or
the next run could not compare (and would import a second time). The one
thing skipped is an HTTP body download that validators make unnecessary.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ferry.v1 import profile_pb2

from ferry_domain.freshness import connectors, files, tokens
from ferry_domain.freshness.decision import FreshnessReport, MethodResult, Outcome, compare, decide
from ferry_domain.freshness.errors import FreshnessPermanentError
from ferry_domain.profiles.digest import profile_digest

M = profile_pb2

# Cheapest first: a stat, one request, one aggregate query, plugin code,
# then reading every byte.
_COST = {
    M.FRESHNESS_METHOD_MTIME_SIZE: 0,
    M.FRESHNESS_METHOD_HTTP_VALIDATORS: 1,
    M.FRESHNESS_METHOD_DB_MAX_UPDATED: 2,
    M.FRESHNESS_METHOD_CONNECTOR_TOKEN: 3,
    M.FRESHNESS_METHOD_CHECKSUM: 4,
}

_FITS = {
    M.SOURCE_KIND_FILE: {M.FRESHNESS_METHOD_MTIME_SIZE, M.FRESHNESS_METHOD_CHECKSUM},
    M.SOURCE_KIND_HTTP: {M.FRESHNESS_METHOD_HTTP_VALIDATORS, M.FRESHNESS_METHOD_CHECKSUM},
    M.SOURCE_KIND_SQL: {M.FRESHNESS_METHOD_DB_MAX_UPDATED},
    M.SOURCE_KIND_CONNECTOR: {M.FRESHNESS_METHOD_CONNECTOR_TOKEN},
    M.SOURCE_KIND_SFTP: {M.FRESHNESS_METHOD_MTIME_SIZE, M.FRESHNESS_METHOD_CHECKSUM},
    M.SOURCE_KIND_FTP: {M.FRESHNESS_METHOD_MTIME_SIZE, M.FRESHNESS_METHOD_CHECKSUM},
}
_EXPORT_FITS = {M.FRESHNESS_METHOD_DB_MAX_UPDATED}

DEFAULT_UPDATED_COLUMN = "updated_at"


def ordered_methods(profile: profile_pb2.Profile) -> list[int]:
    """The profile's methods without duplicates or UNSPECIFIED, cheapest first."""
    wanted = {m for m in profile.freshness if m != M.FRESHNESS_METHOD_UNSPECIFIED}
    return sorted(wanted, key=lambda m: _COST.get(m, 99))


def check_methods(profile: profile_pb2.Profile) -> None:
    """Raise FreshnessPermanentError when a method cannot apply to the source."""
    if profile.operation == M.OPERATION_EXPORT:
        fits, what = _EXPORT_FITS, "an export"
    else:
        fits = _FITS.get(profile.source.kind, set())
        what = f"a {M.SourceKind.Name(profile.source.kind)} source"
    bad = [tokens.method_name(m) for m in ordered_methods(profile) if m not in fits]
    if bad:
        allowed = ", ".join(tokens.method_name(m) for m in sorted(fits)) or "none"
        raise FreshnessPermanentError(
            f"freshness {', '.join(bad)} does not apply to {what} (use: {allowed})"
        )


def probe(
    profile: profile_pb2.Profile,
    *,
    paths: Sequence[Path] | None = None,
    previous_token: str = "",
    http_client: Any = None,
    force: bool = False,
    target_url: str | None = None,
    connector_loader: Callable[[str], Any] | None = None,
) -> FreshnessReport:
    """Probe the profile's source with its freshness methods.

    ``paths``: the files a FILE source resolved to (the engine expands globs);
    when None, ``source.location`` is used if it names one file.
    ``previous_token``: the token stored by the last COMPLETED/WARNING live run.
    ``http_client``: an ``httpx.Client`` to reuse (tests, connection pooling).
    ``force``: the verdict is BYPASSED, but the current token is still
    computed so that the forced run, once it succeeds, stores a fresh baseline.
    The token holds the profile digest: a profile that writes differently
    (mapping, filters, target, ...) makes an unchanged source CHANGED.
    ``target_url``: the runner's default target URL, for exports whose
    ``target.dsn_ref`` is empty.
    ``connector_loader``: how to find a connector by name (default: the
    ``ferry.connectors`` entry points).

    Raises a ``FreshnessError`` whose ``error_class`` classifies the failure.
    """
    methods = ordered_methods(profile)
    if not methods:
        return decide([], previous_token, force=True)
    check_methods(profile)
    previous = tokens.decode(previous_token)
    results: list[MethodResult] = []
    if profile.operation == M.OPERATION_EXPORT:
        results.append(_export_max_updated(profile, previous, target_url))
    elif profile.source.kind == M.SOURCE_KIND_FILE:
        results.extend(_file_results(profile, methods, previous, paths))
    elif profile.source.kind == M.SOURCE_KIND_HTTP:
        results.extend(_http_results(profile.source, methods, previous, http_client))
    elif profile.source.kind == M.SOURCE_KIND_SQL:
        results.append(_sql_max_updated(profile.source, previous))
    elif profile.source.kind == M.SOURCE_KIND_CONNECTOR:
        token = connectors.change_token(
            profile.source, connector_loader or connectors.load_entry_point
        )
        results.append(compare(M.FRESHNESS_METHOD_CONNECTOR_TOKEN, previous, token))
    elif profile.source.kind in (M.SOURCE_KIND_SFTP, M.SOURCE_KIND_FTP):
        from ferry_domain.freshness.remote import remote_results  # paramiko / ftplib on demand

        results.extend(remote_results(profile.source, methods, previous))
    return decide(results, previous_token, force=force, profile_digest=profile_digest(profile))


def _file_paths(source: profile_pb2.Source, paths: Sequence[Path] | None) -> list[Path]:
    if paths is not None:
        return [Path(p) for p in paths]
    location = source.location
    if not location or glob.has_magic(location) or Path(location).is_dir():
        raise FreshnessPermanentError(
            f"source.location {location!r} is not one file; pass the resolved paths"
        )
    return [Path(location)]


def _file_results(
    profile: profile_pb2.Profile, methods: list[int], previous: dict[str, Any],
    paths: Sequence[Path] | None,
) -> list[MethodResult]:
    found = _file_paths(profile.source, paths)
    results = []
    for method in methods:
        if method == M.FRESHNESS_METHOD_MTIME_SIZE:
            results.append(compare(method, previous, files.mtime_size_token(found)))
        elif method == M.FRESHNESS_METHOD_CHECKSUM:
            results.append(compare(method, previous, files.checksum_token(found)))
    return results


def _http_results(
    source: profile_pb2.Source, methods: list[int], previous: dict[str, Any], client: Any
) -> list[MethodResult]:
    from ferry_domain.freshness import http  # httpx only when an HTTP source is probed

    use_validators = M.FRESHNESS_METHOD_HTTP_VALIDATORS in methods
    use_checksum = M.FRESHNESS_METHOD_CHECKSUM in methods
    validators_key = tokens.method_key(M.FRESHNESS_METHOD_HTTP_VALIDATORS)
    checksum_key = tokens.method_key(M.FRESHNESS_METHOD_CHECKSUM)
    stored = previous.get(validators_key)
    stored = stored if isinstance(stored, dict) else {}
    # A 304 carries the stored body checksum forward; without one to carry,
    # ask unconditionally so that the body can be hashed.
    conditional = use_validators and (not use_checksum or checksum_key in previous)
    got = http.conditional_get(
        source, stored if conditional else {}, want_body_sha=use_checksum, client=client
    )
    results = []
    if use_validators:
        results.append(_validators_result(got, stored, validators_key in previous))
    if use_checksum:
        if got.not_modified:
            results.append(MethodResult(
                M.FRESHNESS_METHOD_CHECKSUM, Outcome.UNCHANGED, previous[checksum_key],
                "304 Not Modified; body not downloaded",
            ))
        else:
            results.append(compare(M.FRESHNESS_METHOD_CHECKSUM, previous, got.body_sha))
    return results


def _validators_result(got, stored: dict[str, Any], had_baseline: bool) -> MethodResult:
    method = M.FRESHNESS_METHOD_HTTP_VALIDATORS
    token: dict[str, Any] = dict(got.validators)
    if got.not_modified:
        if stored.get("sha"):
            token["sha"] = stored["sha"]
        return MethodResult(method, Outcome.UNCHANGED, token, "304 Not Modified")
    if got.body_sha:
        token["sha"] = got.body_sha
    if not had_baseline:
        return MethodResult(method, Outcome.NO_BASELINE, token, f"HTTP {got.status}")
    same_validators = bool(got.validators) and all(
        stored.get(k) == v for k, v in got.validators.items()
    )
    if got.validators and not same_validators:
        return MethodResult(method, Outcome.CHANGED, token, "new validators")
    # The server ignored our validators (sent none, or answered 200 with the
    # same ones): the body checksum decides.
    if stored.get("sha"):
        outcome = Outcome.UNCHANGED if stored["sha"] == got.body_sha else Outcome.CHANGED
        return MethodResult(method, outcome, token, "validators ignored; body checksum")
    if same_validators:
        return MethodResult(method, Outcome.UNCHANGED, token, "same validators on a 200")
    return MethodResult(method, Outcome.NO_BASELINE, token, "no validators; body checksum")


def _sql_max_updated(source: profile_pb2.Source, previous: dict[str, Any]) -> MethodResult:
    from ferry_domain.freshness import database  # SQLAlchemy only when a database is probed

    url = database.resolve_url(source.dsn_ref, "source.dsn_ref")
    column = source.updated_column
    if not column:
        raise FreshnessPermanentError("source.updated_column is required for DB_MAX_UPDATED")
    token = database.max_updated_of_query(url, source.location, column, _seconds(source))
    return compare(M.FRESHNESS_METHOD_DB_MAX_UPDATED, previous, token)


def _export_max_updated(
    profile: profile_pb2.Profile, previous: dict[str, Any], target_url: str | None
) -> MethodResult:
    from ferry_domain.freshness import database

    if profile.target.dsn_ref:
        url = database.resolve_url(profile.target.dsn_ref, "target.dsn_ref")
    elif target_url:
        url = target_url
    else:
        raise FreshnessPermanentError(
            "target.dsn_ref is empty and no default target URL was given"
        )
    table = profile.target.table or profile.entity_type
    column = profile.source.updated_column or DEFAULT_UPDATED_COLUMN
    token = database.max_updated_of_table(url, table, column, _seconds(profile.source))
    return compare(M.FRESHNESS_METHOD_DB_MAX_UPDATED, previous, token)


def _seconds(source: profile_pb2.Source) -> float | None:
    if not source.HasField("timeout"):
        return None
    return source.timeout.seconds + source.timeout.nanos / 1e9
