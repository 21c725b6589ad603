"""lookup digests: a citizen looks up their case by its number and their phone's last four digits

A keyed digest of (case number, last four digits) per party phone, written at registration: the
check needs neither the phone in clear nor the parties' row (which may be sealed at rest).
Cases registered before this revision have none and cannot be looked up.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lookup_digests',
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('case_no', 'digest')
    )


def downgrade() -> None:
    op.drop_table('lookup_digests')
