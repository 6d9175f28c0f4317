"""Engine integration fixtures: the target databases a test runs against
(SQLite in tmp_path; PostgreSQL via the shared ``postgres_url`` fixture,
a throw-away database per test)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import SAMPLES

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "samples"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}"
    return request.getfixturevalue("postgres_url")


def query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


@pytest.fixture
def q():
    return query


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def load_sample_profile(path: Path):
    """An examples/samples profile, its location resolved against the samples folder
    (the YAML says examples/data/samples/..., relative to the repository root)."""
    from ferry_domain.profiles.yaml_codec import load_profiles

    (profile,) = load_profiles(path.read_text(encoding="utf-8"), str(path))
    profile.source.location = str(SAMPLES / Path(profile.source.location).name)
    return profile
