"""Each person's unread count as a column of users (services.notices.inbox keeps it), set from the notifications

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('unread_count', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE users SET unread_count = (SELECT count(*) FROM notifications"
               " WHERE notifications.user_id = users.id AND notifications.read_at IS NULL)"
               " WHERE EXISTS (SELECT 1 FROM notifications WHERE notifications.user_id = users.id"
               " AND notifications.read_at IS NULL)")


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('unread_count')
