"""center calendars: a center's (or the county's) office hours and the days it declares

One row a scope (a jurisdiction's code: the county for all its centers, a center for its own):
office hours by weekday, holidays and closures, make-up and extra workdays, and the years whose
State Council notice it holds in full. A case's calendar is built from them at intake.
A clock's basis may now be working_days (case_clocks.basis widened).

Revision ID: 0010
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('center_calendars',
    sa.Column('scope_code', sa.String(length=32), nullable=False),
    sa.Column('entries', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['scope_code'], ['jurisdictions.code']),
    sa.PrimaryKeyConstraint('scope_code')
    )
    with op.batch_alter_table('case_clocks') as batch:
        batch.alter_column('basis', existing_type=sa.String(length=8), type_=sa.String(length=16), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('case_clocks') as batch:
        batch.alter_column('basis', existing_type=sa.String(length=16), type_=sa.String(length=8), existing_nullable=False)
    op.drop_table('center_calendars')
