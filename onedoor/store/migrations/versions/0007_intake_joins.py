"""intake joins: registrations that joined the open case about the same parties

A window, hotline or online registration about the parties of an open case may join that case
(重复来访) instead of opening one; its client request id is kept here so a retry answers the same.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_joins',
    sa.Column('client_request_id', sa.String(length=64), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_request_id')
    )
    op.create_index('ix_intake_joins_case_no', 'intake_joins', ['case_no'])


def downgrade() -> None:
    op.drop_index('ix_intake_joins_case_no', table_name='intake_joins')
    op.drop_table('intake_joins')
