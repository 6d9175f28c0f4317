"""run evidence: the filtered count, the source override

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-10 10:00:00.000000

``runs.filtered``: rows the profile's filters leave out on purpose.
``runs.source_override``: the location a run reads instead of its profile's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("filtered", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("source_override", sa.Text(), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("source_override")
        batch.drop_column("filtered")
