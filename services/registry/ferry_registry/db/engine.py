"""Connections to the registry database and the transaction discipline.

``Database.read()`` opens a read transaction, ``Database.write()`` a write
transaction. On SQLite (WAL mode, busy_timeout) write transactions start with
``BEGIN IMMEDIATE`` and are serialized by a process-wide lock, so the gRPC
thread pool never produces "database is locked" upgrades; readers run in
parallel. On PostgreSQL both are ordinary READ COMMITTED transactions and
correctness comes from compare-and-set updates, unique keys and row locks.

Callbacks registered with ``WriteSession.after_commit`` run once the
transaction committed (notifications for watchers and queued-run streams).

``Database.run_write(fn)`` runs ``fn(session)`` in a write transaction and
returns its result. The hot writes (create, claim, heartbeat, progress,
finish, mark published) go through it to the group-commit batcher
(``db/batcher.py``), whose batches run on a connection kept between them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from ferry.errors import UnavailableError
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from ferry_registry.db.batcher import Operation, WriteBatcher, run_callbacks, run_operations

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


@contextlib.contextmanager
def _unavailable_on_db_outage() -> Iterator[None]:
    """A lost or locked database is UNAVAILABLE for the caller (who may retry)."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.warning("database unavailable", extra={"fields": {
            "error": detail[0] if detail else type(exc).__name__}})
        raise UnavailableError(
            "the registry database is unavailable right now; retry later") from exc


class WriteSession(Session):
    """A session for one write transaction, with after-commit callbacks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.callbacks: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)


def _sqlite_engine(url: sa.URL, *, immediate: bool) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The registry's engines and transactions."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            self._write_engine = _sqlite_engine(self.url, immediate=True)
            self._read_engine = _sqlite_engine(self.url, immediate=False)
        else:
            self._write_engine = sa.create_engine(
                self.url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                connect_args={"connect_timeout": 10})
            self._read_engine = self._write_engine
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self._batcher = WriteBatcher(self.transaction)
        self._batch_conn: sa.Connection | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def engine(self) -> sa.Engine:
        return self._write_engine

    def ping(self) -> None:
        with self._write_engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with _unavailable_on_db_outage(), \
                Session(self._read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[WriteSession]:
        lock = self._write_lock or contextlib.nullcontext()
        # Only the transaction itself runs under the SQLite write lock: the
        # session is made before, and closed (its connection returned to the
        # pool) after, so the lock is held as briefly as possible.
        session = WriteSession(self._write_engine, expire_on_commit=False)
        try:
            with _unavailable_on_db_outage():
                with lock, session.begin():
                    yield session
        finally:
            session.close()
        run_callbacks(session.callbacks)

    def run_write(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(session)`` in a write transaction; its result once committed
        (after-commit callbacks done). Group committed with other callers'
        (``db/batcher.py``); ``fn`` may run twice (the first batch rolled
        back), so it must only write through the session."""
        return self._batcher.submit(fn)

    def transaction(self, operations: list[Operation], *, reuse: bool = False) -> None:
        """Run ``operations`` in one write transaction (each with its own view
        of it); raises, having committed nothing, when one raises. ``reuse``
        (the batch leader only, one at a time): on the batcher's own connection,
        kept open between batches, so a batch pays no pool check-out, ping
        (PostgreSQL) or reset; after a failure it is closed and the next batch
        opens a new one."""
        lock = self._write_lock or contextlib.nullcontext()
        with _unavailable_on_db_outage(), lock:
            if not reuse:
                with self._write_engine.connect() as conn:
                    run_operations(conn, operations)
                return
            if self._batch_conn is None or self._batch_conn.closed or \
                    self._batch_conn.invalidated:
                self._batch_conn = self._write_engine.connect()
            try:
                run_operations(self._batch_conn, operations)
            except BaseException:
                conn, self._batch_conn = self._batch_conn, None
                with contextlib.suppress(Exception):
                    conn.close()
                raise

    def dispose(self) -> None:
        self._batcher.close()
        if self._batch_conn is not None:
            with contextlib.suppress(Exception):
                self._batch_conn.close()
            self._batch_conn = None
        self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            self._read_engine.dispose()
