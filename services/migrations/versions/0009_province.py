"""The province as it is: competent agencies per procedure, one-stop centres and their wards,
fractional processing times, variants, fee rules and cut-offs; a dossier's centre, channel and variant

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_centre', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'agency_wards',
        sa.Column('ward_code', sa.String(length=10), nullable=False),
        sa.Column('agency_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_wards_agency_id_agencies'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ward_code', name=op.f('pk_agency_wards')),
    )
    op.create_index(op.f('ix_agency_wards_agency_id'), 'agency_wards', ['agency_id'], unique=False)

    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=10),
                                      server_default='province', nullable=False))
        batch_op.add_column(sa.Column('by_level', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('variants', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('fee', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cutoff_time', sa.String(length=5), nullable=True))
        batch_op.alter_column('processing_days', existing_type=sa.Integer(), type_=sa.Float(),
                              existing_nullable=False, postgresql_using='processing_days::double precision')
    # What the catalog meant before: a procedure of a commune was that commune's alone, so it keeps its
    # one agency (by_level stays false); every fee was flat.
    op.execute("UPDATE procedures SET level = 'commune' WHERE agency_id IN "
               "(SELECT id FROM agencies WHERE level = 'commune')")
    op.execute("UPDATE procedures SET variants = '[]'")
    procedures = sa.table('procedures', sa.column('id', sa.String), sa.column('fee_vnd', sa.Integer),
                          sa.column('fee', sa.JSON))
    connection = op.get_bind()
    for row in connection.execute(sa.select(procedures.c.id, procedures.c.fee_vnd)).all():
        connection.execute(procedures.update().where(procedures.c.id == row.id)
                           .values(fee={"kind": "flat", "amount_vnd": row.fee_vnd}))
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.alter_column('variants', existing_type=sa.JSON(), nullable=False)

    op.create_table(
        'procedure_agencies',
        sa.Column('procedure_id', sa.String(length=36), nullable=False),
        sa.Column('agency_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_procedure_agencies_agency_id_agencies'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                                name=op.f('fk_procedure_agencies_procedure_id_procedures'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('procedure_id', 'agency_id', name=op.f('pk_procedure_agencies')),
    )
    op.create_index(op.f('ix_procedure_agencies_agency_id'), 'procedure_agencies', ['agency_id'], unique=False)

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receiving_centre_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='online', nullable=False))
        batch_op.add_column(sa.Column('return_method', sa.String(length=8), server_default='online',
                                      nullable=False))
        batch_op.add_column(sa.Column('variant', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('remaining_minutes', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_receiving_centre_id_agencies'), 'agencies',
                                    ['receiving_centre_id'], ['id'])
        batch_op.create_index('ix_dossiers_centre_queue', ['receiving_centre_id', 'queue_at', 'id'], unique=False)
        batch_op.create_index('ix_dossiers_centre_received', ['receiving_centre_id', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_centre_received')
        batch_op.drop_index('ix_dossiers_centre_queue')
        batch_op.drop_constraint(batch_op.f('fk_dossiers_receiving_centre_id_agencies'), type_='foreignkey')
        for column in ('remaining_minutes', 'variant', 'return_method', 'channel', 'receiving_centre_id'):
            batch_op.drop_column(column)
    op.drop_index(op.f('ix_procedure_agencies_agency_id'), table_name='procedure_agencies')
    op.drop_table('procedure_agencies')
    op.execute("UPDATE procedures SET processing_days = CEIL(processing_days)"
               if op.get_bind().dialect.name == 'postgresql' else
               "UPDATE procedures SET processing_days = CAST(processing_days + 0.999 AS INTEGER)")
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.alter_column('processing_days', existing_type=sa.Float(), type_=sa.Integer(),
                              existing_nullable=False, postgresql_using='processing_days::integer')
        for column in ('cutoff_time', 'fee', 'variants', 'by_level', 'level'):
            batch_op.drop_column(column)
    op.drop_index(op.f('ix_agency_wards_agency_id'), table_name='agency_wards')
    op.drop_table('agency_wards')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('is_centre')
