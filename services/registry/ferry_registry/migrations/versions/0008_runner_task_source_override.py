"""runner tasks: the source override

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:00:00.000000

``runner_tasks.source_override``: the file or URL a task reads instead of its
profile's source (``ferry profiles validate NAME --source``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runner_tasks") as batch:
        batch.add_column(sa.Column("source_override", sa.Text(), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("runner_tasks") as batch:
        batch.drop_column("source_override")
