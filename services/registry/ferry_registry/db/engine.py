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
finish, mark published) go through it to a ``WriteBatcher``: the operations
waiting at that moment run one after the other in ONE transaction (group
commit), led by one of their callers' threads (flat combining), and each
caller gets its result back. Each operation sees
its own ``info`` and ``after_commit`` list (a ``WriteView`` of the shared
session), and its callbacks run in the calling thread once the batch
committed. When an operation raises, the batch is rolled back and its
operations are run again one transaction each, so one failure never touches
another caller's write. Under load this replaces several lock hand-overs
(each one a thread wake-up that must also win the GIL) by one, which is what
bounded a SQLite registry's throughput. On PostgreSQL it saves a commit (a WAL
flush) per operation; row locks taken by a batch are held until the batch
commits, and a deadlock or serialization error with another replica's
transaction fails the batch, whose operations then run one by one.
"""

from __future__ import annotations

import collections
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
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


class _Shared:
    """One batch's transaction: its connection, and an ORM session on that
    connection made only when an operation needs one (the rare ORM paths)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.orm: Session | None = None

    def session(self) -> Session:
        if self.orm is None:
            self.orm = Session(bind=self.conn, expire_on_commit=False)
        return self.orm

    def settle(self) -> None:
        """After an operation: its ORM changes written (in order), nothing stale."""
        orm = self.orm
        if orm is not None:
            if orm.new or orm.dirty or orm.deleted:
                orm.flush()
            if orm.identity_map:
                orm.expire_all()


class WriteView:
    """What one batched operation sees: the batch's connection (Core), its own
    ``info`` and after-commit callbacks, and the ORM session's methods."""

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self.info: dict[str, Any] = {}
        self._after_commit: list[Callable[[], None]] = []

    def connection(self) -> sa.Connection:
        return self._shared.conn

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared.session(), name)


def _run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - a notification must not fail the write
            log.exception("after-commit callback failed")


class _Operation:
    __slots__ = ("fn", "view", "result", "error", "done", "lead")

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.view: WriteView | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch, not because it is done


class WriteBatcher:
    """Group commit: several callers' operations in one transaction.

    Flat combining: a caller that finds nobody leading leads: it takes the
    operations waiting at that moment (its own first, at most ``MAX_BATCH``),
    runs them in one transaction in its own thread, wakes their callers, and
    hands the lead to the oldest caller still waiting, if any. Alone, a
    caller just runs its own operation (no thread hand-over at all); under
    load, the operations that arrived during one transaction make the next."""

    MAX_BATCH = 64

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: collections.deque[_Operation] = collections.deque()
        self._lock = threading.Lock()
        self._leading = False
        self.batches = 0
        self.operations = 0

    def submit(self, fn: Callable[[Any], Any]) -> Any:
        operation = _Operation(fn)
        with self._lock:
            self._pending.append(operation)
            follow = self._leading
            self._leading = True
        if follow:
            operation.done.wait()
            if operation.lead:
                follow = False  # handed the lead: its operation heads the next batch
        if not follow:
            self._lead(operation)
        if operation.error is not None:
            raise operation.error
        assert operation.view is not None
        _run_callbacks(operation.view._after_commit)  # noqa: SLF001
        return operation.result

    def _lead(self, own: _Operation) -> None:
        with self._lock:
            batch = []
            while self._pending and len(batch) < self.MAX_BATCH:
                batch.append(self._pending.popleft())
        assert batch and batch[0] is own
        try:
            self._run(batch)
        finally:
            for operation in batch[1:]:
                operation.done.set()
            with self._lock:
                if self._pending:
                    successor = self._pending[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False

    def close(self) -> None:
        """Nothing to stop: callers lead the batches (kept for symmetry)."""

    def _run(self, batch: list[_Operation]) -> None:
        self.batches += 1
        self.operations += len(batch)
        try:
            self._db.transaction(batch, reuse=True)
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the callers below
            # A lone operation's own error is final; a database outage (say the
            # batcher's kept connection died with a PostgreSQL restart) gets one
            # more try on a fresh, pinged connection, as every batch's do.
            if len(batch) == 1 and not isinstance(exc, UnavailableError):
                batch[0].error = exc
                return
        # Something failed: nothing of the batch was committed. Each operation
        # again, alone, so that only the failing one fails.
        for operation in batch:
            try:
                self._db.transaction([operation])
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                operation.error = exc


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
        self._batcher = WriteBatcher(self)
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
        for callback in session._after_commit:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a notification must not fail the write
                log.exception("after-commit callback failed")

    def run_write(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(session)`` in a write transaction; its result once committed
        (after-commit callbacks done). SQLite: batched with other callers'
        (group commit, see the module doc); ``fn`` may run twice (the first
        batch rolled back), so it must only write through the session."""
        if self._batcher is not None:
            return self._batcher.submit(fn)
        return self.write_one(fn)

    def write_one(self, fn: Callable[[Any], Any]) -> Any:
        with self.write() as session:
            return fn(session)

    def transaction(self, operations: list[_Operation], *, reuse: bool = False) -> None:
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
                    self._run_in(conn, operations)
                return
            if self._batch_conn is None or self._batch_conn.closed or \
                    self._batch_conn.invalidated:
                self._batch_conn = self._write_engine.connect()
            try:
                self._run_in(self._batch_conn, operations)
            except BaseException:
                conn, self._batch_conn = self._batch_conn, None
                with contextlib.suppress(Exception):
                    conn.close()
                raise

    @staticmethod
    def _run_in(conn: sa.Connection, operations: list[_Operation]) -> None:
        shared = _Shared(conn)
        try:
            with conn.begin():
                for operation in operations:
                    view = WriteView(shared)
                    operation.result = operation.fn(view)
                    operation.view = view
                    shared.settle()
        finally:
            if shared.orm is not None:
                shared.orm.close()

    def dispose(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
        if self._batch_conn is not None:
            with contextlib.suppress(Exception):
                self._batch_conn.close()
            self._batch_conn = None
        self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            self._read_engine.dispose()
