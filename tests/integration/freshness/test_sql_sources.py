"""DB_MAX_UPDATED on a real SQLite file and a throw-away PostgreSQL database:
rows updated -> changed; nothing touched -> unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import FreshnessPermanentError, FreshnessTransientError, Verdict, probe

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def create_products(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, price NUMERIC, "
            "active BOOLEAN, updated_at TIMESTAMP)"
        )
        conn.execute(
            sa.text("INSERT INTO products VALUES (:sku, :price, :active, :updated_at)"),
            [{"sku": f"SKU{i}", "price": i, "active": i % 2 == 0,
              "updated_at": (T0 + timedelta(minutes=i)).replace(tzinfo=None)}
             for i in range(50)],
        )
    return engine


def touch_row(engine: sa.Engine, sku: str, when: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE products SET price = price + 1, updated_at = :t "
                             "WHERE sku = :sku"), {"t": when.replace(tzinfo=None), "sku": sku})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def sql_profile(query: str) -> pb.Profile:
    return pb.Profile(
        name="erp-products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_SQL, location=query, dsn_ref="env:SHOP_DB",
                         updated_column="updated_at"),
        freshness=[pb.FRESHNESS_METHOD_DB_MAX_UPDATED],
    )


def test_sql_source_changes_only_when_its_rows_are_updated(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_products(db_url)
    monkeypatch.setenv("SHOP_DB", db_url)
    # Only active products are imported: updates to inactive rows do not count.
    profile = sql_profile("SELECT sku, price, updated_at FROM products WHERE active;")
    first = probe(profile)
    assert first.verdict is Verdict.FIRST_SEEN
    assert "2026-11-01T08:48:00" in first.current_token  # SKU48, the newest active row

    assert probe(profile, previous_token=first.current_token).verdict is Verdict.UNCHANGED
    touch_row(engine, "SKU3", T0 + timedelta(days=1))  # inactive
    assert probe(profile, previous_token=first.current_token).verdict is Verdict.UNCHANGED
    touch_row(engine, "SKU4", T0 + timedelta(days=2))  # active
    report = probe(profile, previous_token=first.current_token)
    assert report.verdict is Verdict.CHANGED
    assert report.method == "FRESHNESS_METHOD_DB_MAX_UPDATED"
    assert "2026-11-03T08:00:00" in report.current_token
    engine.dispose()


def test_export_reads_the_target_tables_max_updated(db_url: str) -> None:
    engine = create_products(db_url)
    export = pb.Profile(
        name="products-export", entity_type="products", operation=pb.OPERATION_EXPORT,
        freshness=[pb.FRESHNESS_METHOD_DB_MAX_UPDATED],
    )
    first = probe(export, target_url=db_url)
    assert probe(export, target_url=db_url,
                 previous_token=first.current_token).verdict is Verdict.UNCHANGED
    touch_row(engine, "SKU3", T0 + timedelta(days=1))
    assert probe(export, target_url=db_url,
                 previous_token=first.current_token).verdict is Verdict.CHANGED
    engine.dispose()


def test_unknown_column_is_permanent_and_the_password_never_shows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_products(url).dispose()
    monkeypatch.setenv("SHOP_DB", url)
    profile = sql_profile("SELECT sku FROM products")
    with pytest.raises(FreshnessPermanentError):
        probe(profile)


@pytest.mark.postgres
def test_unreachable_database_is_transient_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_DB", "postgresql+psycopg://shop:hunter2secret@127.0.0.1:1/shop"
                       "?connect_timeout=2")
    with pytest.raises(FreshnessTransientError) as caught:
        probe(sql_profile("SELECT * FROM products"))
    assert "hunter2secret" not in str(caught.value)


@pytest.mark.postgres
def test_slow_query_hits_the_source_timeout_and_is_transient(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_DB", postgres_url)
    profile = sql_profile("SELECT now() AS updated_at FROM pg_sleep(5)")
    profile.source.timeout.FromMilliseconds(300)
    with pytest.raises(FreshnessTransientError, match="statement timeout"):
        probe(profile)
