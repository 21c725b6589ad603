"""What the register holds about a case: its row and timeline, and the archive (人民调解法 §27: case
records are kept) as one JSON document; its printable page is a paper (api/papers.py, kind archive)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import case_reader
from api.deps import sessions
from api.views import (
    AuditRecord, CaseArchive, DocumentRecord, Problem, RegisterClock, RegisterRecord, SupervisionRecord, TimelineEntry,
    in_beijing_time,
)
from onedoor.domain.labels import Role
from onedoor.store import register
from onedoor.store.tables import Case, SupervisionOrder

router = APIRouter(prefix="/cases", tags=["cases 案件"])
NOT_IN_REGISTER = {404: {"model": Problem, "description": "not in the register"}}
ARCHIVISTS = [Depends(case_reader(Role.OPERATOR, Role.SUPERVISOR))]  # the archive holds the parties' personal data


def register_record(session: Session, case_no: str, model: type[RegisterRecord] = RegisterRecord, **extra) -> RegisterRecord:
    """The case's register row with its clocks and timeline, as `model` (the record or the archive)."""
    row = session.get(Case, case_no)
    if row is None:
        raise HTTPException(404, f"登记簿中没有案件 {case_no} (not in the register)")
    events = [TimelineEntry(at=e.at, kind=e.kind, note=e.note) for e in register.timeline(session, case_no)]
    clocks = [RegisterClock.model_validate(c, from_attributes=True) for c in register.clocks(session, case_no)]
    computed = {"timeline", "clocks", *extra}
    fields = {name: getattr(row, name) for name in model.model_fields if name not in computed and hasattr(row, name)}
    return model(**fields, clocks=clocks, timeline=events, **extra)


def case_archive(session: Session, case_no: str) -> CaseArchive:
    events = register.timeline(session, case_no)
    orders = session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_no == case_no).order_by(SupervisionOrder.issued_at))
    return register_record(
        session, case_no, CaseArchive,
        supervision_orders=[SupervisionRecord.model_validate(o, from_attributes=True) for o in orders],
        # The gateway keys a delivery "delivered-<dispatch|referral>:<n>:<recipient>".
        documents=[
            DocumentRecord(kind=e.key.split("-", 1)[1].split(":")[0], recipient=e.key.rsplit(":", 1)[-1], at=e.at, receipt=e.note)
            for e in events if e.kind == "delivered" and ":" in e.key
        ],
        audit=[AuditRecord.model_validate(a, from_attributes=True) for a in register.audit_trail(session, case_no)],
        archived_at=datetime.now(UTC),
    )


async def from_register(make_session: sessionmaker[Session], build, case_no: str):
    def read():
        with make_session() as session:
            return build(session, case_no)

    return in_beijing_time(await run_in_threadpool(read))


@router.get("/{case_no}/register", response_model=RegisterRecord, responses=NOT_IN_REGISTER, summary="登记簿记录 the register's row and timeline",
            dependencies=[Depends(case_reader(*Role))])
async def get_register_record(case_no: str, make_session: Annotated[sessionmaker[Session], Depends(sessions)]) -> RegisterRecord:
    return await from_register(make_session, register_record, case_no)


@router.get("/{case_no}/archive", response_model=CaseArchive, responses=NOT_IN_REGISTER, summary="案卷归档 the whole case file as one JSON document",
            dependencies=ARCHIVISTS)
async def get_archive(case_no: str, make_session: Annotated[sessionmaker[Session], Depends(sessions)]) -> CaseArchive:
    return await from_register(make_session, case_archive, case_no)
