"""user preferences: favourite tools, theme, language

Revision ID: 0004_i24
Revises: 0003_i22
Create Date: 2026-12-07 11:35:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0004_i24'
down_revision = '0003_i22'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_preferences',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('user_preferences')
