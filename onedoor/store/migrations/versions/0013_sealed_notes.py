"""sealed notes: the timeline's words, the supervision orders and the names people gave, sealed

0009 left the register's free text of each step in clear: case_events.note (mediation terms, session
notes, feedback summaries, reasons, visit notes), supervision_orders.text, and the names a person
gave (audit_log.actor, household_visits.visitor). They are sealed now, with the same keys and the
same helpers (store/reseal.py). The audit's before/after stay clear: they hold the case's coded
fields only (stage, grade, level, units, result, flags).

The court's scope searched the note for the words of its confirmation_applied step; it reads
case_events.body_code now, filled here from those words (domain.decisions.applied_to, as it wrote
them) before the notes are sealed.

Revision ID: 0013
Revises: 0012
"""

import re

import sqlalchemy as sa
from alembic import op

from onedoor.store.reseal import audit_rewritable, each, forget_clear_copies, migration_keys, numbered_rows, rewrite

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


events = numbered_rows('case_events', 'kind', 'note', 'body_code')
orders = numbered_rows('supervision_orders', 'text')
audit = numbered_rows('audit_log', 'actor')
visits = numbered_rows('household_visits', 'visitor')
APPLIED_TO = re.compile(r"已向 (\S+) 申请司法确认")  # applied_to()'s words as every step before this revision has them
NAMES = (('audit_log', 'actor'), ('household_visits', 'visitor'))  # were String(64); a sealed value is longer


def upgrade() -> None:
    keys = migration_keys()
    op.add_column('case_events', sa.Column('body_code', sa.String(length=32), nullable=True))
    op.create_index('ix_case_events_body_code', 'case_events', ['body_code'])

    def seal(text: str) -> str:
        return keys().seal(text)

    with audit_rewritable(op.get_bind()):
        for table, column in NAMES:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=False)
        rewrite(op.get_bind(), audit, 'id', ['actor'], each(seal, 'actor'))

    def event(row: sa.Row) -> dict:
        court = APPLIED_TO.search(row.note) if row.kind == 'confirmation_applied' else None
        return {'note': seal(row.note), 'body_code': court and court.group(1)}

    rewrite(op.get_bind(), events, 'id', ['kind', 'note'], event)
    rewrite(op.get_bind(), orders, 'id', ['text'], each(seal, 'text'))
    rewrite(op.get_bind(), visits, 'id', ['visitor'], each(seal, 'visitor'))
    forget_clear_copies('case_events', 'supervision_orders', 'audit_log', 'household_visits')


def downgrade() -> None:
    keys = migration_keys()

    def open_(text: str) -> str:
        return keys().open(text)

    rewrite(op.get_bind(), events, 'id', ['note'], each(open_, 'note'))
    rewrite(op.get_bind(), orders, 'id', ['text'], each(open_, 'text'))
    rewrite(op.get_bind(), visits, 'id', ['visitor'], each(open_, 'visitor'))
    with audit_rewritable(op.get_bind()):
        rewrite(op.get_bind(), audit, 'id', ['actor'], each(open_, 'actor'))
        for table, column in NAMES:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=False)
    op.drop_index('ix_case_events_body_code', table_name='case_events')
    with op.batch_alter_table('case_events') as batch:
        batch.drop_column('body_code')
