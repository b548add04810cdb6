"""job heartbeat: the worker running a job and when it last said it is alive

Revision ID: 0005_16
Revises: 0004_i24
Create Date: 2026-12-07 11:10:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0005_16'
down_revision = '0004_i24'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', app.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('worker', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('worker')
        batch_op.drop_column('heartbeat_at')
