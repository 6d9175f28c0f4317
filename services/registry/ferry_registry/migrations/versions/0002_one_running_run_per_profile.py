"""one running run per profile: a partial unique index on runs(profile)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 14:00:00.000000

Claims already keep at most one RUNNING run per profile with their
compare-and-set; the index makes the database refuse a second one too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RUNNING = 2  # ferry.v1.RUN_STATUS_RUNNING, fixed at the time of this revision
WHERE = sa.text(f"status = {RUNNING}")


def upgrade() -> None:
    op.create_index("uq_runs_running_profile", "runs", ["profile"], unique=True,
                    sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index("uq_runs_running_profile", table_name="runs")
