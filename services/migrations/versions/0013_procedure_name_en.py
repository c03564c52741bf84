"""Procedures' English names (Accept-Language: en), where the catalog has them

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('procedures') as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('procedures') as batch_op:
        batch_op.drop_column('name_en')
