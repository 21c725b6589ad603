"""links: unit channels and signing secrets, kinds (industry, police, partner), callbacks, police incidents, party marks, notices

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units') as units:
        units.add_column(sa.Column('kind', sa.String(length=16), server_default='department', nullable=False))
        units.add_column(sa.Column('channel', sa.String(length=16), server_default='webhook', nullable=False))
        units.add_column(sa.Column('signing_secret', sa.String(length=128), nullable=True))
        units.add_column(sa.Column('province_code', sa.String(length=2), nullable=True))
        units.create_index('ix_units_kind', ['kind'])
        units.create_index('ix_units_province_code', ['province_code'])
    op.create_table('callback_receipts',
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'key')
    )
    op.create_table('police_incidents',
    sa.Column('incident_id', sa.String(length=64), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('linked', sa.Boolean(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_index('ix_police_incidents_case_no', 'police_incidents', ['case_no'])
    op.create_table('party_marks',
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_no', 'digest')
    )
    op.create_index('ix_party_marks_digest', 'party_marks', ['digest'])
    op.create_table('notices',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=True),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('ix_notices_case_no', 'notices', ['case_no'])
    op.create_index('ix_notices_recipient', 'notices', ['recipient'])
    op.create_index('ix_notices_sent_at', 'notices', ['sent_at'])


def downgrade() -> None:
    op.drop_table('notices')
    op.drop_table('party_marks')
    op.drop_table('police_incidents')
    op.drop_table('callback_receipts')
    with op.batch_alter_table('units') as units:
        units.drop_index('ix_units_province_code')
        units.drop_index('ix_units_kind')
        for column in ('province_code', 'signing_secret', 'channel', 'kind'):
            units.drop_column(column)
