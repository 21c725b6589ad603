"""A center's own calendar (or the county's for all its centers), edited by an admin: office hours
by weekday with a lunch break, holidays and closures, make-up and extra workdays, and each year's
State Council notice (JSON or CSV). A case takes the calendars in force at intake with it
(store/calendars.py): an edit reaches cases registered after it."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.service import RPCError

from api.auth import Principal, allow, signed_in
from api.deps import sessions
from api.views import Problem
from onedoor.domain.calendar import CalendarEntries
from onedoor.domain.case import Code
from onedoor.domain.labels import Role
from onedoor.domain.timezone import as_shanghai
from onedoor.store import calendars
from onedoor.store.tables import CenterCalendar, Jurisdiction
from workflows.dispute_case import DisputeCaseWorkflow

log = structlog.get_logger("api")
router = APIRouter(prefix="/calendars", tags=["calendars 工作日历"], dependencies=[Depends(signed_in)])
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
KINDS = {"holiday": "holidays", "休": "holidays", "workday": "workdays", "班": "workdays"}  # a CSV row's kind


class CalendarView(CalendarEntries):
    scope_code: str
    updated_at: datetime | None = None
    updated_by: str | None = None


class Notice(BaseModel):
    """国务院办公厅关于某年部分节假日安排的通知: the year's days off and make-up workdays."""

    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}


def warn(make_session: sessionmaker[Session]) -> str | None:
    """The calendar's warning now, loud in the log (at start, after an edit) and kept for /healthz. A
    register that does not answer at start does not stop the API (/readyz says so): the warning is
    then read at the next edit or start."""
    try:
        with make_session() as session:
            warning = calendars.calendar_warning(session, as_shanghai(datetime.now(UTC)).date())
    except SQLAlchemyError as error:
        log.warning("holiday calendar: not checked, the register did not answer", error=str(error)[:200])
        return None
    if warning:
        log.warning("holiday calendar: next year unknown", detail=warning)
    return warning


def view(session: Session, scope_code: str) -> CalendarView:
    if session.get(Jurisdiction, scope_code) is None:
        raise HTTPException(404, f"scope_code: 辖区 {scope_code} 不在目录中 (unknown jurisdiction)")
    row = session.get(CenterCalendar, scope_code)
    return CalendarView(scope_code=scope_code, **calendars.entries(session, scope_code).model_dump(),
                        updated_at=row.updated_at if row else None, updated_by=row.updated_by if row else None)


@router.get("/{scope_code}", response_model=CalendarView, responses={404: {"model": Problem}}, summary="辖区的工作日历 a scope's own calendar entries")
async def get_calendar(scope_code: Annotated[Code, Path()], make_session: Sessions):
    def read():
        with make_session() as session:
            return view(session, scope_code)

    return await run_in_threadpool(read)


async def write(request: Request, make_session: sessionmaker[Session], scope_code: str, change, by: str) -> CalendarView:
    """Apply change(current entries) to the scope's calendar, refresh the stack's warning, and send each open case in the
    scope its calendars as they now stand (the case's recalendar signal moves the clocks not yet due)."""
    hours = request.app.state.settings.policy().clocks.office_hours

    def save():
        with make_session() as session:
            view(session, scope_code)
            calendars.save(session, scope_code, change(calendars.entries(session, scope_code)), by, datetime.now(UTC))
            session.commit()
            return view(session, scope_code), calendars.open_cases_under(session, scope_code, hours)

    answer, open_cases = await run_in_threadpool(save)
    request.app.state.calendar_warning = await run_in_threadpool(warn, make_session)
    client = request.app.state.temporal
    for case_no, taken in open_cases.items():
        try:
            await client.get_workflow_handle(case_no).signal(DisputeCaseWorkflow.recalendar, taken)
        except RPCError as error:  # a case that ended meanwhile: nothing to move
            log.info("calendar not sent to a case", case_no=case_no, error=str(error)[:200])
    return answer


@router.put("/{scope_code}", response_model=CalendarView, responses={404: {"model": Problem}},
            summary="整体替换辖区的工作日历 replace a scope's calendar (the county's for all its centers, a center's over it)")
async def put_calendar(scope_code: Annotated[Code, Path()], entries: CalendarEntries, request: Request, principal: Admin, make_session: Sessions):
    return await write(request, make_session, scope_code, lambda _: entries, principal.name)


def parse_notice(body: bytes, content_type: str) -> Notice:
    """JSON ({"holidays": {"2027-01-01": "元旦"}, "workdays": {…}}) or CSV rows `date,kind,name`
    (kind: holiday/休 or workday/班; a header row is skipped)."""
    try:
        if "csv" not in content_type:
            return Notice.model_validate_json(body)
        notice: dict[str, dict[str, str]] = {"holidays": {}, "workdays": {}}
        for number, row in enumerate(csv.reader(io.StringIO(body.decode("utf-8-sig"))), start=1):
            if not row or row[0].strip().lower() == "date":
                continue
            if len(row) < 2 or row[1].strip() not in KINDS:
                raise HTTPException(422, f"csv 第 {number} 行: 须为 日期,类型(holiday/休 或 workday/班),名称 (date,kind,name)")
            notice[KINDS[row[1].strip()]][row[0].strip()] = (row[2].strip() if len(row) > 2 else "") or row[1].strip()
        return Notice.model_validate(notice)
    except ValidationError as error:
        first = error.errors()[0]
        raise HTTPException(422, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    except UnicodeDecodeError:
        raise HTTPException(422, "csv: 须为 UTF-8 编码 (not UTF-8)") from None


@router.post("/{scope_code}/notices/{year}", response_model=CalendarView, responses={404: {"model": Problem}, 422: {"model": Problem}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": Notice.model_json_schema()},
                 "text/csv": {"schema": {"type": "string", "example": "date,kind,name\n2027-01-01,休,元旦\n2027-02-20,班,春节调休"}}}}},
             summary="导入国务院节假日安排通知 import a year's State Council holiday notice (JSON or CSV): it replaces the scope's days of that year")
async def import_notice(scope_code: Annotated[Code, Path()], year: Annotated[int, Path(ge=2000, le=2100)], request: Request, principal: Admin,
                        make_session: Sessions):
    notice = parse_notice(await request.body(), request.headers.get("content-type", ""))
    return await write(request, make_session, scope_code, entering(notice, year), principal.name)


def entering(notice: Notice, year: int) -> Callable[[CalendarEntries], CalendarEntries]:
    """The change a year's notice makes (its days replace the scope's days of that year), once it is
    a notice of that year: the route's and the console's one way."""
    strays = [day for day in [*notice.holidays, *notice.workdays] if day.year != year]
    if strays:
        raise HTTPException(422, f"holidays/workdays: {strays[0].isoformat()} 不在 {year} 年 (not in the notice's year)")
    if not notice.holidays:
        raise HTTPException(422, "holidays: 通知至少列出一个节假日 (the notice lists no holiday)")

    def enter(current: CalendarEntries) -> CalendarEntries:
        return current.model_copy(update={
            "holidays": {d: n for d, n in current.holidays.items() if d.year != year} | notice.holidays,
            "workdays": {d: n for d, n in current.workdays.items() if d.year != year} | notice.workdays,
            "years": sorted(set(current.years) | {year}),
        })

    return enter
