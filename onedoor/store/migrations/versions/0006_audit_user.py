"""audit user: bind every audit entry to the signed-in user (id, role, jurisdiction)

The entry's actor is the name given with a decision, which anyone could type; the user is the one
whose key made the call. Entries written before this have no user.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as audit:
        audit.add_column(sa.Column('user_id', sa.String(length=32), nullable=True))
        audit.add_column(sa.Column('user_role', sa.String(length=16), nullable=True))
        audit.add_column(sa.Column('user_jurisdiction', sa.String(length=32), nullable=True))
        audit.create_index('ix_audit_log_user_id', ['user_id'])


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as audit:
        audit.drop_index('ix_audit_log_user_id')
        audit.drop_column('user_jurisdiction')
        audit.drop_column('user_role')
        audit.drop_column('user_id')
