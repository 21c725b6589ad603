"""Sealed values written again: under the current key after a rotation (`onedoor reseal`), and the
clear rows of an older register sealed for the first time (migration 0009)."""

from collections.abc import Callable

from sqlalchemy import Connection, Row, TableClause, bindparam, select
from sqlalchemy.orm import Session

from domain.household import address_key
from store.sealed import Keys, SealedText
from store.tables import Base, Household, Notice

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


def reseal(session: Session) -> int:
    """Every sealed value of the register sealed again under the current key, and the digests beside
    them made under it; the rows rewritten. Safe beside a running stack: a sealed value is written
    once (at intake, with a notice, a visit, a household's opening) and never changed, so rewriting
    it loses no one's update."""
    sealer = Keys.get()
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

        rewritten += rewrite(session, table, key.name, read, change)
        session.commit()
    return rewritten
