"""autotune configs: the config tuneforge.autotune uses per (kernel source, key bucket, device, Triton version)

Revision ID: 0005
Revises: 0003_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('autotune_configs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kernel', sa.String(length=64), nullable=False),
    sa.Column('kernel_name', sa.String(length=256), nullable=False),
    sa.Column('bucket', sa.String(length=512), nullable=False),
    sa.Column('device', sa.String(length=256), nullable=False),
    sa.Column('triton', sa.String(length=64), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('time_ms', sa.Float(), nullable=True),
    sa.Column('provenance', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kernel', 'bucket', 'device', 'triton', name='uq_autotune_key')
    )
    with op.batch_alter_table('autotune_configs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_autotune_configs_kernel'), ['kernel'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('autotune_configs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_autotune_configs_kernel'))
    op.drop_table('autotune_configs')
