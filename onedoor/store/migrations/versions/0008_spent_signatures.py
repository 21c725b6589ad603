"""spent signatures: every verified callback signature, whatever the answer

A signed callback refused by the case (409) released its idempotency key, and the byte-identical
copy replayed after the case moved landed. Its signature is now spent on first sight.

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('spent_signatures',
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'signature')
    )
    op.create_index('ix_spent_signatures_seen_at', 'spent_signatures', ['seen_at'])


def downgrade() -> None:
    op.drop_index('ix_spent_signatures_seen_at', table_name='spent_signatures')
    op.drop_table('spent_signatures')
