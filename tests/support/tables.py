"""Creating one target table from several engines at the same moment, as
runners do on the first runs of two profiles into a fresh target."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from ferry_domain.engine.entities import get_entity
from ferry_domain.engine.targets.tables import build_table, ensure_table


def create_at_once(url: str, table_name: str, creators: int = 8) -> list[BaseException]:
    """``creators`` threads, each with its own engine (as separate runners),
    ensure the same table at the same moment; the errors they raised."""
    schema = get_entity("products")
    barrier = threading.Barrier(creators)
    errors: list[BaseException] = []

    def create() -> None:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            table = build_table(schema, table_name)
            barrier.wait()
            ensure_table(engine, table, tuple(schema.key))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=create) for _ in range(creators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
