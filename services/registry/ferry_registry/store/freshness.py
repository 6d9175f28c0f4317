"""Freshness tokens: per profile, the source token stored by the last live run
that finished COMPLETED or WARNING (``states.advances_freshness``).

``store_token`` runs inside FinishRun's transaction, the one that writes the
terminal state (invariant 7); ``FreshnessStore.token`` serves
GetFreshnessToken to the runners' freshness gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ferry.errors import NotFoundError

from ferry_registry.db.engine import Database
from ferry_registry.store.statements import (
    PROFILE_EXISTS,
    PROFILE_LOCK,
    TOKEN_BY_PROFILE,
    TOKEN_INSERT,
    TOKEN_UPDATE,
)


@dataclass(frozen=True)
class StoredToken:
    token: str = ""
    method: int = 0                    # ferry.v1.FreshnessMethod; 0 with no token
    update_time: datetime | None = None


def store_token(conn, *, profile: str, run_id: str, token: str, method: int, now: datetime,
                lock_profile: bool) -> None:
    """Store ``token`` for ``profile`` while the profile exists (``lock_profile``,
    PostgreSQL: under the profile's row lock, so a concurrent delete waits)."""
    if conn.execute(PROFILE_LOCK if lock_profile else PROFILE_EXISTS,
                    {"name": profile}).first() is None:
        return
    values = {"b_profile": profile, "b_token": token, "b_method": method, "b_run_id": run_id,
              "b_now": now}
    if conn.execute(TOKEN_UPDATE, values).rowcount == 0:
        conn.execute(TOKEN_INSERT, {"profile": profile, "token": token, "method": method,
                                    "run_id": run_id, "update_time": now})


class FreshnessStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def token(self, profile: str) -> StoredToken:
        with self._db.read() as session:
            conn = session.connection()
            if conn.execute(PROFILE_EXISTS, {"name": profile}).first() is None:
                raise NotFoundError(f'profile "{profile}" not found')
            row = conn.execute(TOKEN_BY_PROFILE, {"profile": profile}).first()
            if row is None:
                return StoredToken()
            return StoredToken(row.token, row.method, row.update_time)
