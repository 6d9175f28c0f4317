"""SQL query sources through a SQLAlchemy URL held in a secret reference;
rows are streamed (server-side cursor where the driver has one)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from ferry.secrets import SecretRedactor
from ferry.v1 import profile_pb2
from sqlalchemy import exc as sa_exc

from ferry_domain.engine.errors import PermanentSourceError, TransientSourceError
from ferry_domain.engine.formats.stream import RecordStream
from ferry_domain.engine.sources.credentials import secret

FETCH_ROWS = 2000


def classify_db_error(exc: Exception, what: str, redactor: SecretRedactor) -> Exception:
    text = redactor.redact(str(getattr(exc, "orig", None) or exc).splitlines()[0])
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return TransientSourceError(f"{what}: connection lost: {text}")
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return TransientSourceError(f"{what}: {text}")
    return PermanentSourceError(f"{what}: {text}")


def open_sql(source: profile_pb2.Source) -> Iterator[RecordStream]:
    if not source.dsn_ref:
        raise PermanentSourceError("source.dsn_ref is required for SQL sources")
    url = secret(source.dsn_ref, "source.dsn_ref")
    redactor = SecretRedactor([url])
    try:
        parsed = sa.engine.make_url(url)
        if parsed.password:
            redactor.add(str(parsed.password))
        engine = sa.create_engine(url)
    except Exception as exc:  # noqa: BLE001 - a bad URL is a permanent problem
        raise PermanentSourceError(
            f"source.dsn_ref {source.dsn_ref}: not a usable SQLAlchemy URL ({type(exc).__name__})"
        ) from None
    try:
        conn = engine.connect()
        if source.HasField("timeout") and engine.dialect.name == "postgresql":
            ms = source.timeout.seconds * 1000 + source.timeout.nanos // 1_000_000
            conn.exec_driver_sql(f"SET statement_timeout = {int(ms)}")
        result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(
            sa.text(source.location)
        )
        columns = list(result.keys())
    except sa_exc.SQLAlchemyError as exc:
        engine.dispose()
        raise classify_db_error(exc, "SQL source", redactor) from None
    stream = RecordStream(f"sql:{parsed.drivername}", columns, _rows(result, redactor), "list")
    stream.closers.extend([engine_closer(engine), conn])
    yield stream


class engine_closer:  # noqa: N801 - tiny adapter
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def close(self) -> None:
        self._engine.dispose()


def _rows(result, redactor: SecretRedactor) -> Iterator[list]:
    try:
        for row in result:
            yield list(row)
    except sa_exc.SQLAlchemyError as exc:
        raise classify_db_error(exc, "SQL source", redactor) from None
