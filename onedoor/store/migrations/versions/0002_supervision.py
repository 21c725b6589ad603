"""supervision: audit log, households, grid workers, weekly reports, visit verdict

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('households',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('address_key', sa.String(length=64), nullable=False),
    sa.Column('township_code', sa.String(length=32), nullable=False),
    sa.Column('village_code', sa.String(length=32), nullable=True),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('risk', sa.String(length=8), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('grid_worker_id', sa.String(length=32), nullable=True),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_visit_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('address_key')
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_risk'), ['risk'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_township_code'), ['township_code'], unique=False)

    op.create_table('weekly_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_code', sa.String(length=32), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('charts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope_code', 'week_start')
    )
    with op.batch_alter_table('weekly_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_reports_scope_code'), ['scope_code'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_no'], ['cases.case_no'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_no', 'key')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_case_no'), ['case_no'], unique=False)

    op.create_table('grid_workers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_workers_jurisdiction_code'), ['jurisdiction_code'], unique=False)

    op.create_table('household_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('risk', sa.String(length=8), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('household_id', 'seq')
    )
    with op.batch_alter_table('household_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_visits_household_id'), ['household_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfied', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('household_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_household_id'), ['household_id'], unique=False)

    # The audit log is append-only: the database itself refuses to change or delete an entry.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""")
        op.execute("""CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for change in ('UPDATE', 'DELETE'):
            op.execute(f"""CREATE TRIGGER audit_log_no_{change.lower()} BEFORE {change} ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_log_append_only ON audit_log')
        op.execute('DROP FUNCTION audit_log_append_only()')
    else:
        op.execute('DROP TRIGGER audit_log_no_update')
        op.execute('DROP TRIGGER audit_log_no_delete')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_household_id'))
        batch_op.drop_column('household_id')
        batch_op.drop_column('satisfied')

    with op.batch_alter_table('household_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_visits_household_id'))

    op.drop_table('household_visits')
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_workers_jurisdiction_code'))

    op.drop_table('grid_workers')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_case_no'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    with op.batch_alter_table('weekly_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_reports_scope_code'))

    op.drop_table('weekly_reports')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_township_code'))
        batch_op.drop_index(batch_op.f('ix_households_status'))
        batch_op.drop_index(batch_op.f('ix_households_risk'))

    op.drop_table('households')
