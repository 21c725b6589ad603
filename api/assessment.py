"""Unit assessment (考核) routes: each unit's timeliness and results for a period, as JSON, CSV or Excel (.xlsx)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal, allow, effective_scope
from api.deps import sessions
from api.spreadsheet import FILE_CONTENT, FORMAT_HELP, Column, Format, export, wanted
from api.views import Problem
from onedoor.domain.assessment import Period, UnitScore
from onedoor.domain.bounds import Day
from onedoor.domain.labels import Role
from onedoor.store import assessment
from onedoor.store.tables import Jurisdiction

router = APIRouter(prefix="/assessment", tags=["assessment 考核"])
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
Output = Annotated[Format, Query(alias="format", description=FORMAT_HELP)]
RESPONSES = {
    200: {"content": FILE_CONTENT, "description": "the assessment (JSON), or as a file (CSV, Excel .xlsx)"},
    404: {"model": Problem, "description": "unit or jurisdiction not in the directory"},
}


class UnitAssessment(UnitScore):
    unit_name: str
    jurisdiction_code: str
    jurisdiction_name: str
    period_from: date = Field(description="first Beijing date of the period")
    period_to: date = Field(description="last Beijing date of the period, included")


def period(
    month: Annotated[str | None, Query(alias="period", description="a month, YYYY-MM (Beijing time)")] = None,
    first: Annotated[Day | None, Query(alias="from", description="first Beijing date, YYYY-MM-DD")] = None,
    last: Annotated[Day | None, Query(alias="to", description="last Beijing date, included")] = None,
) -> Period:
    """The period asked for: a month, or from/to dates; a 422 names the field that is wrong."""
    if month is not None:
        if first or last:
            raise HTTPException(422, "period: 请给 period 或 from/to 之一 (give a month or from/to, not both)")
        try:
            return Period.month(month)
        except ValueError:
            raise HTTPException(422, f"period: {month} 不是有效月份，格式为 YYYY-MM (not a month)")
    if first is None or last is None:
        missing = "from" if first is None else "to"
        raise HTTPException(422, f"{missing}: 请给出考核期间 period=YYYY-MM 或 from 与 to (a period is required)")
    if last < first:
        raise HTTPException(422, f"to: 结束日期 {last} 早于开始日期 {first} (to is before from)")
    try:
        return Period(first, last)
    except ValueError:
        raise HTTPException(422, f"from: {first} 至 {last} 超出可考核的日期范围 (dates out of range)")


# The files' columns: header (中文, and English beside it in the CSV) and the value from a unit's assessment.
COLUMNS = [
    Column("单位代码", "unit", lambda a: a.unit_code),
    Column("单位名称", "unit name", lambda a: a.unit_name),
    Column("所属辖区代码", "jurisdiction", lambda a: a.jurisdiction_code),
    Column("所属辖区", "jurisdiction name", lambda a: a.jurisdiction_name),
    Column("期间起", "from", lambda a: a.period_from, "date"),
    Column("期间止", "to", lambda a: a.period_to, "date"),
    Column("收到派单", "dispatches", lambda a: a.dispatches, "number"),
    Column("应响应", "responses due", lambda a: a.response.due, "number"),
    Column("按时响应", "responded on time", lambda a: a.response.on_time, "number"),
    Column("超时后响应", "responded late", lambda a: a.response.late, "number"),
    Column("超时未响应", "not responded", lambda a: a.response.unanswered, "number"),
    Column("响应未到期", "responses pending", lambda a: a.response.pending, "number"),
    Column("响应随案结束", "responses ended", lambda a: a.response.ended, "number"),
    Column("按时响应率%", "responded on time %", lambda a: a.response.on_time_pct, "number"),
    Column("应反馈", "feedback due", lambda a: a.feedback.due, "number"),
    Column("按时反馈", "feedback on time", lambda a: a.feedback.on_time, "number"),
    Column("超时后反馈", "feedback late", lambda a: a.feedback.late, "number"),
    Column("超时未反馈", "no feedback", lambda a: a.feedback.unanswered, "number"),
    Column("反馈未到期", "feedback pending", lambda a: a.feedback.pending, "number"),
    Column("反馈随案结束", "feedback ended", lambda a: a.feedback.ended, "number"),
    Column("按时反馈率%", "feedback on time %", lambda a: a.feedback.on_time_pct, "number"),
    Column("响应用时中位数(分钟)", "median response minutes", lambda a: a.median_response_minutes, "number"),
    Column("超时", "breaches", lambda a: a.breaches, "number"),
    Column("督办", "supervision orders", lambda a: a.supervision_orders, "number"),
    Column("化解", "cases resolved", lambda a: a.resolved, "number"),
    Column("升级移出", "escalated away", lambda a: a.escalated_away, "number"),
    Column("回访", "return visits", lambda a: a.visits, "number"),
    Column("回访满意", "satisfied", lambda a: a.satisfied_visits, "number"),
    Column("满意率%", "satisfaction %", lambda a: a.satisfaction_pct, "number"),
]


def as_file(request: Request, asked: Format, rows: list[UnitAssessment], span: Period) -> Response | None:
    """The figures as a file, when one is asked for; an unknown figure is an empty cell."""
    output = wanted(request, asked)
    return None if output == "json" else export(output, f"assessment-{span.first}-{span.last}", "考核", COLUMNS, rows)


async def assessed(make_session: sessionmaker[Session], principal: Principal, span: Period, unit_code: str | None, jurisdiction_code: str | None) -> list[UnitAssessment]:
    """Supervisors see the units of their jurisdiction; a unit sees its own score only."""
    if principal.role == Role.UNIT and unit_code != principal.unit_code:
        raise HTTPException(403, f"unit: 只能查看本单位（{principal.unit_code}）的考核 (your own unit only)")

    def read() -> list[UnitAssessment]:
        with make_session() as session:
            if jurisdiction_code is not None and session.get(Jurisdiction, jurisdiction_code) is None:
                raise HTTPException(404, f"jurisdiction: {jurisdiction_code} 不在目录中 (unknown jurisdiction)")
            scope = jurisdiction_code if principal.role == Role.UNIT else effective_scope(session, principal, jurisdiction_code, "jurisdiction")
            units = assessment.units_under(session, scope)
            if unit_code is not None:
                units = [u for u in units if u.code == unit_code]
                if not units:
                    raise HTTPException(404, f"unit: {unit_code} 不在目录中或不在您的辖区内 (unknown unit, or outside your jurisdiction)")
            scores = assessment.score_units(session, span, [u.code for u in units])
            return [
                UnitAssessment(**dict(score), unit_name=unit.name, jurisdiction_code=unit.jurisdiction_code, jurisdiction_name=session.get(Jurisdiction, unit.jurisdiction_code).name,
                               period_from=span.first, period_to=span.last)
                for unit, score in zip(units, scores)
            ]

    return await run_in_threadpool(read)


@router.get("/units", response_model=list[UnitAssessment], responses=RESPONSES, summary="各单位考核 every unit's assessment for a period")
async def units(
    principal: Annotated[Principal, Depends(allow(Role.SUPERVISOR))],  # first: who asks is checked before what is asked
    request: Request,
    make_session: Sessions,
    span: Annotated[Period, Depends(period)],
    jurisdiction: Annotated[str | None, Query(description="this jurisdiction's units and those of every jurisdiction below it")] = None,
    unit: Annotated[str | None, Query(description="one unit only")] = None,
    output: Output = "json",
):
    rows = await assessed(make_session, principal, span, unit, jurisdiction)
    return as_file(request, output, rows, span) or rows


@router.get("/units/{unit_code}", response_model=UnitAssessment, responses=RESPONSES, summary="一个单位的考核 one unit's assessment for a period")
async def one_unit(
    principal: Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.UNIT))],
    unit_code: str, request: Request, make_session: Sessions, span: Annotated[Period, Depends(period)], output: Output = "json",
):
    rows = await assessed(make_session, principal, span, unit_code, None)
    return as_file(request, output, rows, span) or rows[0]
