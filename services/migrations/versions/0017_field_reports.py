"""Field reports: categories, reports (grid cell indexed), photos, followers, timeline, Open311 keys

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 22:21:34.165950
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_code_counters',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_report_code_counters'))
    )
    op.create_table('open311_keys',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', services.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_open311_keys_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_keys_key_hash'))
    )
    op.create_table('report_categories',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('by_ward', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('sla_days', sa.Integer(), nullable=False),
    sa.Column('photo_required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_report_categories_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_report_categories_code'))
    )
    op.create_table('reports',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('category_id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('reporter_id', sa.String(length=36), nullable=True),
    sa.Column('open311_key_id', sa.String(length=36), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('cell', sa.Integer(), nullable=False),
    sa.Column('ward_code', sa.String(length=10), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('media_url', sa.String(length=500), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', services.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', services.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('rating_score', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=True),
    sa.Column('rated_at', services.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_reports_agency_id_agencies')),
    sa.ForeignKeyConstraint(['category_id'], ['report_categories.id'], name=op.f('fk_reports_category_id_report_categories')),
    sa.ForeignKeyConstraint(['open311_key_id'], ['open311_keys.id'], name=op.f('fk_reports_open311_key_id_open311_keys')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_reports_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('code', name=op.f('uq_reports_code'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_agency_created', ['agency_id', 'created_at'], unique=False)
        batch_op.create_index('ix_reports_agency_due', ['agency_id', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_agency_open_due', ['agency_id', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"), sqlite_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"))
        batch_op.create_index('ix_reports_agency_status_due', ['agency_id', 'status', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_category_cell_open', ['category_id', 'cell'], unique=False, postgresql_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"), sqlite_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"))
        batch_op.create_index('ix_reports_cell', ['cell', 'status'], unique=False)
        batch_op.create_index('ix_reports_due', ['due_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_reporter_created', ['reporter_id', 'created_at', 'id'], unique=False)

    op.create_table('report_followers',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_followers_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_followers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'user_id', name=op.f('pk_report_followers'))
    )
    with op.batch_alter_table('report_followers', schema=None) as batch_op:
        batch_op.create_index('ix_report_followers_user', ['user_id'], unique=False)

    op.create_table('report_photos',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=30), nullable=False),
    sa.Column('uploaded_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_photos_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['stored_files.sha256'], name=op.f('fk_report_photos_sha256_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_report_photos_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_photos'))
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index('ix_report_photos_report', ['report_id'], unique=False)

    op.create_table('report_timeline',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('agency_code', sa.String(length=40), nullable=True),
    sa.Column('at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_report_timeline_actor_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_timeline_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_timeline')),
    sa.UniqueConstraint('report_id', 'seq', name=op.f('uq_report_timeline_report_id'))
    )


def downgrade() -> None:
    op.drop_table('report_timeline')
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_report_photos_report')

    op.drop_table('report_photos')
    with op.batch_alter_table('report_followers', schema=None) as batch_op:
        batch_op.drop_index('ix_report_followers_user')

    op.drop_table('report_followers')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_reporter_created')
        batch_op.drop_index('ix_reports_due')
        batch_op.drop_index('ix_reports_cell')
        batch_op.drop_index('ix_reports_category_cell_open', postgresql_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"), sqlite_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"))
        batch_op.drop_index('ix_reports_agency_status_due')
        batch_op.drop_index('ix_reports_agency_open_due', postgresql_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"), sqlite_where=sa.text("status IN ('new', 'accepted', 'in_progress', 'reopened')"))
        batch_op.drop_index('ix_reports_agency_due')
        batch_op.drop_index('ix_reports_agency_created')

    op.drop_table('reports')
    op.drop_table('report_categories')
    op.drop_table('open311_keys')
    op.drop_table('report_code_counters')
