"""A payment that paid a fee already paid is marked for refund

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_due', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_payments_refund_due', ['refund_due', 'paid_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_refund_due')
        batch_op.drop_column('refund_due')
