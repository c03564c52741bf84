"""Queue indexes found by the province benchmark: a centre's queue by status, and the open dossiers
of an agency and of a centre (the overdue filter no longer walks closed history)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OPEN = sa.text("status NOT IN ('rejected', 'completed', 'withdrawn')")


def upgrade() -> None:
    op.create_index('ix_dossiers_centre_status_queue', 'dossiers', ['receiving_centre_id', 'status', 'queue_at', 'id'])
    op.create_index('ix_dossiers_agency_open_queue', 'dossiers', ['agency_id', 'queue_at', 'id'],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_dossiers_centre_open_queue', 'dossiers', ['receiving_centre_id', 'queue_at', 'id'],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    for name in ('ix_dossiers_centre_open_queue', 'ix_dossiers_agency_open_queue', 'ix_dossiers_centre_status_queue'):
        op.drop_index(name, table_name='dossiers')
