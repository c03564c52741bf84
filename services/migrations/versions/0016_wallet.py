"""The citizen's document wallet: items, single-use shares, expiry reminders; attachments taken from it

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'wallet_items',
        sa.Column('owner_id', sa.String(length=36), nullable=False),
        sa.Column('document_type', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('issued_at', sa.Date(), nullable=True),
        sa.Column('expires_at', sa.Date(), nullable=True),
        sa.Column('dossier_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_wallet_items_dossier_id_dossiers'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_wallet_items_owner_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sha256'], ['stored_files.sha256'],
                                name=op.f('fk_wallet_items_sha256_stored_files')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_items')),
    )
    with op.batch_alter_table('wallet_items') as batch_op:
        batch_op.create_index('ix_wallet_items_owner_created', ['owner_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_wallet_items_owner_type_created', ['owner_id', 'document_type', 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_wallet_items_expires', ['expires_at'], unique=False)
        batch_op.create_index('ix_wallet_items_sha256', ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_items_dossier_id'), ['dossier_id'], unique=False)
    op.create_table(
        'wallet_shares',
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', services.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', services.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('used_from', sa.String(length=64), nullable=True),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['wallet_items.id'], name=op.f('fk_wallet_shares_item_id_wallet_items'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_shares')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_wallet_shares_token_hash')),
    )
    with op.batch_alter_table('wallet_shares') as batch_op:
        batch_op.create_index('ix_wallet_shares_item_created', ['item_id', 'created_at', 'id'], unique=False)
    op.create_table(
        'wallet_alerts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('event', sa.String(length=12), nullable=False),
        sa.Column('expires_at', sa.Date(), nullable=False),
        sa.Column('sent_at', services.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['wallet_items.id'], name=op.f('fk_wallet_alerts_item_id_wallet_items'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_alerts')),
        sa.UniqueConstraint('item_id', 'event', 'expires_at', name=op.f('uq_wallet_alerts_item_id')),
    )
    with op.batch_alter_table('attachments') as batch_op:
        batch_op.add_column(sa.Column('wallet_item_id', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_attachments_sha256', ['sha256'], unique=False)
    with op.batch_alter_table('dossiers') as batch_op:
        batch_op.create_index('ix_dossiers_agency_submitted', ['agency_id', 'submitted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossiers') as batch_op:
        batch_op.drop_index('ix_dossiers_agency_submitted')
    with op.batch_alter_table('attachments') as batch_op:
        batch_op.drop_index('ix_attachments_sha256')
        batch_op.drop_column('wallet_item_id')
    op.drop_table('wallet_alerts')
    with op.batch_alter_table('wallet_shares') as batch_op:
        batch_op.drop_index('ix_wallet_shares_item_created')
    op.drop_table('wallet_shares')
    with op.batch_alter_table('wallet_items') as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_items_dossier_id'))
        batch_op.drop_index('ix_wallet_items_sha256')
        batch_op.drop_index('ix_wallet_items_expires')
        batch_op.drop_index('ix_wallet_items_owner_type_created')
        batch_op.drop_index('ix_wallet_items_owner_created')
    op.drop_table('wallet_items')
