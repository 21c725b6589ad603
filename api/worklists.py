"""Worklist routes (工作清单): what each role must act on — a unit's inbox, a level's overdue, red,
waiting and near-breach cases — and the 台账 of every case, as JSON pages, or the whole list as a
file for Excel (CSV or .xlsx: api/spreadsheet.py)."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal, allow, effective_scope
from api.deps import sessions
from api.spreadsheet import FILE_CONTENT, FORMAT_HELP, Cell, Column, Format, export, wanted
from api.views import Problem
from onedoor.domain.bounds import Day, Offset
from onedoor.domain.labels import Category, ClockName, ClockStatus, Labelled, Level, Result, RiskGrade, Role, Stage
from onedoor.domain.timezone import as_shanghai, as_utc
from onedoor.store import directory, worklists
from onedoor.store.tables import Unit

router = APIRouter(prefix="/worklists", tags=["worklists 工作清单"])
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
Reader = Callable[[Session, worklists.Filters, int | None, int], worklists.Page]
# Beijing time as each row is built: a second pass (views.in_beijing_time) costs more than the query on a long CSV.
BeijingTime = Annotated[datetime, AfterValidator(as_shanghai)]


class ListQuery(BaseModel):
    """Filters and paging, the same on every list."""

    jurisdiction: str | None = Field(None, description="辖区代码：县、乡镇或村；匹配案发地与当前承办地，县含其下全部 (a county, township or village code)")
    category: list[Category] = Field([], description="纠纷类型，可多选 (repeatable)")
    grade: list[RiskGrade] = Field([], description="等级，可多选")
    stage: list[Stage] = Field([], description="阶段，可多选")
    level: list[Level] = Field([], description="当前承办层级，可多选")
    received_from: Day | None = Field(None, alias="from", description="受理日期起（北京时间，含） received on or after")
    received_to: Day | None = Field(None, alias="to", description="受理日期止（北京时间，含） received on or before")
    limit: int = Field(50, ge=1, le=200, description="每页条数 (JSON only: a file carries the whole list)")
    offset: Offset = 0
    format: Format = Field("json", description=FORMAT_HELP)


class ClockView(BaseModel):
    """The clock that puts the case on the list."""

    clock_id: int
    name: ClockName
    unit_code: str | None
    unit_name: str | None
    due_at: BeijingTime = Field(description="while paused: the due time when it paused; `remaining_seconds` is what is left")
    status: ClockStatus
    remaining_seconds: int | None
    reminded_at: BeijingTime | None
    breached_at: BeijingTime | None


class WorklistRow(BaseModel):
    """What a worker needs to act on the case; no party's personal data."""

    case_no: str
    category: Category
    grade: RiskGrade | None
    stage: Stage
    township_code: str
    township_name: str | None
    village_code: str | None
    village_name: str | None
    level: Level | None
    jurisdiction_code: str | None
    jurisdiction_name: str | None
    lead_unit: str | None
    lead_unit_name: str | None
    overdue: bool
    result: Result | None = Field(description="结案方式, once closed")
    received_at: BeijingTime
    closed_at: BeijingTime | None
    clock: ClockView | None


class Worklist(BaseModel):
    title: str
    total: int = Field(description="rows matching the filters, over all pages")
    limit: int
    offset: int
    rows: list[WorklistRow]


def filters_from(session: Session, query: ListQuery, jurisdiction: str | None) -> worklists.Filters:
    """The store's filters: the query's, within `jurisdiction` (the caller's scope, or the one asked for)."""
    places = None
    if jurisdiction is not None:
        places = directory.jurisdiction_and_below(session, jurisdiction)
        if not places:
            raise HTTPException(404, f"jurisdiction: 辖区 {jurisdiction} 不在目录中 (unknown jurisdiction)")
    if query.received_from and query.received_to and query.received_to < query.received_from:
        raise HTTPException(422, "to: 截止日期早于起始日期 (to is before from)")
    return worklists.Filters(
        places=places,
        categories=[c.value for c in query.category],
        grades=[g.value for g in query.grade],
        stages=[s.value for s in query.stage],
        levels=[lvl.value for lvl in query.level],
        received_from=beijing_midnight(query.received_from) if query.received_from else None,
        received_before=beijing_midnight(query.received_to + timedelta(days=1)) if query.received_to else None,
    )


