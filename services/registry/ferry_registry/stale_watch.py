"""The stale watch: a registry thread that notices profiles going quiet.

Every ``FERRY_STALE_CHECK_INTERVAL`` it judges each profile that declares
``expect_change_within`` (``store.staleness.profile_states``, the pure rule in
``ferry_domain.profiles.staleness``) and:

- sets ``ferry_profile_stale{profile=}`` (0/1) and
  ``ferry_profile_seconds_since_change{profile=}``;
- on the turn to stale, once (a compare-and-set on ``profiles.stale_since``,
  so replicas and restarts never announce it twice), in one transaction:
  records a STALE profile event and the profile's ``stale`` webhook notices
  (``store.outbox``); after the commit it publishes ``profile.stale`` to
  ``<prefix>.run-events`` and logs a warning;
- on the turn back (a live run imported changed input), records a FRESH
  profile event.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from ferry.amqp.messages import profile_stale_event
from ferry.clock import Clock
from ferry.durations import format_duration
from ferry.metrics import FerryMetrics
from ferry.v1 import profile_pb2
from ferry_domain.notifications import Notice

from ferry_registry.db.engine import Database
from ferry_registry.db.models import ProfileRow
from ferry_registry.lifecycle import LifecycleRelay
from ferry_registry.store import profile_events
from ferry_registry.store.outbox import Outbox
from ferry_registry.store.staleness import ProfileState, profile_states

log = logging.getLogger(__name__)

def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


class StaleWatch:
    def __init__(self, db: Database, clock: Clock, interval: timedelta, *,
                 relay: LifecycleRelay | None = None, metrics: FerryMetrics | None = None,
                 outbox: Outbox | None = None) -> None:
        self._db = db
        self._clock = clock
        self._interval = interval.total_seconds()
        self._relay = relay
        self._metrics = metrics
        self._outbox = outbox or Outbox()
        self._measured: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_once(self) -> list[str]:
        """One pass; returns the profiles that turned stale in it."""
        now = self._clock.now()
        with self._db.read() as session:
            states = profile_states(session, now)
        turned: list[str] = []
        measured: set[str] = set()
        for found in states:
            state = found.state
            if state.expect_change_within is not None:
                measured.add(found.name)
                if self._metrics is not None:
                    self._metrics.profile_staleness(
                        found.name, stale=state.stale,
                        seconds_since_change=state.seconds_since_change)
            if state.stale and found.recorded_stale_since is None:
                if self._turn_stale(found, now):
                    turned.append(found.name)
            elif not state.stale and found.recorded_stale_since is not None:
                self._turn_fresh(found, now)
        if self._metrics is not None:
            for name in self._measured - measured:
                self._metrics.forget_profile(name)
        self._measured = measured
        return turned

    def _mark(self, session, name: str, stale_since: datetime | None) -> bool:
        """Compare-and-set of ``profiles.stale_since``: True when this call moved it."""
        guard = (ProfileRow.stale_since.is_(None) if stale_since is not None
                 else ProfileRow.stale_since.is_not(None))
        result = session.execute(sa.update(ProfileRow)
                                 .where(ProfileRow.name == name, guard)
                                 .values(stale_since=stale_since))
        return result.rowcount == 1

    def _turn_stale(self, found: ProfileState, now: datetime) -> bool:
        state = found.state
        assert state.due is not None and state.expect_change_within is not None
        within = format_duration(state.expect_change_within)
        message = (f"no changed input since {_stamp(state.last_change)} "
                   f"(expect_change_within {within})")
        with self._db.write() as session:
            if not self._mark(session, found.name, state.due):
                return False
            profile_events.insert(session.connection(), found.name, now,
                                  profile_pb2.PROFILE_EVENT_TYPE_STALE, message, {
                                      "stale_since": state.due.isoformat(),
                                      "last_change_time": state.last_change.isoformat(),
                                      "expect_change_within": within})
            self._outbox.for_profile(session, found.profile, Notice.STALE, message, now, {
                "stale_since": state.due.isoformat(),
                "last_change_time": state.last_change.isoformat()})
            event = profile_stale_event(found.name, now, stale_since=state.due,
                                        last_change=state.last_change,
                                        expect_change_within=state.expect_change_within)
            fields = {"profile": found.name, "stale_since": state.due.isoformat(),
                      "last_change_time": state.last_change.isoformat()}

            def announce() -> None:
                log.warning("profile is stale: %s", message, extra={"fields": fields})
                if self._relay is not None:
                    self._relay.submit_event(event)

            session.after_commit(announce)
        return True

    def _turn_fresh(self, found: ProfileState, now: datetime) -> None:
        with self._db.write() as session:
            if not self._mark(session, found.name, None):
                return
            if found.state.expect_change_within is None:
                return  # it no longer expects changes: nothing to tell
            profile_events.insert(session.connection(), found.name, now,
                                  profile_pb2.PROFILE_EVENT_TYPE_FRESH,
                                  f"changed input again: last change "
                                  f"{_stamp(found.state.last_change)}",
                                  {"last_change_time": found.state.last_change.isoformat()})

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="stale-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                self.check_once()
            except Exception:  # noqa: BLE001 - keep watching after a database hiccup
                log.exception("stale watch pass failed; retrying next interval")
            if self._stop.wait(self._interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
