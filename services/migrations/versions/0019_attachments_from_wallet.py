"""A partial index of the papers taken from a wallet, for the reuse figure

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

FROM_WALLET = sa.text("wallet_item_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('attachments') as batch_op:
        batch_op.create_index('ix_attachments_from_wallet', ['dossier_id'], unique=False,
                              postgresql_where=FROM_WALLET, sqlite_where=FROM_WALLET)


def downgrade() -> None:
    with op.batch_alter_table('attachments') as batch_op:
        batch_op.drop_index('ix_attachments_from_wallet')
