"""ui sessions: supervisors sign in to the Temporal UI served by the API

The browser's cookie holds a random session id (the register keeps its SHA-256), never the API key;
sessions expire after a working day and end at sign-out, on every API replica at once.

Revision ID: 0011
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ui_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_index('ix_ui_sessions_user_id', 'ui_sessions', ['user_id'])
    op.create_index('ix_ui_sessions_expires_at', 'ui_sessions', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_ui_sessions_expires_at', table_name='ui_sessions')
    op.drop_index('ix_ui_sessions_user_id', table_name='ui_sessions')
    op.drop_table('ui_sessions')
