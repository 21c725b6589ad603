"""register: directory, mediators, cases, clocks, timeline, supervision orders

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_sequences',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'year')
    )
    op.create_table('cases',
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('township_code', sa.String(length=32), nullable=False),
    sa.Column('village_code', sa.String(length=32), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('parties', sa.JSON(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=True),
    sa.Column('lead_unit', sa.String(length=32), nullable=True),
    sa.Column('mediator_id', sa.String(length=32), nullable=True),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('triaged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('escalation_count', sa.Integer(), nullable=False),
    sa.Column('last_step', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('case_no')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_grade'), ['grade'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_lead_unit'), ['lead_unit'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_mediator_id'), ['mediator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_next_deadline'), ['next_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_township_code'), ['township_code'], unique=False)

    op.create_table('intake_requests',
    sa.Column('client_request_id', sa.String(length=64), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_request_id'),
    sa.UniqueConstraint('case_no')
    )
    op.create_table('jurisdictions',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('has_center', sa.Boolean(), nullable=False),
    sa.Column('leaders', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['jurisdictions.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('case_clocks',
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('basis', sa.String(length=8), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('remaining_seconds', sa.Integer(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_no'], ['cases.case_no'], ),
    sa.PrimaryKeyConstraint('case_no', 'clock_id')
    )
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_clocks_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_clocks_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_clocks_unit_code'), ['unit_code'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_no'], ['cases.case_no'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_no', 'key')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_case_at', ['case_no', 'at'], unique=False)

    op.create_table('mediators',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('gold', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mediators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediators_jurisdiction_code'), ['jurisdiction_code'], unique=False)

    op.create_table('supervision_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=True),
    sa.Column('from_level', sa.String(length=16), nullable=False),
    sa.Column('to_level', sa.String(length=16), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_no'], ['cases.case_no'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_no', 'clock_id')
    )
    with op.batch_alter_table('supervision_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_orders_case_no'), ['case_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_orders_unit_code'), ['unit_code'], unique=False)

    op.create_table('units',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('endpoint_url', sa.String(length=500), nullable=True),
    sa.Column('backstop', sa.String(length=16), nullable=True),
    sa.Column('rota_days', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_backstop'), ['backstop'], unique=False)

    op.create_table('duty_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('lead', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'], ),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jurisdiction_code', 'category', 'unit_code')
    )
    with op.batch_alter_table('duty_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_list_jurisdiction_code'), ['jurisdiction_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('duty_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_list_jurisdiction_code'))

    op.drop_table('duty_list')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_backstop'))

    op.drop_table('units')
    with op.batch_alter_table('supervision_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_orders_unit_code'))
        batch_op.drop_index(batch_op.f('ix_supervision_orders_case_no'))

    op.drop_table('supervision_orders')
    with op.batch_alter_table('mediators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediators_jurisdiction_code'))

    op.drop_table('mediators')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_case_at')

    op.drop_table('case_events')
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_clocks_unit_code'))
        batch_op.drop_index(batch_op.f('ix_case_clocks_status'))
        batch_op.drop_index(batch_op.f('ix_case_clocks_due_at'))

    op.drop_table('case_clocks')
    op.drop_table('jurisdictions')
    op.drop_table('intake_requests')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_township_code'))
        batch_op.drop_index(batch_op.f('ix_cases_stage'))
        batch_op.drop_index(batch_op.f('ix_cases_next_deadline'))
        batch_op.drop_index(batch_op.f('ix_cases_mediator_id'))
        batch_op.drop_index(batch_op.f('ix_cases_lead_unit'))
        batch_op.drop_index(batch_op.f('ix_cases_jurisdiction_code'))
        batch_op.drop_index(batch_op.f('ix_cases_grade'))
        batch_op.drop_index(batch_op.f('ix_cases_category'))

    op.drop_table('cases')
    op.drop_table('case_sequences')
