"""sealed personal data: the parties, addresses, recipients and free text of the register, sealed

A stolen register showed the parties' names, ID numbers, phones and addresses. These columns are now
sealed with the payload keys (codec.FieldSealer, store/sealed.py); what the register searches by is
a keyed digest: notices.recipient_digest, and households.address_key, now keyed. Rows written before
are sealed here, with the keys `onedoor setup`, `up` or `migrate` pass (store.db.migrate).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Callable, Iterator
from functools import cache

import sqlalchemy as sa
from alembic import op

from codec import FieldSealer
from domain.household import address_key

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 1000


def keys() -> Callable[[], FieldSealer]:
    """The payload keys, asked for only when there is a row to seal: an empty register (a new
    deployment, a test's) migrates before any key exists. The `alembic` command line reads settings."""
    given = op.get_context().config.attributes.get("field_sealer")
    if given is None:
        from codec import field_sealer
        from settings import Settings

        def given():
            return field_sealer(Settings())
    return cache(given)


def rows(table: sa.TableClause, key: str, columns: list[str]) -> Iterator[list[sa.Row]]:
    """The table's rows in batches, in key order (keyset pages: the updates do not move them)."""
    connection, last = op.get_bind(), None
    while True:
        query = sa.select(table.c[key], *(table.c[name] for name in columns)).order_by(table.c[key]).limit(BATCH)
        batch = connection.execute(query if last is None else query.where(table.c[key] > last)).all()
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def rewrite(table: sa.TableClause, key: str, read: list[str], change: Callable[[sa.Row], dict]) -> None:
    """Each row's columns as `change` gives them from the columns read (none for a row it gives {})."""
    for batch in rows(table, key, read):
        values = [{'row_key': row[0], **{f'new_{name}': value for name, value in changed.items()}} for row in batch if (changed := change(row))]
        if values:
            written = [name.removeprefix('new_') for name in values[0] if name != 'row_key']
            statement = table.update().where(table.c[key] == sa.bindparam('row_key')).values({name: sa.bindparam(f'new_{name}') for name in written})
            op.get_bind().execute(statement, values)


def text_columns(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(column, sa.Text) for column in columns))


cases = text_columns('cases', 'case_no', 'summary', 'parties')
households = text_columns('households', 'id', 'township_code', 'village_code', 'address', 'address_key')
visits = sa.table('household_visits', sa.column('id', sa.Integer), sa.column('notes', sa.Text))
notices = text_columns('notices', 'key', 'recipient', 'recipient_digest', 'text')


def each(transform: Callable[[str], str], *columns: str) -> Callable[[sa.Row], dict]:
    """The columns read, each as `transform` gives it."""
    return lambda row: {name: transform(value) for name, value in zip(columns, row[1:])}


def upgrade() -> None:
    sealer = keys()
    op.drop_index('ix_notices_recipient', table_name='notices')
    with op.batch_alter_table('notices') as batch:
        batch.add_column(sa.Column('recipient_digest', sa.String(length=64), nullable=True))
        batch.alter_column('recipient', existing_type=sa.String(length=100), type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('parties', existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using='parties::text')


    def seal(text: str) -> str:
        return sealer().seal(text)

    rewrite(cases, 'case_no', ['summary', 'parties'], each(seal, 'summary', 'parties'))
    rewrite(visits, 'id', ['notes'], each(seal, 'notes'))
    rewrite(households, 'id', ['address', 'address_key'], lambda row: {'address': seal(row.address), 'address_key': sealer().digest(row.address_key)})
    rewrite(notices, 'key', ['recipient', 'text'],
            lambda row: {'recipient': seal(row.recipient), 'recipient_digest': sealer().digest(row.recipient), 'text': seal(row.text)})

    with op.batch_alter_table('notices') as batch:
        batch.alter_column('recipient_digest', existing_type=sa.String(length=64), nullable=False)
    op.create_index('ix_notices_recipient_digest', 'notices', ['recipient_digest'])
    # The clear values' old copies stay in the database's free pages (SQLite) or dead rows
    # (PostgreSQL) until they are rewritten: a stolen file would still show them.
    with op.get_context().autocommit_block():
        if op.get_bind().dialect.name == 'sqlite':
            op.execute('VACUUM')
            op.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        else:
            op.execute('VACUUM FULL cases, households, household_visits, notices')


def downgrade() -> None:
    sealer = keys()

    def open_(text: str) -> str:
        return sealer().open(text)

    rewrite(cases, 'case_no', ['summary', 'parties'], each(open_, 'summary', 'parties'))
    rewrite(visits, 'id', ['notes'], each(open_, 'notes'))
    rewrite(notices, 'key', ['recipient', 'text'], each(open_, 'recipient', 'text'))

    def household(row: sa.Row) -> dict:
        address = open_(row.address)
        return {'address': address, 'address_key': address_key(row.township_code, row.village_code, address)}

    rewrite(households, 'id', ['township_code', 'village_code', 'address'], household)

    op.drop_index('ix_notices_recipient_digest', table_name='notices')
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('parties', existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using='parties::json')
    with op.batch_alter_table('notices') as batch:
        batch.drop_column('recipient_digest')
        batch.alter_column('recipient', existing_type=sa.Text(), type_=sa.String(length=100), existing_nullable=False)
    op.create_index('ix_notices_recipient', 'notices', ['recipient'])
