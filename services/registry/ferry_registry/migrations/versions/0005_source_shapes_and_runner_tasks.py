"""source shapes of the last good runs, and runner tasks

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-10 10:00:00.000000

``source_shapes``: per profile, the source shape (columns and sampled types)
of its last good run, which the next run compares its own with.
``runner_tasks``: short tasks a runner executes where the data is (validate a
profile), with their state, deadline and answer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ferry_registry.db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_shapes",
        sa.Column("profile", sa.String(length=63), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("shape", sa.LargeBinary(), nullable=False),
        sa.Column("update_time", ferry_registry.db.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("profile", name=op.f("pk_source_shapes")),
    )
    op.create_table(
        "runner_tasks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=63), nullable=False),
        sa.Column("runner_id", sa.String(length=200), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("create_time", ferry_registry.db.models.UtcDateTime(), nullable=False),
        sa.Column("update_time", ferry_registry.db.models.UtcDateTime(), nullable=False),
        sa.Column("expire_time", ferry_registry.db.models.UtcDateTime(), nullable=False),
        sa.Column("start_time", ferry_registry.db.models.UtcDateTime(), nullable=True),
        sa.Column("end_time", ferry_registry.db.models.UtcDateTime(), nullable=True),
        sa.Column("published_time", ferry_registry.db.models.UtcDateTime(), nullable=True),
        sa.Column("publish_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runner_tasks")),
    )
    op.create_index("ix_runner_tasks_state", "runner_tasks", ["state", "create_time"])


def downgrade() -> None:
    op.drop_index("ix_runner_tasks_state", table_name="runner_tasks")
    op.drop_table("runner_tasks")
    op.drop_table("source_shapes")
