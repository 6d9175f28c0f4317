"""stale profiles and webhooks: profiles.stale_since, profile_events, notification_outbox

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ferry_registry.db.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = ferry_registry.db.models.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stale_since", _TIME(), nullable=True))
    op.create_table(
        "profile_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=63), nullable=False),
        sa.Column("event_time", _TIME(), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_events")),
    )
    op.create_index("ix_profile_events_profile", "profile_events", ["profile", "id"])
    op.create_table(
        "notification_outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=63), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("secret_ref", sa.String(length=500), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_time", _TIME(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", _TIME(), nullable=True),
        sa.Column("create_time", _TIME(), nullable=False),
        sa.Column("update_time", _TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
    )
    op.create_index("ix_notification_outbox_due", "notification_outbox",
                    ["state", "next_attempt_time"])


def downgrade() -> None:
    op.drop_index("ix_notification_outbox_due", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_index("ix_profile_events_profile", table_name="profile_events")
    op.drop_table("profile_events")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("stale_since")
