"""Worklist routes (工作清单): what each role must act on — a unit's inbox, a level's overdue, red,
waiting and near-breach cases — as JSON pages, or the whole list as a CSV for Excel."""

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal, allow, effective_scope
from api.deps import sessions
from api.views import Problem
from domain.bounds import Day, Offset
from domain.labels import Category, ClockName, ClockStatus, Level, RiskGrade, Role, Stage
from domain.timezone import as_shanghai, as_utc
from store import directory, worklists
from store.tables import Unit

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
    limit: int = Field(50, ge=1, le=200, description="每页条数 (JSON only: a CSV carries the whole list)")
    offset: Offset = 0
    format: Literal["json", "csv"] = Field("json", description="csv: 导出全部 (also Accept: text/csv)")


class ClockView(BaseModel):
    """The clock that puts the case on the list."""

    clock_id: int
    name: ClockName
    unit_code: str | None
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
    level: Level | None
    jurisdiction_code: str | None
    lead_unit: str | None
    lead_unit_name: str | None
    overdue: bool
    received_at: BeijingTime
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
    as_csv = query.format == "csv" or "text/csv" in request.headers.get("accept", "")

    def load() -> worklists.Page:
        with make_session() as session:
            # A unit's own dispatches are its to see wherever they are; anyone else sees their jurisdiction's cases.
            own_inbox = principal.role == Role.UNIT
            jurisdiction = query.jurisdiction if own_inbox else effective_scope(session, principal, query.jurisdiction, "jurisdiction")
            limit, offset = (None, 0) if as_csv else (query.limit, query.offset)
            return read(session, filters_from(session, query, jurisdiction), limit, offset)

    page = await run_in_threadpool(load)
    rows = [WorklistRow.model_validate(row, from_attributes=True) for row in page.rows]
    if as_csv:
        return csv_response(name, rows)
    return Worklist(title=title, total=page.total, limit=query.limit, offset=query.offset, rows=rows)


def minute(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def remaining(row: WorklistRow) -> str:
    if row.clock is None or row.clock.status != ClockStatus.PAUSED or row.clock.remaining_seconds is None:
        return ""
    return str(timedelta(seconds=row.clock.remaining_seconds))


# Headers in Chinese with the English term beside; cells as operators read them, times in Beijing time.
CSV_COLUMNS: list[tuple[str, Callable[[WorklistRow], str]]] = [
    ("案件编号 case_no", lambda r: r.case_no),
    ("纠纷类型 category", lambda r: r.category.value),
    ("等级 grade", lambda r: r.grade.label if r.grade else ""),
    ("阶段 stage", lambda r: r.stage.label),
    ("乡镇/街道 township", lambda r: r.township_name or r.township_code),
    ("承办层级 level", lambda r: r.level.label if r.level else ""),
    ("牵头单位 lead unit", lambda r: r.lead_unit_name or r.lead_unit or ""),
    ("单位代码 unit code", lambda r: r.lead_unit or ""),
    ("时限 clock", lambda r: r.clock.name.label if r.clock else ""),
    ("时限对象 clock unit", lambda r: (r.clock.unit_code or "") if r.clock else ""),
    ("到期（北京时间）due", lambda r: minute(r.clock.due_at) if r.clock and r.clock.status != ClockStatus.PAUSED else ""),
    ("暂停剩余 remaining while paused", remaining),
    ("时限状态 clock status", lambda r: r.clock.status.label if r.clock else ""),
    ("逾期 overdue", lambda r: "是" if r.overdue else "否"),
    ("受理时间（北京时间）received", lambda r: minute(r.received_at)),
]


def csv_response(name: str, rows: list[WorklistRow]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in CSV_COLUMNS])
    writer.writerows([[cell(row) for _, cell in CSV_COLUMNS] for row in rows])
    # The BOM makes Excel on Chinese Windows read the file as UTF-8 instead of GBK.
    filename = f"worklist-{name}-{as_shanghai(datetime.now()):%Y%m%d-%H%M}.csv"
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


RESPONSES = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "a page of the list (JSON), or the whole list (CSV)"},
    403: {"model": Problem, "description": "the caller's role does not read this list"},
    404: {"model": Problem, "description": "unknown unit or jurisdiction, or outside the caller's scope"},
}


@router.get("/units/{unit_code}/inbox", response_model=Worklist, responses=RESPONSES, summary="单位待办：未响应、未反馈的派单，按到期先后 a unit's open dispatches")
async def unit_inbox(
    unit_code: str, request: Request, query: Annotated[ListQuery, Query()], make_session: Sessions,
    principal: Annotated[Principal, Depends(allow(Role.UNIT, Role.OPERATOR, Role.SUPERVISOR))],
):
    title = f"{unit_code} 待办 inbox"

    def read(session: Session, filters: worklists.Filters, limit: int | None, offset: int) -> worklists.Page:
        # Another unit's inbox answers as if it did not exist, as a case outside one's scope does.
        if session.get(Unit, unit_code) is None or (principal.role == Role.UNIT and principal.unit_code != unit_code):
            raise HTTPException(404, f"unit_code: 单位 {unit_code} 不在目录中 (unknown unit)")
        return worklists.unit_inbox(session, unit_code, filters, limit, offset)

    return await answer(request, query, principal, make_session, f"inbox-{unit_code}", title, read)


def list_route(path: str, read: Reader, title: str, summary: str) -> None:
    """GET /worklists/<path>: one level's list, filtered and paged like every other, for its operators and supervisors."""

    async def show(
        request: Request, query: Annotated[ListQuery, Query()], make_session: Sessions,
        principal: Annotated[Principal, Depends(allow(Role.OPERATOR, Role.SUPERVISOR))],
    ):
        return await answer(request, query, principal, make_session, path, title, read)

    show.__name__ = path.replace("-", "_")
    router.add_api_route(f"/{path}", show, methods=["GET"], response_model=Worklist, responses=RESPONSES, summary=summary)


for path, read, title, summary in [
    ("overdue", worklists.overdue, "逾期 overdue", "逾期案件：有时限已超时，超时最久的在前 overdue cases"),
    ("red", worklists.red, "红色 red", "红色案件：按下一个到期时限 open red cases by next deadline"),
    ("waiting", worklists.waiting, "等待当事人 waiting on a party", "等待当事人：计时暂停或待申请司法确认 cases waiting on a party"),
    ("near-breach", worklists.near_breach, "临期 near breach", "临期案件：已催办、尚未超时，按到期先后 reminded, not yet breached"),
]:
    list_route(path, read, title, summary)
