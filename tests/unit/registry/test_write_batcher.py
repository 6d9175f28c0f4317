"""Group commit of the registry's hot writes (``Database.run_write``): results,
after-commit callbacks in the caller, and one failing operation never touching
another caller's write."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from ferry.errors import FailedPreconditionError
from ferry_registry.db import migrate
from ferry_registry.db.engine import Database
from ferry_registry.db.models import FreshnessTokenRow

TOKENS = FreshnessTokenRow.__table__


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'r.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def insert(profile: str, *, fail: bool = False, notes: list[str] | None = None):
    def write(session):
        session.connection().execute(TOKENS.insert().values(
            profile=profile, token="t", method=0, run_id="", update_time=sa.func.now()))
        if notes is not None:
            session.after_commit(lambda: notes.append(
                f"{profile} on {threading.current_thread().name}"))
        if fail:
            raise FailedPreconditionError(f"{profile} refused")
        return profile
    return write


def stored(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.scalars(sa.select(TOKENS.c.profile)))


def test_a_write_returns_its_result_and_runs_its_callbacks_in_the_caller(db):
    notes: list[str] = []
    results: list[str] = []
    caller = threading.Thread(target=lambda: results.append(
        db.run_write(insert("p1", notes=notes))), name="caller")
    caller.start()
    caller.join(10)
    assert results == ["p1"]
    assert notes == ["p1 on caller"]
    assert stored(db) == {"p1"}


def test_concurrent_writes_share_transactions_and_a_failing_one_changes_nothing(db):
    notes: list[str] = []
    names = [f"p{i}" for i in range(60)]

    def one(name: str) -> str:
        try:
            return db.run_write(insert(name, fail=name.endswith("7"), notes=notes))
        except FailedPreconditionError as exc:
            return f"refused: {exc}"

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, names))
    refused = {n for n in names if n.endswith("7")}
    assert results == [f"refused: {n} refused" if n in refused else n for n in names]
    # The failing writes left nothing and announced nothing; the others all committed.
    assert stored(db) == set(names) - refused
    assert sorted(note.split()[0] for note in notes) == sorted(set(names) - refused)
    assert db._batcher.operations >= len(names)  # noqa: SLF001


def test_after_dispose_writes_still_run_one_by_one(db):
    db._batcher.close()  # noqa: SLF001
    assert db.run_write(insert("late")) == "late"
    assert stored(db) == {"late"}
