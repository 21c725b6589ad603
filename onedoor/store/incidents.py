"""警情流转 in the register: the incidents the police platform transferred, and the party marks that
find the open case about the same people without the register holding their identity in clear."""

import asyncio
import hashlib
import hmac
import re
import unicodedata
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, Row, func, select
from sqlalchemy.orm import Session, sessionmaker

from onedoor.domain.case import Party
from onedoor.domain.labels import Stage
from onedoor.store.register import insert_ignoring_duplicates
from onedoor.store.tables import Case, IntakeRequest, Jurisdiction, PartyMark, PoliceIncident

OPEN_STAGES = [stage.value for stage in Stage if stage.is_open]


def normalised_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if len(digits) == 13 and digits.startswith("861") else digits  # +86 138… is 138…


def party_digests(parties: Iterable[Party], key: bytes) -> list[str]:
    """Keyed digests (HMAC-SHA256) of who the parties are: one of the ID number when given, one of
    name and phone when given; both when both are, so a party the police name by phone alone is
    still found. A party with neither (a company named only) leaves no mark."""
    marks = set()
    for party in parties:
        identities = []
        if party.id_number:
            identities.append("id:" + party.id_number.upper())
        if party.phone:
            name = "".join(unicodedata.normalize("NFKC", party.name).split())
            identities.append(f"np:{name}:{normalised_phone(party.phone)}")
        marks.update(hmac.new(key, identity.encode(), hashlib.sha256).hexdigest() for identity in identities)
    return sorted(marks)


def open_cases_about(session: Session, digests: list[str], since: datetime | None = None) -> list[Row]:
    """The cases still open (received since then, when given) that share a mark with these, newest
    first: case_no, category, township_code, township_name, received_at."""
    if not digests:
        return []
    about = select(PartyMark.case_no).where(PartyMark.digest.in_(digests))
    query = (
        select(Case.case_no, Case.category, Case.township_code, Jurisdiction.name.label("township_name"), Case.received_at)
        .outerjoin(Jurisdiction, Jurisdiction.code == Case.township_code)
        .where(Case.case_no.in_(about), Case.stage.in_(OPEN_STAGES))
        .order_by(Case.received_at.desc(), Case.case_no.desc())
    )
    if since is not None:
        query = query.where(Case.received_at >= since)
    return list(session.execute(query))


def open_case_about(session: Session, digests: list[str], since: datetime) -> str | None:
    """The newest case still open, received since then, that shares a mark with these."""
    cases = open_cases_about(session, digests, since)
    return cases[0].case_no if cases else None


def known(session: Session, incident_id: str) -> PoliceIncident | None:
    return session.get(PoliceIncident, incident_id)


POLICE_REQUEST_PREFIX = "police-"  # operators may not choose request ids like these


def request_id(incident_id: str) -> str:
    """The incident's intake request id: the same incident always claims the same case number."""
    return f"{POLICE_REQUEST_PREFIX}{incident_id}"


def claimed(session: Session, incident_id: str) -> bool:
    """The incident opened a case already, even if a crash kept its row from being recorded."""
    return session.get(IntakeRequest, request_id(incident_id)) is not None


def record(session: Session, incident_id: str, case_no: str, linked: bool, reported_at: datetime) -> None:
    """The incident and the case it opened or joined, once: a repeat keeps the first answer."""
    insert_ignoring_duplicates(session, PoliceIncident, dict(incident_id=incident_id, case_no=case_no, linked=linked, reported_at=reported_at), ["incident_id"])
    session.commit()


# SQLite (the embedded stack) has one API process: in-process locks, one per mark while anyone
# holds or awaits it, serialise its intakes about the same parties (and only those: every
# registration takes them, and one lock for all would queue the county's intake behind each start).
MARKS_HERE: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


@asynccontextmanager
async def parties_serialised(make_session: sessionmaker[Session], digests: list[str]) -> AsyncIterator[Session]:
    """A session in which no other intake about any of these parties (an incident, an operator's
    registration) is being settled, so two of them about the same new parties arriving at once do
    not both miss the other: the second finds the first's case (its marks, and its workflow, which
    the caller starts inside) — to join it, or to show it to the operator.

    Each mark's lock is taken in a fixed order (no deadlock between overlapping sets). On
    PostgreSQL: session-level advisory locks held by the one connection the session also works on,
    across its commits; a wait is bounded by the connection's lock_timeout (then 503: send again)."""
    engine: Engine = make_session.kw["bind"]
    if engine.dialect.name != "postgresql":
        locks = [MARKS_HERE.setdefault(digest, asyncio.Lock()) for digest in sorted(digests)]  # kept while held or awaited
        async with AsyncExitStack() as held:
            for held_here in locks:
                await held.enter_async_context(held_here)
            with make_session() as session:
                yield session
        return
    connection = await asyncio.to_thread(lock, engine, digests)
    try:
        with Session(bind=connection, expire_on_commit=False) as session:
            yield session
    finally:
        await asyncio.to_thread(unlock, connection)


def lock(engine: Engine, digests: list[str]) -> Connection:
    connection = engine.connect()
    try:
        for digest in sorted(digests):
            connection.execute(select(func.pg_advisory_lock(int(digest[:15], 16))))  # 60 bits of the mark: a bigint
        connection.commit()  # the locks outlive the transaction; the session's own transactions follow
    except BaseException:
        drop(connection)
        raise
    return connection


def unlock(connection: Connection) -> None:
    try:
        connection.rollback()
        connection.execute(select(func.pg_advisory_unlock_all()))
        connection.commit()
    except BaseException:
        drop(connection)
        raise
    connection.close()


def drop(connection: Connection) -> None:
    """Close the database session itself, not just return it to the pool: its locks end with it."""
    connection.invalidate()
    connection.close()
