"""警情流转 in the register: the incidents the police platform transferred, and the party marks that
find the open case about the same people without the register holding their identity in clear."""

import asyncio
import hashlib
import hmac
import re
import unicodedata
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.case import Party
from domain.labels import Stage
from store.register import insert_ignoring_duplicates
from store.tables import Case, IntakeRequest, PartyMark, PoliceIncident

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


def open_case_about(session: Session, digests: list[str], since: datetime) -> str | None:
    """The newest case still open, received since then, that shares a mark with these."""
    if not digests:
        return None
    return session.scalar(
        select(Case.case_no)
        .join(PartyMark, PartyMark.case_no == Case.case_no)
        .where(PartyMark.digest.in_(digests), Case.stage.in_(OPEN_STAGES), Case.received_at >= since)
        .order_by(Case.received_at.desc(), Case.case_no.desc())
        .limit(1)
    )


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


# SQLite (the embedded stack) has one API process: an in-process lock serialises its intakes.
ONE_PROCESS = asyncio.Lock()


@asynccontextmanager
async def parties_serialised(make_session: sessionmaker[Session], digests: list[str]) -> AsyncIterator[Session]:
    """A session in which no other incident about any of these parties is being settled, so two
    different incidents about the same new parties arriving at once make one case, not two: the
    second finds the first's case (its marks, and its workflow, which the caller starts inside).

    On PostgreSQL: session-level advisory locks, one per mark in a fixed order (no deadlock between
    overlapping sets), held by the one connection the session also works on, across its commits.
    A wait is bounded by the connection's lock_timeout (then 503: send again)."""
    engine: Engine = make_session.kw["bind"]
    if engine.dialect.name != "postgresql":
        async with ONE_PROCESS:
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
