"""run evidence: the filtered count

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-10 10:00:00.000000

``runs.filtered``: rows the profile's filters leave out on purpose.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("filtered", sa.BigInteger(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("filtered")
