"""Writing webhook notices to the outbox (``notification_outbox``), inside the
transaction of the change they tell about, so a notice exists exactly when
its change committed.

- ``Outbox.for_run``: called by ``RunTransitions.record`` for every status
  change; a finished live run writes ``failed`` or ``recovered`` notices
  (``ferry_domain.notifications.run_notice``) for the profile's webhooks that
  asked for them. A profile without webhooks costs one primary-key read per
  finished run.
- ``Outbox.for_profile``: ``stale`` (the stale watch) and ``auto_paused``
  (``RunTransitions.apply_auto_pause``) notices.

After the commit the sender is woken (``wake``), so a notice leaves at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from ferry.v1 import profile_pb2, run_pb2
from ferry_domain.notifications import (
    RECOVERY_BASIS,
    DeliveryState,
    Notice,
    body,
    document,
    run_notice,
    subscribers,
)
from ferry_domain.runs.states import TERMINAL, RunStatus

from ferry_registry.db.models import NotificationRow
from ferry_registry.store.source_runs import reads_the_source
from ferry_registry.store.statements import PROFILES, RUNS

OUTBOX = NotificationRow.__table__
_SPEC = sa.select(PROFILES.c.spec).where(PROFILES.c.name == sa.bindparam("name"))
# The profile's previous finished live run among COMPLETED, WARNING, FAILED.
_PREVIOUS = (sa.select(RUNS.c.status)
             .where(RUNS.c.profile == sa.bindparam("profile"), RUNS.c.id != sa.bindparam("id"),
                    RUNS.c.dry_run.is_(False), reads_the_source(RUNS.c.operation),
                    RUNS.c.status.in_([int(s) for s in RECOVERY_BASIS]))
             .order_by(RUNS.c.end_time.desc(), RUNS.c.id.desc()).limit(1))


def run_summary(run) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The ``run`` part of a notice's document (``run``: the run's columns)."""
    summary: dict[str, Any] = {
        "id": run.id, "status": RunStatus(run.status).name, "attempt": run.attempt,
        "trigger": run_pb2.RunTrigger.Name(run.trigger).removeprefix("RUN_TRIGGER_").lower(),
        "counts": {name: getattr(run, name) or 0 for name in (
            "rows_read", "created", "updated", "unchanged", "skipped", "errors")}}
    if run.schedule_id:
        summary["schedule_id"] = run.schedule_id
    if run.error_class:
        summary["error_class"] = run_pb2.ErrorClass.Name(run.error_class).removeprefix(
            "ERROR_CLASS_")
    if run.error_message:
        summary["error_message"] = run.error_message
    if run.end_time is not None:
        summary["end_time"] = run.end_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    return summary


def _run_message(notice: Notice, run) -> str:  # type: ignore[no-untyped-def]
    if notice is Notice.FAILED:
        return f"run {run.id} failed: {run.error_message or 'no error message'}"
    return f"run {run.id} ended {RunStatus(run.status).label} after a failed run"


class Outbox:
    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self._wake = wake

    def set_wake(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def for_run(self, session, run, when: datetime) -> None:  # type: ignore[no-untyped-def]
        """The notices of ``run`` (its columns after a status change), if any."""
        status = RunStatus(run.status)
        if (status not in TERMINAL or run.dry_run or status not in RECOVERY_BASIS
                or not reads_the_source(run.operation)):
            return
        conn = session.connection()
        spec = conn.execute(_SPEC, {"name": run.profile}).scalar()
        if not spec:
            return
        profile = profile_pb2.Profile.FromString(spec)
        if not profile.notifications:
            return
        previous_failed = False
        if status != RunStatus.FAILED:
            if not subscribers(profile, Notice.RECOVERED):
                return
            previous = conn.execute(_PREVIOUS, {"profile": run.profile, "id": run.id}).scalar()
            previous_failed = previous == RunStatus.FAILED
        notice = run_notice(status, dry_run=run.dry_run, previous_failed=previous_failed)
        if notice is None:
            return
        doc = document(notice, profile=run.profile, when=when,
                       message=_run_message(notice, run), run=run_summary(run))
        self._write(session, profile, notice, doc, when, run_id=run.id)

    def for_profile(self, session, profile: profile_pb2.Profile, notice: Notice,  # type: ignore[no-untyped-def]
                    message: str, when: datetime,
                    details: Mapping[str, str] | None = None) -> None:
        """The ``stale`` or ``auto_paused`` notices of ``profile``."""
        doc = document(notice, profile=profile.name, when=when, message=message,
                       details=details)
        self._write(session, profile, notice, doc, when)

    def _write(self, session, profile: profile_pb2.Profile, notice: Notice,  # type: ignore[no-untyped-def]
               doc: dict[str, Any], when: datetime, run_id: str = "") -> None:
        targets = subscribers(profile, notice)
        if not targets:
            return
        session.connection().execute(OUTBOX.insert(), [{
            "profile": profile.name, "run_id": run_id, "event": notice.label,
            "url": target.url, "format": target.format, "secret_ref": target.secret_ref,
            "body": body(target.format, doc), "state": DeliveryState.PENDING, "attempts": 0,
            "last_error": "", "next_attempt_time": when, "lease_owner": None,
            "lease_expires_at": None, "create_time": when, "update_time": when}
            for target in targets])
        if self._wake is not None:
            session.after_commit(self._wake)
