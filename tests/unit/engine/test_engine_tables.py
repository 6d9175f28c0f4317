"""Target tables created on first use: runners that create the same table at
the same moment (two profiles' first runs into one fresh target) all go on."""

from __future__ import annotations

import sqlalchemy as sa

from tests.support.tables import create_at_once


def test_concurrent_first_runs_create_a_sqlite_table_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    for attempt in range(5):  # the race is timing-dependent: several rounds
        name = f"products_{attempt}"
        assert create_at_once(url, name) == []
        columns = sa.inspect(sa.create_engine(url)).get_columns(name)
        assert "_ferry_hash" in {c["name"] for c in columns}
