"""automations: watch folders and schedules, and the files they took

Revision ID: 0003_i22
Revises: 0002
Create Date: 2026-12-07 11:20:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0003_i22'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('automations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('pipeline_id', sa.String(length=36), nullable=True),
    sa.Column('steps', sa.JSON(), nullable=True),
    sa.Column('output_path', sa.Text(), nullable=False),
    sa.Column('naming', sa.String(length=200), nullable=False),
    sa.Column('on_conflict', sa.String(length=16), nullable=False),
    sa.Column('after_success', sa.String(length=16), nullable=False),
    sa.Column('globs', sa.JSON(), nullable=False),
    sa.Column('min_age_s', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('schedule', sa.String(length=120), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('last_fired_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('automations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_automations_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_automations_pipeline_id'), ['pipeline_id'], unique=False)

    op.create_table('automation_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('automation_id', sa.String(length=36), nullable=False),
    sa.Column('input_name', sa.String(length=255), nullable=False),
    sa.Column('input_size', sa.BigInteger(), nullable=False),
    sa.Column('input_mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('outputs', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('started_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', app.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['automation_id'], ['automations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('automation_id', 'input_name', 'input_size', 'input_mtime_ns', name='uq_automation_run_input')
    )
    with op.batch_alter_table('automation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_automation_runs_automation_id'), ['automation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_runs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_automation_runs_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('automation_runs')
    op.drop_table('automations')
