"""Writes to the case register. Every write is keyed so that a retried activity is a no-op."""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onedoor.domain.case import CaseFile, Intake
from onedoor.domain.case_number import case_number
from onedoor.domain.decisions import SignedIn
from onedoor.domain.labels import Stage
from onedoor.domain.messages import ClockNotice, StepRecord
from onedoor.domain.state import Clock
from onedoor.store.tables import AuditEntry, Case, CaseClock, CaseEvent, CaseSequence, IntakeJoin, IntakeRequest, PartyMark, SupervisionOrder

# The case row's timestamp column for each step that has one.
STEP_COLUMNS = {
    "received": "received_at",
    "triaged": "triaged_at",
    "dispatched": "dispatched_at",
    "handling": "responded_at",
    "fed_back": "feedback_at",
    "closed": "closed_at",
    "settled": "settled_at",
}


# The register's writes are Core statements built once and given their values as parameters:
# SQLAlchemy then compiles each once per set of columns. Built afresh per call, or through the ORM's
# bulk paths, a case's step cost 10 ms on SQLite, most of it compiling SQL while the process's one
# SQLite connection waited (bench/NOTES.md).
DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}
cases, requests, sequences = Case.__table__, IntakeRequest.__table__, CaseSequence.__table__


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def insert_ignoring(dialect: str, table: Table, keys: tuple[str, ...]):
    # RETURNING, not rowcount: psycopg does not report a row count for this statement.
    return DIALECTS[dialect].insert(table).on_conflict_do_nothing(index_elements=keys).returning(*(table.c[key] for key in keys))


def insert_ignoring_duplicates(session: Session, model, values: dict, keys: list[str]) -> bool:
    """INSERT .. ON CONFLICT DO NOTHING on either dialect; True when a row was written."""
    statement = insert_ignoring(dialect_of(session), model.__table__, tuple(keys))
    return session.execute(statement, values).first() is not None


def intake_digest(intake: Intake) -> str:
    # Fields left at their defaults are not hashed: a field added later does not make a retried
    # request look like a different registration.
    return hashlib.sha256(intake.model_dump_json(exclude_defaults=True).encode()).hexdigest()


class RequestReused(Exception):
    """The client request id was used before for a different registration."""


def claimed_before(session: Session, client_request_id: str, digest: str) -> tuple[str, datetime] | None:
    """The case number this request id claimed and when, if it did (RequestReused if with other content)."""
    known = session.execute(select(requests.c.case_no, requests.c.digest, requests.c.created_at).where(requests.c.client_request_id == client_request_id)).first()
    if known is None:
        return None
    if known.digest != digest:
        raise RequestReused(known.case_no)
    return known.case_no, known.created_at


class Answered(NamedTuple):
    case_no: str
    received_at: datetime
    joined: bool


def answered_before(session: Session, client_request_id: str, intake: Intake, join_case: str | None) -> Answered | None:
    """What an operator's registration got before under this request id: the case it opened, or
    the open case it joined (重复来访), with that case's time of receipt; None when it is new.
    RequestReused when the id came with other content, or asked to join where it opened or joined another."""
    digest = intake_digest(intake)
    claimed = claimed_before(session, client_request_id, digest)
    if claimed is not None:
        if join_case is not None:
            raise RequestReused(claimed[0])
        return Answered(*claimed, joined=False)
    joined = session.execute(
        select(IntakeJoin.case_no, IntakeJoin.digest, Case.received_at).join(Case, Case.case_no == IntakeJoin.case_no)
        .where(IntakeJoin.client_request_id == client_request_id)
    ).first()
    if joined is None:
        return None
    if joined.digest != digest or joined.case_no != join_case:
        raise RequestReused(joined.case_no)
    return Answered(joined.case_no, joined.received_at, joined=True)


def record_join(session: Session, client_request_id: str, intake: Intake, case_no: str, at: datetime) -> None:
    """The registration that joined this open case, once: a retry of it answers with the case again."""
    values = dict(client_request_id=client_request_id, case_no=case_no, digest=intake_digest(intake), joined_at=at)
    insert_ignoring_duplicates(session, IntakeJoin, values, ["client_request_id"])
    session.commit()


next_number = (
    update(sequences).where(sequences.c.county_code == bindparam("county"), sequences.c.year == bindparam("year_"))
    .values(last=sequences.c.last + 1).returning(sequences.c.last)
)


