"""storage quotas per user and per team

Revision ID: 0005_i15
Revises: 0005_i21
Create Date: 2026-12-07 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0005_i15"
down_revision = "0005_i21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storage_quotas",
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("quota_mb", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_type", "subject_id"),
    )


def downgrade() -> None:
    op.drop_table("storage_quotas")
