"""Writes to the case register. Every write is keyed so that a retried activity is a no-op."""

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.case import CaseFile, Intake
from domain.case_number import case_number
from store.tables import Case, CaseEvent, CaseSequence, IntakeRequest, SupervisionOrder


def insert_ignoring_duplicates(session: Session, table, values: dict, keys: list[str]) -> bool:
    """INSERT .. ON CONFLICT DO NOTHING on either dialect; True when a row was written."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    # RETURNING, not rowcount: psycopg does not report a row count for this statement.
    return session.execute(statement.returning(*(getattr(table, key) for key in keys))).first() is not None


def intake_digest(intake: Intake) -> str:
    return hashlib.sha256(intake.model_dump_json().encode()).hexdigest()


class RequestReused(Exception):
    """The client request id was used before for a different registration."""


def claim_case_number(session: Session, client_request_id: str, intake: Intake, county_code: str, now: datetime) -> tuple[str, datetime, bool]:
    """The case number for this request, new or the one it got before: (number, received_at, is_new)."""
    digest = intake_digest(intake)
    for _ in range(3):
        known = session.get(IntakeRequest, client_request_id)
        if known is not None:
            if known.digest != digest:
                raise RequestReused(known.case_no)
            return known.case_no, known.created_at, False
        try:
            insert_ignoring_duplicates(session, CaseSequence, {"county_code": county_code, "year": now.year, "last": 0}, ["county_code", "year"])
            # The row lock this UPDATE takes serialises concurrent intakes; a rollback returns the number.
            sequence = session.execute(
                update(CaseSequence)
                .where(CaseSequence.county_code == county_code, CaseSequence.year == now.year)
                .values(last=CaseSequence.last + 1)
                .returning(CaseSequence.last)
            ).scalar_one()
            number = case_number(county_code, now.year, sequence)
            session.add(IntakeRequest(client_request_id=client_request_id, case_no=number, digest=digest, created_at=now))
            session.commit()
            return number, now, True
        except IntegrityError:
            session.rollback()  # the same request id won a race in another transaction: read its number
    raise RuntimeError("could not claim a case number")


def record_intake(session: Session, case: CaseFile, note: str) -> None:
    intake = case.intake
    written = insert_ignoring_duplicates(
        session,
        Case,
        dict(
            case_no=case.case_no,
            source=intake.source,
            category=intake.category,
            township_code=intake.place.township_code,
            village_code=intake.place.village_code,
            summary=intake.summary,
            parties=[p.model_dump(mode="json") for p in intake.parties],
            stage="received",
            received_at=case.received_at,
            overdue=False,
            escalation_count=0,
        ),
        ["case_no"],
    )
    if written:
        session.add(CaseEvent(case_no=case.case_no, key="received", kind="received", at=case.received_at, note=note))
    session.commit()


def record_step(session: Session, case_no: str, key: str, kind: str, at: datetime, note: str, columns: dict) -> None:
    """One step of the case: its timeline row, and the case row's columns as of that step."""
    if insert_ignoring_duplicates(session, CaseEvent, dict(case_no=case_no, key=key, kind=kind, at=at, note=note), ["case_no", "key"]):
        session.execute(update(Case).where(Case.case_no == case_no).values(**columns))
    session.commit()


def record_supervision_order(session: Session, order: dict) -> None:
    """A breach: its 督办 order, and one more escalation on the case (only the first time)."""
    if insert_ignoring_duplicates(session, SupervisionOrder, order, ["case_no", "clock", "unit_code"]):
        session.add(CaseEvent(case_no=order["case_no"], key=f"breach:{order['clock']}:{order['unit_code']}", kind="breach", at=order["issued_at"], note=order["text"]))
        session.execute(
            update(Case).where(Case.case_no == order["case_no"]).values(escalation_count=Case.escalation_count + 1, overdue=True)
        )
    session.commit()


def timeline(session: Session, case_no: str) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_no == case_no).order_by(CaseEvent.at, CaseEvent.id)))
