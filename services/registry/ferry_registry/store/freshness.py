"""Freshness tokens: per profile, the source token stored by the last live run
that finished COMPLETED or WARNING (``states.advances_freshness``), and the
files such runs imported from drop folders (checksum, path, run) under the
profile digest they were imported with.

``store_token`` and ``store_imported`` run inside FinishRun's transaction, the
one that writes the terminal state (invariant 7); so does ``reset_token``,
when a live rollback ends COMPLETED or WARNING. ``FreshnessStore.token``
serves GetFreshnessToken to the runners' freshness gate. Imported files are
purged with their run (``store.history``) and with their profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ferry.errors import NotFoundError
from ferry_domain.freshness import tokens

from ferry_registry.db.engine import Database
from ferry_registry.store.statements import (
    IMPORTED_INSERT,
    IMPORTED_LOOKUP,
    IMPORTED_OF_RUN_DELETE,
    PROFILE_EXISTS,
    PROFILE_LOCK,
    TOKEN_BY_PROFILE,
    TOKEN_INSERT,
    TOKEN_UPDATE,
)

# Checksums one GetFreshnessToken may look up (a drop folder's ready files).
MAX_LOOKUP_CHECKSUMS = 1000


@dataclass(frozen=True)
class ImportedFile:
    path: str
    checksum: str
    run_id: str = ""
    import_time: datetime | None = None


@dataclass(frozen=True)
class StoredToken:
    token: str = ""
    method: int = 0                    # ferry.v1.FreshnessMethod; 0 with no token
    update_time: datetime | None = None
    imported: tuple[ImportedFile, ...] = field(default=())


def _profile_held(conn, profile: str, lock_profile: bool) -> bool:
    return conn.execute(PROFILE_LOCK if lock_profile else PROFILE_EXISTS,
                        {"name": profile}).first() is not None


def store_token(conn, *, profile: str, run_id: str, token: str, method: int, now: datetime,
                lock_profile: bool) -> None:
    """Store ``token`` for ``profile`` while the profile exists (``lock_profile``,
    PostgreSQL: under the profile's row lock, so a concurrent delete waits)."""
    if not _profile_held(conn, profile, lock_profile):
        return
    values = {"b_profile": profile, "b_token": token, "b_method": method, "b_run_id": run_id,
              "b_now": now}
    if conn.execute(TOKEN_UPDATE, values).rowcount == 0:
        conn.execute(TOKEN_INSERT, {"profile": profile, "token": token, "method": method,
                                    "run_id": run_id, "update_time": now})


def reset_token(conn, *, profile: str, run_id: str, undone_run_id: str, now: datetime,
                lock_profile: bool) -> None:
    """After live rollback ``run_id`` undid ``undone_run_id``: the stored token
    keeps only its profile digest and names the rollback (``tokens.ROLLED_BACK_KEY``),
    so the gate's next verdict is CHANGED and the same source is imported again;
    the drop-folder files the undone run imported are forgotten, so the same
    content is no longer skipped."""
    if not _profile_held(conn, profile, lock_profile):
        return
    row = conn.execute(TOKEN_BY_PROFILE, {"profile": profile}).first()
    if row is not None:
        kept = {key: value for key, value in tokens.decode(row.token).items()
                if key == tokens.DIGEST_KEY}
        token = tokens.encode({**kept, tokens.ROLLED_BACK_KEY: run_id})
        conn.execute(TOKEN_UPDATE, {"b_profile": profile, "b_token": token,
                                    "b_method": row.method, "b_run_id": run_id, "b_now": now})
    if undone_run_id:
        conn.execute(IMPORTED_OF_RUN_DELETE, {"run_id": undone_run_id})


def store_imported(conn, *, profile: str, digest: str, run_id: str,
                   files: Sequence[ImportedFile], now: datetime, lock_profile: bool) -> None:
    """Record the drop-folder files a live run imported, under ``digest``."""
    if not files or not digest or not _profile_held(conn, profile, lock_profile):
        return
    conn.execute(IMPORTED_INSERT, [{
        "profile": profile, "profile_digest": digest, "checksum": item.checksum,
        "path": item.path, "run_id": run_id, "import_time": now} for item in files])


class FreshnessStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def token(self, profile: str, digest: str = "",
              checksums: Sequence[str] = ()) -> StoredToken:
        """The stored token, and the files imported under ``digest`` whose
        checksum is one of ``checksums`` (newest import first)."""
        with self._db.read() as session:
            conn = session.connection()
            if conn.execute(PROFILE_EXISTS, {"name": profile}).first() is None:
                raise NotFoundError(f'profile "{profile}" not found')
            imported: tuple[ImportedFile, ...] = ()
            if digest and checksums:
                imported = tuple(ImportedFile(r.path, r.checksum, r.run_id, r.import_time)
                                 for r in conn.execute(IMPORTED_LOOKUP, {
                                     "profile": profile, "digest": digest,
                                     "checksums": list(checksums)[:MAX_LOOKUP_CHECKSUMS]}))
            row = conn.execute(TOKEN_BY_PROFILE, {"profile": profile}).first()
            if row is None:
                return StoredToken(imported=imported)
            return StoredToken(row.token, row.method, row.update_time, imported)