def claim_case_number(session: Session, client_request_id: str, intake: Intake, county_code: str, now: datetime) -> tuple[str, datetime, bool]:
    """The case number for this request, new or the one it got before: (number, received_at, is_new).
    A new claim is written, not committed: the caller commits it with the case row (record_intake)."""
    digest = intake_digest(intake)
    for _ in range(3):
        known = claimed_before(session, client_request_id, digest)
        if known is not None:
            return *known, False
        try:
            insert_ignoring_duplicates(session, CaseSequence, {"county_code": county_code, "year": now.year, "last": 0}, ["county_code", "year"])
            # The row lock this UPDATE takes serialises concurrent intakes; a rollback returns the number.
            sequence = session.execute(next_number, {"county": county_code, "year_": now.year}).scalar_one()
            number = case_number(county_code, now.year, sequence)
            # Committed with the case row (record_intake): one write transaction per intake.
            session.execute(insert(requests), dict(client_request_id=client_request_id, case_no=number, digest=digest, created_at=now))
            return number, now, True
        except IntegrityError:
            session.rollback()  # the same request id won a race in another transaction: read its number
    raise RuntimeError("could not claim a case number")


def is_settled(session: Session, case_no: str) -> bool:
    """案结事了: the case's workflow has ended for good."""
    return session.scalar(select(cases.c.settled_at).where(cases.c.case_no == case_no)) is not None


def record_intake(session: Session, case: CaseFile, marks: Iterable[str] = (), by: SignedIn | None = None) -> None:
    """The case row and its first timeline entry, once: the API writes it at intake (with the signed-in user
    who registered it), the workflow again (a no-op). With them, the parties' marks
    (store/incidents.party_digests), in the same transaction as the row."""
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
            last_step=0,
        ),
        ["case_no"],
    )
    if written:
        session.execute(insert(CaseEvent.__table__), dict(case_no=case.case_no, key="0000-received", kind="received", at=case.received_at,
                                                          note=f"{intake.source.label}受理：{intake.category}{case.separation()}"))
        # The channel is the entry's name; the user is whoever's key registered it (an operator, the police platform).
        session.execute(insert(AuditEntry.__table__), dict(case_no=case.case_no, key="0000-received", at=case.received_at, actor=intake.source.label,
                                                           role="operator", action="received", before={}, after={"stage": "received", "category": intake.category.value},
                                                           **audit_user(by)))
    for digest in marks:
        insert_ignoring_duplicates(session, PartyMark, dict(case_no=case.case_no, digest=digest, at=case.received_at), ["case_no", "digest"])
    session.commit()


# The case row as of a step, unless a newer step got there first; the SET clause is the parameters' columns.
newer_step = update(cases).where(cases.c.case_no == bindparam("step_case"), cases.c.last_step < bindparam("step_seq")).returning(cases.c.case_no)
# A case's steps are written by local activities that may run side by side (two units answering at once):
# each write holds the case's row from its start, so the next one sees it whole.
case_row = select(cases.c.case_no).where(cases.c.case_no == bindparam("step_case")).with_for_update()
STAGES = [stage.value for stage in Stage]
# The stage is the newest stage step's on the timeline (step keys sort by number), whichever write came last.
newest_stage = (
    update(cases).where(cases.c.case_no == bindparam("step_case"))
    .values(stage=select(CaseEvent.kind).where(CaseEvent.case_no == bindparam("step_case"), CaseEvent.kind.in_(STAGES))
            .order_by(CaseEvent.key.desc()).limit(1).scalar_subquery())
)


@cache
def milestone(column: str):
    """A step's own time (responded_at for `handling`, …), written whatever order the steps arrive in; a later
    occurrence (a reopened case closed again) replaces an earlier one."""
    at = cases.c[column]
    return update(cases).where(cases.c.case_no == bindparam("step_case"), (at.is_(None)) | (at < bindparam("step_at"))).values({column: bindparam("step_at")})


def audit_user(user: SignedIn | None) -> dict:
    """The audit columns of the signed-in user behind a change."""
    return dict(user_id=user and user.user_id, user_role=user and user.role.value, user_jurisdiction=user and user.jurisdiction_code)


