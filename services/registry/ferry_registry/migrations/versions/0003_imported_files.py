"""imported files: the checksums each profile imported from drop folders

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00.000000

One row per file a live run imported (COMPLETED or WARNING) from a drop
folder, under the profile digest it was imported with. The freshness gate
looks checksums up here so that each file is imported once; rows are purged
with their run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ferry_registry.db.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_files",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=63), nullable=False),
        sa.Column("profile_digest", sa.String(length=64), nullable=False),
        sa.Column("checksum", sa.String(length=80), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("import_time", ferry_registry.db.models.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_files")),
    )
    op.create_index("ix_imported_files_lookup", "imported_files",
                    ["profile", "profile_digest", "checksum"])
    op.create_index("ix_imported_files_run", "imported_files", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_imported_files_run", table_name="imported_files")
    op.drop_index("ix_imported_files_lookup", table_name="imported_files")
    op.drop_table("imported_files")
