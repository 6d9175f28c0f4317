"""Database probe: the maximum of an updated-at column.

For SQL sources the maximum is taken over the source query
(``SELECT max(q.<column>) FROM (<query>) AS q``); for exports, over the
target table. SQLAlchemy is imported here only, so the rest of the package
stays free of it. Errors are classified and scrubbed of the URL's password.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from ferry.secrets import SecretError, SecretRedactor, resolve_secret
from sqlalchemy import exc as sa_exc

from ferry_domain.freshness.errors import (
    FreshnessCredentialsError,
    FreshnessError,
    FreshnessPermanentError,
    FreshnessTransientError,
)

# SQLite reports query mistakes as OperationalError; they are not transient.
_MISTAKE = re.compile(r"no such (column|table|function)|syntax error|has no column", re.I)


def resolve_url(ref: str, field: str) -> str:
    if not ref:
        raise FreshnessPermanentError(f"{field} is required for DB_MAX_UPDATED")
    try:
        return resolve_secret(ref)
    except SecretError as exc:
        raise FreshnessCredentialsError(str(exc)) from None


def _token(value: object) -> str:
    """The stored form of the maximum: ISO 8601 for times, ``null`` for an
    empty result, ``str()`` otherwise."""
    if value is None:
        return "null"
    if isinstance(value, str):
        # SQLite hands timestamps back as text: normalise to the same ISO
        # form PostgreSQL's datetime gives, when it parses as one.
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _classify(exc: Exception, what: str, redactor: SecretRedactor) -> FreshnessError:
    original = getattr(exc, "orig", None) or exc
    text = redactor.redact((str(original).splitlines() or [type(original).__name__])[0])
    if _MISTAKE.search(text):
        return FreshnessPermanentError(f"{what}: {text}")
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return FreshnessTransientError(f"{what}: {text}")
    return FreshnessPermanentError(f"{what}: {text}")


DEFAULT_TIMEOUT = 30.0


def _max(url: str, build_sql, what: str, timeout_s: float | None) -> str:
    timeout_s = timeout_s if timeout_s and timeout_s > 0 else DEFAULT_TIMEOUT
    redactor = SecretRedactor([url])
    try:
        parsed = sa.make_url(url)
        if parsed.password:
            redactor.add(str(parsed.password))
        connect_args = {}
        if parsed.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = max(1, int(timeout_s))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    except Exception as exc:  # noqa: BLE001 - any bad URL is a permanent problem
        raise FreshnessPermanentError(
            f"{what}: not a usable SQLAlchemy URL ({type(exc).__name__})"
        ) from None
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET statement_timeout = {int(timeout_s * 1000)}")
            value = conn.execute(sa.text(build_sql(engine.dialect.identifier_preparer))).scalar()
    except sa_exc.SQLAlchemyError as exc:
        raise _classify(exc, what, redactor) from None
    finally:
        engine.dispose()
    return _token(value)


def max_updated_of_query(url: str, query: str, column: str,
                         timeout_s: float | None = None) -> str:
    """``max(column)`` over the rows of ``query`` (a SQL source)."""
    if not column:
        raise FreshnessPermanentError("source.updated_column is required for DB_MAX_UPDATED")
    body = query.strip().rstrip(";").strip()
    if not body:
        raise FreshnessPermanentError("source.location (the query) is empty")
    return _max(
        url,
        lambda quote: f"SELECT max(q.{quote.quote(column)}) FROM ({body}) AS q",
        "SQL source max updated",
        timeout_s,
    )


def max_updated_of_table(url: str, table: str, column: str,
                         timeout_s: float | None = None) -> str:
    """``max(column)`` of a table (the target an export reads). ``table`` may
    be ``schema.table``."""
    if not table or not column:
        raise FreshnessPermanentError("a table and an updated column are required")
    schema, _, name = table.rpartition(".")

    def build(quote) -> str:
        qualified = quote.quote(name)
        if schema:
            qualified = f"{quote.quote_schema(schema)}.{qualified}"
        return f"SELECT max({quote.quote(column)}) FROM {qualified}"

    return _max(url, build, f"target table {table} max updated", timeout_s)
