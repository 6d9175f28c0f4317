"""runs: rollbacks and the rows a run deleted

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 20:00:00.000000

``runs.deleted``: rows a run removed from the target (a rollback of the run
that created them). ``runs.rollback_of`` and ``runs.rollback_force``: for a
run of operation ROLLBACK, the run it undoes and whether it overwrites
records later runs changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("deleted", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("rollback_of", sa.String(40), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("rollback_force", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("rollback_force")
        batch.drop_column("rollback_of")
        batch.drop_column("deleted")
