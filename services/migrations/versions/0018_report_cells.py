"""The public map's cell revisions (report_cells), filled from the reports there are

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_cells',
    sa.Column('cell', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('cell', name=op.f('pk_report_cells'))
    )
    op.execute("INSERT INTO report_cells (cell, revision) SELECT DISTINCT cell, 1 FROM reports")


def downgrade() -> None:
    op.drop_table('report_cells')