def beijing_midnight(day: date) -> datetime:
    return as_utc(datetime.combine(day, time.min))  # a naive time is read as Beijing time


async def answer(
    request: Request, query: ListQuery, principal: Principal, make_session: sessionmaker[Session], name: str, title: str, read: Reader
) -> Worklist | Response:
    output = wanted(request, query.format)

    def load() -> worklists.Page:
        with make_session() as session:
            # A unit's own dispatches are its to see wherever they are; anyone else sees their jurisdiction's cases.
            own_inbox = principal.role == Role.UNIT
            jurisdiction = query.jurisdiction if own_inbox else effective_scope(session, principal, query.jurisdiction, "jurisdiction")
            limit, offset = (query.limit, query.offset) if output == "json" else (None, 0)
            return read(session, filters_from(session, query, jurisdiction), limit, offset)

    page = await run_in_threadpool(load)
    rows = [WorklistRow.model_validate(row, from_attributes=True) for row in page.rows]
    if output != "json":
        # Off the event loop: a county's whole list is thousands of rows to write.
        return await run_in_threadpool(export, output, f"worklist-{name}-{as_shanghai(datetime.now()):%Y%m%d-%H%M}", title.split()[0], COLUMNS, rows)
    return Worklist(title=title, total=page.total, limit=query.limit, offset=query.offset, rows=rows)


def remaining(row: WorklistRow) -> str | None:
    if row.clock is None or row.clock.status != ClockStatus.PAUSED or row.clock.remaining_seconds is None:
        return None
    return str(timedelta(seconds=row.clock.remaining_seconds))


def of_clock(read: Callable[[ClockView], Cell]) -> Callable[[WorklistRow], Cell]:
    return lambda row: read(row.clock) if row.clock else None


def label(value: Labelled | None) -> str | None:
    return value.label if value else None


def code(value: Labelled | None) -> str | None:
    return value.value if value else None


# The files' columns: names beside codes, Chinese labels beside the program's values, Beijing time.
COLUMNS = [
    Column("案件编号", "case_no", lambda r: r.case_no),
    Column("纠纷类型", "category", lambda r: r.category.value),
    Column("等级", "grade", lambda r: label(r.grade)),
    Column("等级代码", "grade code", lambda r: code(r.grade)),
    Column("阶段", "stage", lambda r: r.stage.label),
    Column("阶段代码", "stage code", lambda r: r.stage.value),
    Column("乡镇/街道", "township", lambda r: r.township_name),
    Column("乡镇/街道代码", "township code", lambda r: r.township_code),
    Column("村/社区", "village", lambda r: r.village_name),
    Column("村/社区代码", "village code", lambda r: r.village_code),
    Column("承办层级", "level", lambda r: label(r.level)),
    Column("承办辖区", "jurisdiction", lambda r: r.jurisdiction_name),
    Column("承办辖区代码", "jurisdiction code", lambda r: r.jurisdiction_code),
    Column("牵头单位", "lead unit", lambda r: r.lead_unit_name),
    Column("牵头单位代码", "lead unit code", lambda r: r.lead_unit),
    Column("时限", "clock", of_clock(lambda c: c.name.label)),
    Column("时限单位", "clock unit", of_clock(lambda c: c.unit_name)),
    Column("时限单位代码", "clock unit code", of_clock(lambda c: c.unit_code)),
    Column("到期（北京时间）", "due", of_clock(lambda c: c.due_at if c.status != ClockStatus.PAUSED else None), "time"),
    Column("暂停剩余", "remaining while paused", remaining),
    Column("时限状态", "clock status", of_clock(lambda c: c.status.label)),
    Column("逾期", "overdue", lambda r: "是" if r.overdue else "否"),
    Column("结案方式", "result", lambda r: label(r.result)),
    Column("受理时间（北京时间）", "received", lambda r: r.received_at, "time"),
    Column("结案时间（北京时间）", "closed", lambda r: r.closed_at, "time"),
]


