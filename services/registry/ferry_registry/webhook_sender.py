"""The webhook sender: registry threads that POST the outbox's notices.

A loop thread claims due notices (``notification_outbox`` rows PENDING, with
no live lease: a compare-and-set writes this registry's lease, so replicas
never send one notice twice at once) as workers free up, and wakes at once
when a transaction wrote one (``wake``), else every second. Each of
``workers`` threads delivers one notice at a time with httpx:

- headers ``Content-Type: application/json``, ``X-Ferry-Event``,
  ``X-Ferry-Delivery`` (the outbox id), ``X-Ferry-Timestamp`` and, with a
  ``secret_ref``, ``X-Ferry-Signature: sha256=<hex>``
  (``ferry_domain.notifications.signature``; the secret is resolved at send);
- attempts under ``DELIVERY_RETRY`` (tenacity through ``ferry.retry``: 5
  attempts, 1 s doubling to 60 s): no answer, a timeout, 408, 429 and 5xx are
  retried; another status, or a secret that cannot be read, ends it;
- every attempt is recorded: on the run's timeline (a NOTIFICATION event)
  for ``failed``/``recovered`` notices, as a profile event for ``stale`` and
  ``auto_paused``; the URL is shown masked (``masked_url``);
- a 2xx marks it DELIVERED, running out marks it FAILED
  (``ferry_notifications_total{result}``). A stop during a wait leaves it
  PENDING with its lease cleared: the next start sends it again (at least once).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from ferry.clock import Clock
from ferry.metrics import FerryMetrics
from ferry.retry import RetrySettings, RetryStopped, describe_error
from ferry.secrets import SecretError, resolve_secret
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.notifications import (
    DELIVERY_HEADER,
    DELIVERY_RETRY,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryError,
    DeliveryState,
    RetryableDeliveryError,
    masked_url,
    signature,
)

from ferry_registry.db.engine import Database
from ferry_registry.db.models import NotificationRow
from ferry_registry.store import events, profile_events
from ferry_registry.store.statements import RUN_BY_ID

log = logging.getLogger(__name__)

OUTBOX = NotificationRow.__table__
RETRYABLE_STATUS = frozenset({408, 429})
LEASE = timedelta(minutes=10)


def _due(now: datetime, limit: int) -> sa.Select:
    return (sa.select(OUTBOX.c.id)
            .where(OUTBOX.c.state == DeliveryState.PENDING, OUTBOX.c.next_attempt_time <= now,
                   sa.or_(OUTBOX.c.lease_expires_at.is_(None), OUTBOX.c.lease_expires_at < now))
            .order_by(OUTBOX.c.id).limit(limit))


class WebhookSender:
    def __init__(self, db: Database, clock: Clock, *, metrics: FerryMetrics | None = None,
                 retry: RetrySettings = DELIVERY_RETRY, workers: int = 4,
                 timeout: float = 10.0, poll: float = 1.0,
                 run_changed: Callable[[object], None] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._db = db
        self._clock = clock
        self._metrics = metrics
        self._retry = retry
        self._workers = workers
        self._poll = poll
        self._run_changed = run_changed
        self._client = httpx.Client(timeout=timeout, transport=transport,
                                    headers={"User-Agent": "ferry-webhooks/1"})
        self._owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._busy = 0
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def wake(self) -> None:
        """A notice was committed: look for due notices now."""
        self._woken.set()

    # -- claiming ---------------------------------------------------------------------

    def claim_due(self, limit: int) -> list[int]:
        """Lease up to ``limit`` due notices to this registry; their ids."""
        now = self._clock.now()
        claimed: list[int] = []
        with self._db.write() as session:
            conn = session.connection()
            for notice_id in conn.execute(_due(now, limit)).scalars().all():
                moved = conn.execute(
                    sa.update(OUTBOX).where(
                        OUTBOX.c.id == notice_id, OUTBOX.c.state == DeliveryState.PENDING,
                        sa.or_(OUTBOX.c.lease_expires_at.is_(None),
                               OUTBOX.c.lease_expires_at < now))
                    .values(lease_owner=self._owner, lease_expires_at=now + LEASE))
                if moved.rowcount == 1:
                    claimed.append(notice_id)
        return claimed

    def send_due(self) -> int:
        """Claim and deliver every due notice in this thread (tests); how many."""
        ids = self.claim_due(100)
        for notice_id in ids:
            self.deliver(notice_id)
        return len(ids)

    # -- delivering -------------------------------------------------------------------

    def deliver(self, notice_id: int) -> None:
        with self._db.read() as session:
            row = session.get(NotificationRow, notice_id)
            if row is None:
                return
            session.expunge(row)
        where = masked_url(row.url)
        attempts = [row.attempts]
        limit = self._retry.max_attempts

        def attempt() -> None:
            attempts[0] += 1
            number = attempts[0]
            try:
                status = self._post(row)
            except DeliveryError as exc:
                self._record(row, number, f"{row.event} notice to {where} not sent: {exc}",
                             str(exc), {"outcome": "failed"})
                raise
            except httpx.HTTPError as exc:
                what = describe_error(exc)
                self._record(row, number, f"{row.event} notice to {where}: attempt {number} "
                             f"of {limit}: {what}", what, {"outcome": "retry"})
                raise RetryableDeliveryError(what) from exc
            if 200 <= status < 300:
                self._record(row, number, f"{row.event} notice delivered to {where} "
                             f"({status})", "", {"outcome": "delivered",
                                                 "http_status": str(status)},
                             state=DeliveryState.DELIVERED)
                return
            self._record(row, number, f"{row.event} notice to {where}: attempt {number} of "
                         f"{limit}: {status}", f"HTTP {status}",
                         {"outcome": "retry", "http_status": str(status)})
            if status >= 500 or status in RETRYABLE_STATUS:
                raise RetryableDeliveryError(f"HTTP {status}")
            raise DeliveryError(f"HTTP {status}")

        retrying = self._retry.retrying(what=f"webhook {row.event} to {where}",
                                        stop_event=self._stop, logger=log)
        try:
            retrying(attempt)
        except RetryStopped:
            self._release(row)
            return
        except (RetryableDeliveryError, DeliveryError) as exc:
            self._record(row, attempts[0], f"{row.event} notice to {where} not delivered "
                         f"after {attempts[0] - row.attempts} attempt(s): {exc}", str(exc),
                         {"outcome": "failed"}, state=DeliveryState.FAILED, count=False)
            log.warning("webhook notice not delivered", extra={"fields": {
                "profile": row.profile, "run_id": row.run_id, "event": row.event,
                "url": where, "error": str(exc)}})
            if self._metrics is not None:
                self._metrics.notification_finished(False)
            return
        if self._metrics is not None:
            self._metrics.notification_finished(True)

    def _post(self, row: NotificationRow) -> int:
        """One POST; its HTTP status. DeliveryError when the secret cannot be read."""
        timestamp = int(self._clock.now().timestamp())
        headers = {"Content-Type": "application/json", EVENT_HEADER: row.event,
                   DELIVERY_HEADER: str(row.id), TIMESTAMP_HEADER: str(timestamp)}
        if row.secret_ref:
            try:
                secret = resolve_secret(row.secret_ref)
            except SecretError as exc:
                raise DeliveryError(str(exc)) from None
            headers[SIGNATURE_HEADER] = signature(secret, timestamp, row.body)
        return self._client.post(row.url, content=row.body, headers=headers).status_code

    def _record(self, row: NotificationRow, attempt: int, message: str, error: str,
                attributes: dict[str, str], *, state: DeliveryState | None = None,
                count: bool = True) -> None:
        """The attempt on the outbox row and as an event (run or profile)."""
        now = self._clock.now()
        values: dict[str, object] = {"update_time": now, "last_error": error}
        if count:
            values["attempts"] = attempt
        if state is not None:
            values.update(state=state, lease_owner=None, lease_expires_at=None)
        details = {"notification": row.event, "url": masked_url(row.url),
                   "attempt": str(attempt), **attributes}
        with self._db.write() as session:
            conn = session.connection()
            conn.execute(sa.update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))
            run = conn.execute(RUN_BY_ID, {"run_id": row.run_id}).first() if row.run_id \
                else None
            if run is not None:
                events.insert(conn, run, now, message, attributes=details,
                              type=run_pb2.RUN_EVENT_TYPE_NOTIFICATION)
                if self._run_changed is not None:
                    self._run_changed(session)
            elif not row.run_id:
                profile_events.insert(conn, row.profile, now,
                                      profile_pb2.PROFILE_EVENT_TYPE_NOTIFICATION, message,
                                      details)

    def _release(self, row: NotificationRow) -> None:
        with self._db.write() as session:
            session.execute(sa.update(OUTBOX).where(OUTBOX.c.id == row.id)
                            .values(lease_owner=None, lease_expires_at=None))

    # -- threads ----------------------------------------------------------------------

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._loop, name="webhooks", daemon=True)]
        self._threads += [threading.Thread(target=self._work, name=f"webhook-{i}", daemon=True)
                          for i in range(self._workers)]
        for thread in self._threads:
            thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self._lock:
                    free = self._workers - self._busy
                for notice_id in self.claim_due(free) if free > 0 else []:
                    with self._lock:
                        self._busy += 1
                    self._queue.put(notice_id)
            except Exception:  # noqa: BLE001 - keep sending after a database hiccup
                log.exception("webhook pass failed; retrying")
            self._woken.wait(self._poll)
            self._woken.clear()

    def _work(self) -> None:
        while (notice_id := self._queue.get()) is not None:
            try:
                self.deliver(notice_id)
            except Exception:  # noqa: BLE001 - one bad notice must not stop the worker
                log.exception("webhook delivery failed", extra={"fields": {
                    "notification_id": notice_id}})
            finally:
                with self._lock:
                    self._busy -= 1

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._woken.set()
        for _ in range(self._workers):
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._client.close()
