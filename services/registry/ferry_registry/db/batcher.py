"""Group commit of the registry's hot writes: several callers' operations in
one transaction.

``Database.run_write(fn)`` hands ``fn(session)`` to a ``WriteBatcher``: the
operations waiting at that moment run one after the other in ONE transaction
(group commit), led by one of their callers' threads (flat combining), and
each caller gets its result back. Each operation sees its own ``info`` and
``after_commit`` list (a ``WriteView`` of the shared transaction), and its
callbacks run in the calling thread once the batch committed. When an
operation raises, the batch is rolled back and its operations are run again
one transaction each, so one failure never touches another caller's write.

Under load this replaces several lock hand-overs (each one a thread wake-up
that must also win the GIL) by one, which is what bounds a SQLite registry's
throughput. On PostgreSQL it saves a commit (a WAL flush) per operation; row
locks taken by a batch are held until the batch commits, and a deadlock or
serialization error with another replica's transaction fails the batch, whose
operations then run one by one.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa
from ferry.errors import UnavailableError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    """After-commit callbacks; one that fails is logged and the others still run."""
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - a notification must not fail the write
            log.exception("after-commit callback failed")


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
        self.callbacks: list[Callable[[], None]] = []

    def connection(self) -> sa.Connection:
        return self._shared.conn

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared.session(), name)


class Operation:
    """One caller's write: its function, and what became of it."""

    __slots__ = ("fn", "view", "result", "error", "done", "lead")

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.view: WriteView | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch, not because it is done


def run_operations(conn: sa.Connection, operations: list[Operation]) -> None:
    """``operations`` one after the other in one transaction on ``conn``, each
    with its own view; raises (having committed nothing) when one raises."""
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


class Transaction(Protocol):
    def __call__(self, operations: list[Operation], *, reuse: bool = False) -> None:
        """Run ``operations`` in one write transaction (``reuse``: on the
        batcher's kept connection); raise, having committed nothing, on failure."""


class WriteBatcher:
    """Group commit: several callers' operations in one transaction.

    Flat combining: a caller that finds nobody leading leads: it takes the
    operations waiting at that moment (its own first, at most ``MAX_BATCH``),
    runs them in one transaction in its own thread, wakes their callers, and
    hands the lead to the oldest caller still waiting, if any. Alone, a
    caller just runs its own operation (no thread hand-over at all); under
    load, the operations that arrived during one transaction make the next."""

    MAX_BATCH = 64

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction
        self._pending: collections.deque[Operation] = collections.deque()
        self._lock = threading.Lock()
        self._leading = False
        self.batches = 0
        self.operations = 0

    def submit(self, fn: Callable[[Any], Any]) -> Any:
        operation = Operation(fn)
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
        run_callbacks(operation.view.callbacks)
        return operation.result

    def _lead(self, own: Operation) -> None:
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
        """Nothing to stop: callers lead the batches."""

    def _run(self, batch: list[Operation]) -> None:
        self.batches += 1
        self.operations += len(batch)
        try:
            self._transaction(batch, reuse=True)
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
                self._transaction([operation])
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                operation.error = exc
