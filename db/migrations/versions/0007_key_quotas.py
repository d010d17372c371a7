"""key quotas: each key's own limits on jobs, trials and device-seconds, and the key a job came with

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('key_name', sa.String(length=64), nullable=True))
    op.create_index('ix_jobs_key_name', 'jobs', ['key_name'])
    op.add_column('api_keys', sa.Column('quota_active_jobs', sa.Integer(), nullable=True))
    op.add_column('api_keys', sa.Column('quota_trials_per_day', sa.Integer(), nullable=True))
    op.add_column('api_keys', sa.Column('quota_device_seconds_per_day', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys') as batch:
        batch.drop_column('quota_device_seconds_per_day')
        batch.drop_column('quota_trials_per_day')
        batch.drop_column('quota_active_jobs')
    op.drop_index('ix_jobs_key_name', 'jobs')
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('key_name')
