"""Sealed values written again: under the current key after a rotation (`onedoor reseal`), and the
clear rows of an older register sealed for the first time (migrations 0009 and 0013, with the helpers
below)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import cache

from alembic import op
import sqlalchemy as sa
from sqlalchemy import Connection, Row, TableClause, bindparam, select, text
from sqlalchemy.orm import Session

from onedoor.codec import FieldSealer, field_sealer
from onedoor.domain.household import address_key
from onedoor.store.sealed import SealedText, sealer_of
from onedoor.store.tables import AuditEntry, Base, Household, Notice

BATCH = 1000


def rewrite(connection: Connection | Session, table: TableClause, key: str, read: list[str], change: Callable[[Row], dict]) -> int:
    """Each row's columns as `change` gives them from the key and the columns read (none for a row it
    gives {}), a batch at a time in key order (keyset pages: the updates do not move them); the rows rewritten."""
    last, count = None, 0
    while True:
        query = select(table.c[key], *(table.c[name] for name in read)).order_by(table.c[key]).limit(BATCH)
        batch = connection.execute(query if last is None else query.where(table.c[key] > last)).all()
        if not batch:
            return count
        values = [{"row_key": row[0], **{f"new_{name}": value for name, value in changed.items()}} for row in batch if (changed := change(row))]
        if values:
            written = [name.removeprefix("new_") for name in values[0] if name != "row_key"]
            statement = table.update().where(table.c[key] == bindparam("row_key")).values({name: bindparam(f"new_{name}") for name in written})
            connection.execute(statement, values)
        last, count = batch[-1][0], count + len(values)


@contextmanager
def audit_rewritable(connection: Connection | Session) -> Iterator[None]:
    """The audit log's append-only guard (migration 0002's triggers) lifted while its names are sealed
    (again): the one rewrite it allows, which changes no value, only the key sealing it. On SQLite the
    triggers are made again afterwards, so a migration's table rebuild (which drops them) may run inside."""
    if (connection.get_bind() if isinstance(connection, Session) else connection).dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        yield
        connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        return
    for change in ("update", "delete"):
        connection.execute(text(f"DROP TRIGGER IF EXISTS audit_log_no_{change}"))
    yield
    for change in ("UPDATE", "DELETE"):
        connection.execute(text(f"CREATE TRIGGER audit_log_no_{change.lower()} BEFORE {change} ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"))


def migration_keys() -> Callable[[], FieldSealer]:
    """The payload keys of a migration, asked for only when there is a row to seal: an empty register
    (a new deployment, a test's) migrates before any key exists."""
    return cache(op.get_context().config.attributes.get("field_sealer") or keys_of_settings)


def keys_of_settings() -> FieldSealer:
    """The `alembic` command line's: the keys settings give, as env.py reads the URL from them."""
    from onedoor.settings import Settings

    return field_sealer(Settings())


def text_columns(name: str, *columns: str) -> TableClause:
    return sa.table(name, *(sa.column(column, sa.Text) for column in columns))


def numbered_rows(name: str, *columns: str) -> TableClause:
    """A table keyed by an integer id, with these text columns."""
    return sa.table(name, sa.column("id", sa.Integer), *(sa.column(column, sa.Text) for column in columns))


def each(transform: Callable[[str], str], *columns: str) -> Callable[[Row], dict]:
    """The columns read, each as `transform` gives it."""
    return lambda row: {name: transform(value) for name, value in zip(columns, row[1:])}


def forget_clear_copies(*tables: str) -> None:
    """After a migration sealed these tables: the clear values' old copies stay in the database's free
    pages (SQLite) or dead rows (PostgreSQL) until they are rewritten, and a stolen file would still show them."""
    with op.get_context().autocommit_block():
        if op.get_bind().dialect.name == 'sqlite':
            op.execute('VACUUM')
            op.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        else:
            op.execute(f'VACUUM FULL {", ".join(tables)}')


def reseal(session: Session) -> int:
    """Every sealed value of the register sealed again under the current key, and the digests beside
    them made under it; the rows rewritten. Safe beside a running stack: a sealed value is written
    once (at intake, with a step, a notice, a visit, a household's opening) and never changed, so rewriting
    it loses no one's update."""
    sealer = sealer_of(session)
    digests: dict[str, tuple[list[str], Callable[[Row], dict]]] = {  # the columns a digest is made from, and how
        Notice.__tablename__: (["recipient"], lambda row: {"recipient_digest": sealer.digest(row.recipient)}),
        Household.__tablename__: (["township_code", "village_code", "address"],
                                  lambda row: {"address_key": sealer.digest(address_key(row.township_code, row.village_code, row.address))}),
    }
    rewritten = 0
    for table in Base.metadata.sorted_tables:
        sealed = [column.name for column in table.columns if isinstance(column.type, SealedText)]
        if not sealed:
            continue
        [key] = table.primary_key.columns
        sources, digest = digests.get(table.name, ([], lambda row: {}))
        read = list(dict.fromkeys([*sealed, *sources]))

        def change(row: Row) -> dict:
            return {name: getattr(row, name) for name in sealed} | digest(row)

        with audit_rewritable(session) if table.name == AuditEntry.__tablename__ else nullcontext():
            rewritten += rewrite(session, table, key.name, read, change)
        session.commit()
    return rewritten
