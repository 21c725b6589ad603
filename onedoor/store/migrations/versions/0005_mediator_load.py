"""mediator load: index cases by (mediator_id, settled_at)

Choosing a mediator counts each candidate's unsettled cases. Indexed by mediator alone, the count
read every case row the mediator ever had to test settled_at; with both columns in the index it is
a count over the index's range for that mediator's open cases.

Revision ID: 0005
Revises: 0004
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as cases:
        cases.drop_index('ix_cases_mediator_id')
        cases.create_index('ix_cases_mediator_open', ['mediator_id', 'settled_at'])


def downgrade() -> None:
    with op.batch_alter_table('cases') as cases:
        cases.drop_index('ix_cases_mediator_open')
        cases.create_index('ix_cases_mediator_id', ['mediator_id'])