def record_step(session: Session, step: StepRecord) -> None:
    """One step: its timeline row and audit entry, its own time, the stage of the newest stage step and, unless a
    newer step got there first, the rest of the case row and the clocks (a step carries the case as it stood)."""
    parts = step.parts and step.parts.model_dump(mode="json", exclude_none=True)
    session.execute(case_row, {"step_case": step.case_no})
    if insert_ignoring_duplicates(session, CaseEvent, dict(case_no=step.case_no, key=step.key, kind=step.kind, at=step.at, note=step.note, body_code=step.body_code,
                                                           parts=parts), ["case_no", "key"]):
        session.execute(insert(AuditEntry.__table__), dict(case_no=step.case_no, key=step.key, at=step.at, actor=step.actor, role=step.role,
                                                           action=step.kind, before=step.before, after=step.after, **audit_user(step.signed_in)))
        columns = step.model_dump(include={"grade", "level", "jurisdiction_code", "lead_unit", "mediator_id", "result", "next_deadline", "overdue", "escalation_count", "satisfied"})
        newest = session.execute(newer_step, {**columns, "last_step": step.seq, "step_case": step.case_no, "step_seq": step.seq}).first()
        if newest and step.clocks:
            upsert_clocks(session, step.case_no, step.clocks)
        if step.kind in STEP_COLUMNS:
            session.execute(milestone(STEP_COLUMNS[step.kind]), {"step_case": step.case_no, "step_at": step.at})
        if step.stage is not None:
            session.execute(newest_stage, {"step_case": step.case_no})
    session.commit()


def upsert_clocks(session: Session, case_no: str, clocks: list[Clock]) -> None:
    """Every clock's row as of this step: one INSERT .. ON CONFLICT DO UPDATE, executed for each clock."""
    session.execute(clock_upsert(dialect_of(session)), [clock_values(case_no, clock) for clock in clocks])


CLOCK_STATE = ("due_at", "status", "remaining_seconds", "reminded_at", "breached_at", "done_at")


@cache
def clock_upsert(dialect: str):
    statement = DIALECTS[dialect].insert(CaseClock.__table__)
    return statement.on_conflict_do_update(index_elements=["case_no", "clock_id"], set_={name: statement.excluded[name] for name in CLOCK_STATE})


def clock_values(case_no: str, clock: Clock) -> dict:
    return dict(
        case_no=case_no, clock_id=clock.id, name=clock.name.value, unit_code=clock.unit_code,
        level=clock.level.value if clock.level else None, basis=clock.basis.value, started_at=clock.started_at,
        due_at=clock.due_at, status=clock.status.value,
        remaining_seconds=int(clock.remaining.total_seconds()) if clock.remaining is not None else None,
        reminded_at=clock.reminded_at, breached_at=clock.breached_at, done_at=clock.done_at,
    )


def record_clock_notice(session: Session, notice: ClockNotice) -> None:
    """A reminder or a lapse is a timeline row; a breach also issues its supervision order (督办), once."""
    clock = notice.clock
    key = f"{notice.kind}-{notice.clock_id:03d}" + (f"-{notice.nth}" if notice.nth > 1 else "")  # a later threshold's reminder: one more entry
    if notice.kind == "breach":
        insert_ignoring_duplicates(
            session,
            SupervisionOrder,
            dict(
                case_no=notice.case_no, clock_id=notice.clock_id, clock=clock.name.value, unit_code=clock.unit_code,
                from_level=clock.level.value, to_level=notice.to_level.value if notice.to_level else None,
                due_at=clock.due_at, issued_at=clock.breached_at, text=notice.text,
            ),
            ["case_no", "clock_id"],
        )
        session.execute(update(cases).where(cases.c.case_no == notice.case_no).values(overdue=True))
        insert_ignoring_duplicates(
            session, AuditEntry,
            dict(case_no=notice.case_no, key=f"breach-{notice.clock_id:03d}", at=clock.breached_at, actor="系统", role="system", action="breach",
                 before={"clock": clock.name.value, "unit_code": clock.unit_code, "status": "running"}, after={"status": "breached", "overdue": True}),
            ["case_no", "key"],
        )
    at = clock.reminded_at if notice.kind == "reminder" else clock.breached_at
    insert_ignoring_duplicates(session, CaseEvent, dict(case_no=notice.case_no, key=key, kind=notice.kind, at=at, note=notice.text), ["case_no", "key"])
    upsert_clocks(session, notice.case_no, [clock])
    session.commit()


def record_event(session: Session, case_no: str, key: str, kind: str, at: datetime, note: str) -> None:
    insert_ignoring_duplicates(session, CaseEvent, dict(case_no=case_no, key=key, kind=kind, at=at, note=note), ["case_no", "key"])
    session.commit()


def timeline(session: Session, case_no: str) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_no == case_no).order_by(CaseEvent.at, CaseEvent.id)))


def audit_trail(session: Session, case_no: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.case_no == case_no).order_by(AuditEntry.at, AuditEntry.id)))


def clocks(session: Session, case_no: str) -> list[CaseClock]:
    return list(session.scalars(select(CaseClock).where(CaseClock.case_no == case_no).order_by(CaseClock.clock_id)))
