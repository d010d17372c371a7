"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('best_configs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('problem_key', sa.String(length=256), nullable=False),
    sa.Column('problem', sa.JSON(), nullable=False),
    sa.Column('device', sa.String(length=512), nullable=False),
    sa.Column('device_name', sa.String(length=256), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('baseline', sa.JSON(), nullable=True),
    sa.Column('provenance', sa.String(length=16), nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('trial_number', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('target', 'problem_key', 'device', name='uq_best_target_problem_device')
    )
    with op.batch_alter_table('best_configs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_best_configs_target'), ['target'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('problem', sa.JSON(), nullable=False),
    sa.Column('problem_key', sa.String(length=256), nullable=False),
    sa.Column('device', sa.String(length=512), nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('objectives', sa.JSON(), nullable=False),
    sa.Column('constraints', sa.JSON(), nullable=False),
    sa.Column('budget_trials', sa.Integer(), nullable=False),
    sa.Column('budget_seconds', sa.Float(), nullable=True),
    sa.Column('parallelism', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('n_trials', sa.Integer(), nullable=False),
    sa.Column('spent_seconds', sa.Float(), nullable=False),
    sa.Column('best_value', sa.Float(), nullable=True),
    sa.Column('best_trial', sa.Integer(), nullable=True),
    sa.Column('baseline', sa.JSON(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_target'), ['target'], unique=False)

    op.create_table('workers',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('queues', sa.JSON(), nullable=False),
    sa.Column('hostname', sa.String(length=128), nullable=False),
    sa.Column('info', sa.JSON(), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('trials',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=True),
    sa.Column('feasible', sa.Boolean(), nullable=False),
    sa.Column('provenance', sa.String(length=16), nullable=False),
    sa.Column('device_name', sa.String(length=256), nullable=False),
    sa.Column('cost_s', sa.Float(), nullable=False),
    sa.Column('timings', sa.JSON(), nullable=False),
    sa.Column('log', sa.Text(), nullable=False),
    sa.Column('worker', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'number', name='uq_trial_job_number')
    )
    with op.batch_alter_table('trials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trials_job_id'), ['job_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('trials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trials_job_id'))

    op.drop_table('trials')
    op.drop_table('workers')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_target'))
        batch_op.drop_index(batch_op.f('ix_jobs_status'))

    op.drop_table('jobs')
    with op.batch_alter_table('best_configs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_best_configs_target'))

    op.drop_table('best_configs')
