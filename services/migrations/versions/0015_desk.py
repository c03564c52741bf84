"""The one-stop desk: fees paid at the counter, desk documents (forms 01-04), postal shipments;
a dossier's paid_via, desk contact and digitisation time; attachments scanned at the desk

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 22:22:15.950382
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import services.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_counters',
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('form_no', sa.String(length=2), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_document_counters_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', 'form_no', 'year', name=op.f('pk_document_counters'))
    )
    op.create_table('desk_documents',
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('form_no', sa.String(length=2), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('issued_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('verify_code', sa.String(length=40), nullable=False),
    sa.Column('agency_name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_desk_documents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_desk_documents_dossier_id_dossiers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['stored_files.sha256'], name=op.f('fk_desk_documents_sha256_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_documents')),
    sa.UniqueConstraint('agency_id', 'form_no', 'number', name=op.f('uq_desk_documents_agency_id')),
    sa.UniqueConstraint('verify_code', name=op.f('uq_desk_documents_verify_code'))
    )
    with op.batch_alter_table('desk_documents', schema=None) as batch_op:
        batch_op.create_index('ix_desk_documents_dossier', ['dossier_id', 'issued_at'], unique=False)

    op.create_table('desk_payments',
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('amount_vnd', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('receipt_no', sa.String(length=60), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('recorded_by', sa.String(length=36), nullable=False),
    sa.Column('recorded_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_desk_payments_dossier_id_dossiers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_desk_payments_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_payments')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_desk_payments_receipt_no'))
    )
    with op.batch_alter_table('desk_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_payments_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('shipments',
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('waybill_no', sa.String(length=40), nullable=False),
    sa.Column('fee_vnd', sa.Integer(), nullable=False),
    sa.Column('address', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('created_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_event_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_shipments_created_by_users')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_shipments_dossier_id_dossiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('waybill_no', name=op.f('uq_shipments_waybill_no'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_dossier', ['dossier_id', 'created_at'], unique=False)
        batch_op.create_index('ix_shipments_status_changed', ['status', 'status_changed_at', 'id'], unique=False)

    op.create_table('shipment_events',
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('event_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', services.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_events_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_events')),
    sa.UniqueConstraint('shipment_id', 'event_id', name=op.f('uq_shipment_events_shipment_id'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digitised', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_via', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('applicant_contact', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('digitised_at', services.db.UTCDateTime(timezone=True), nullable=True))
    # Fees paid before this revision were paid through the gateway; online dossiers' papers were files.
    op.execute("UPDATE dossiers SET paid_via = 'online' WHERE paid_at IS NOT NULL")
    op.execute("UPDATE dossiers SET digitised_at = submitted_at WHERE submitted_at IS NOT NULL")



def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('digitised_at')
        batch_op.drop_column('applicant_contact')
        batch_op.drop_column('paid_via')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('digitised')

    op.drop_table('shipment_events')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_status_changed')
        batch_op.drop_index('ix_shipments_dossier')

    op.drop_table('shipments')
    with op.batch_alter_table('desk_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_payments_dossier_id'))

    op.drop_table('desk_payments')
    with op.batch_alter_table('desk_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_documents_dossier')

    op.drop_table('desk_documents')
    op.drop_table('document_counters')
