"""Alembic environment: always run programmatically by ``ferry_registry.db.migrate``
with an open connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from ferry_registry.db.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline mode is not supported
    raise RuntimeError("run migrations through ferry_registry.db.migrate.upgrade()")

context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite",
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
