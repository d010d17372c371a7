"""job transfer: the other devices' and problems' histories a job learned from, and their weights

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('transfer', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('jobs', 'transfer')
