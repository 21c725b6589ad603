"""sealed personal data: the parties, addresses, recipients and free text of the register, sealed

A stolen register showed the parties' names, ID numbers, phones and addresses. The columns that
hold them (cases.parties, .summary; households.address; household_visits.notes; notices.recipient,
.text; weekly_reports.figures, which lists repeat households' addresses) are now sealed with the
payload keys (codec.FieldSealer, store/sealed.py); what the register searches by is a keyed digest:
notices.recipient_digest, and households.address_key, now keyed. Rows written before are sealed
here, with the keys `onedoor setup`, `up` or `migrate` pass (store.db.migrate).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from onedoor.domain.household import address_key
from onedoor.store.reseal import each, forget_clear_copies, migration_keys as keys, numbered_rows, rewrite, text_columns

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


cases = text_columns('cases', 'case_no', 'summary', 'parties')
households = text_columns('households', 'id', 'township_code', 'village_code', 'address', 'address_key')
visits = numbered_rows('household_visits', 'notes')
notices = text_columns('notices', 'key', 'recipient', 'recipient_digest', 'text')
reports = numbered_rows('weekly_reports', 'figures')


def upgrade() -> None:
    sealer = keys()
    op.drop_index('ix_notices_recipient', table_name='notices')
    with op.batch_alter_table('notices') as batch:
        batch.add_column(sa.Column('recipient_digest', sa.String(length=64), nullable=True))
        batch.alter_column('recipient', existing_type=sa.String(length=100), type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('parties', existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using='parties::text')
    with op.batch_alter_table('weekly_reports') as batch:
        batch.alter_column('figures', existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using='figures::text')


    def seal(text: str) -> str:
        return sealer().seal(text)

    rewrite(op.get_bind(), cases, 'case_no', ['summary', 'parties'], each(seal, 'summary', 'parties'))
    rewrite(op.get_bind(), visits, 'id', ['notes'], each(seal, 'notes'))
    rewrite(op.get_bind(), reports, 'id', ['figures'], each(seal, 'figures'))
    rewrite(op.get_bind(), households, 'id', ['address', 'address_key'], lambda row: {'address': seal(row.address), 'address_key': sealer().digest(row.address_key)})
    rewrite(op.get_bind(), notices, 'key', ['recipient', 'text'],
            lambda row: {'recipient': seal(row.recipient), 'recipient_digest': sealer().digest(row.recipient), 'text': seal(row.text)})

    with op.batch_alter_table('notices') as batch:
        batch.alter_column('recipient_digest', existing_type=sa.String(length=64), nullable=False)
    op.create_index('ix_notices_recipient_digest', 'notices', ['recipient_digest'])
    forget_clear_copies('cases', 'households', 'household_visits', 'notices', 'weekly_reports')


def downgrade() -> None:
    sealer = keys()

    def open_(text: str) -> str:
        return sealer().open(text)

    rewrite(op.get_bind(), cases, 'case_no', ['summary', 'parties'], each(open_, 'summary', 'parties'))
    rewrite(op.get_bind(), visits, 'id', ['notes'], each(open_, 'notes'))
    rewrite(op.get_bind(), reports, 'id', ['figures'], each(open_, 'figures'))
    rewrite(op.get_bind(), notices, 'key', ['recipient', 'text'], each(open_, 'recipient', 'text'))

    def household(row: sa.Row) -> dict:
        address = open_(row.address)
        return {'address': address, 'address_key': address_key(row.township_code, row.village_code, address)}

    rewrite(op.get_bind(), households, 'id', ['township_code', 'village_code', 'address'], household)

    op.drop_index('ix_notices_recipient_digest', table_name='notices')
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('parties', existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using='parties::json')
    with op.batch_alter_table('weekly_reports') as batch:
        batch.alter_column('figures', existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using='figures::json')
    with op.batch_alter_table('notices') as batch:
        batch.drop_column('recipient_digest')
        batch.alter_column('recipient', existing_type=sa.Text(), type_=sa.String(length=100), existing_nullable=False)
    op.create_index('ix_notices_recipient', 'notices', ['recipient'])