RESPONSES = {
    200: {"content": FILE_CONTENT, "description": "a page of the list (JSON), or the whole list as a file (CSV, Excel .xlsx)"},
    403: {"model": Problem, "description": "the caller's role does not read this list"},
    404: {"model": Problem, "description": "unknown unit or jurisdiction, or outside the caller's scope"},
}


@router.get("/units/{unit_code}/inbox", response_model=Worklist, responses=RESPONSES, summary="单位待办：未响应、未反馈的派单，按到期先后 a unit's open dispatches")
async def unit_inbox(
    unit_code: str, request: Request, query: Annotated[ListQuery, Query()], make_session: Sessions,
    principal: Annotated[Principal, Depends(allow(Role.UNIT, Role.OPERATOR, Role.SUPERVISOR))],
):
    return await answer(request, query, principal, make_session, f"inbox-{unit_code}", f"{unit_code} 待办 inbox", inbox_reader(principal, unit_code))


def inbox_reader(principal: Principal, unit_code: str) -> Reader:
    """The unit's inbox as `principal` may read it: the route's and the console's."""

    def read(session: Session, filters: worklists.Filters, limit: int | None, offset: int) -> worklists.Page:
        # Another unit's inbox answers as if it did not exist, as a case outside one's scope does.
        if session.get(Unit, unit_code) is None or (principal.role == Role.UNIT and principal.unit_code != unit_code):
            raise HTTPException(404, f"unit_code: 单位 {unit_code} 不在目录中 (unknown unit)")
        return worklists.unit_inbox(session, unit_code, filters, limit, offset)

    return read


def list_route(path: str, read: Reader, title: str, summary: str) -> None:
    """GET /worklists/<path>: one level's list, filtered and paged like every other, for its operators and supervisors."""

    async def show(
        request: Request, query: Annotated[ListQuery, Query()], make_session: Sessions,
        principal: Annotated[Principal, Depends(allow(Role.OPERATOR, Role.SUPERVISOR))],
    ):
        return await answer(request, query, principal, make_session, path, title, read)

    show.__name__ = path.replace("-", "_")
    router.add_api_route(f"/{path}", show, methods=["GET"], response_model=Worklist, responses=RESPONSES, summary=summary)


# Each level's list by its path: how it is read, its title (the file's sheet is its first word) and what it lists.
LISTS: dict[str, tuple[Reader, str, str]] = {
    "overdue": (worklists.overdue, "逾期 overdue", "逾期案件：有时限已超时，超时最久的在前 overdue cases"),
    "red": (worklists.red, "红色 red", "红色案件：按下一个到期时限 open red cases by next deadline"),
    "due-today": (worklists.due_today, "今日到期 due today", "今日到期：今天（北京时间）24 时前到期、尚未超时的时限，按到期先后 due before midnight"),
    "waiting": (worklists.waiting, "等待当事人 waiting on a party", "等待当事人：计时暂停或待申请司法确认 cases waiting on a party"),
    "awaiting-referral": (worklists.awaiting_referral, "待转介受理 awaiting referral", "待转介受理：已转司法兜底机构、尚待其受理，按到期先后 awaiting the backstop body's acceptance"),
    "near-breach": (worklists.near_breach, "临期 near breach", "临期案件：已催办、尚未超时，按到期先后 reminded, not yet breached"),
    "ledger": (worklists.ledger, "台账 register", "台账：全部案件（含已办结），按受理先后 every case received, open or closed"),
}
for path, (read, title, summary) in LISTS.items():
    list_route(path, read, title, summary)
