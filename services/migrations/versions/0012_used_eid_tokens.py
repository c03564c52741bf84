"""eID ID tokens already exchanged for a session (each opens one session only)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 20:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'used_eid_tokens',
        sa.Column('token_id', sa.String(length=64), nullable=False),
        sa.Column('expires_at', services.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_used_eid_tokens')),
    )
    op.create_index(op.f('ix_used_eid_tokens_expires_at'), 'used_eid_tokens', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_used_eid_tokens_expires_at'), table_name='used_eid_tokens')
    op.drop_table('used_eid_tokens')
