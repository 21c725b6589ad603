"""Weekly report routes (研判会): list the stored reports, read one as JSON, HTML or chart PNGs, and
run one on demand for any week."""

import asyncio
import base64
from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy

from api.auth import Principal, allow, effective_scope
from api.deps import sessions, settings, temporal
from api.views import Problem, in_beijing_time
from onedoor.reports.archive import find_report, list_reports
from onedoor.domain.weekly_report import WeeklyFigures, WeeklyReportRequest
from onedoor.reports.html import render_html
from onedoor.domain.week import week_of
from onedoor.reports.weekly import report_scope
from onedoor.domain.bounds import Day
from onedoor.domain.labels import Role
from onedoor.settings import Settings
from onedoor.store.tables import Jurisdiction, WeeklyReport
from workflows.weekly_report import WeeklyReportWorkflow

router = APIRouter(prefix="/reports", tags=["reports 研判周报"])
Reader = Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.OPERATOR))]  # within their own jurisdiction
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
RUN_WAIT = 60  # seconds a POST waits for the report before answering 202 (it goes on being built)
NOT_FOUND = {404: {"model": Problem, "description": "no such township or county, or no report for that week"}}


class ReportListing(BaseModel):
    scope_code: str
    scope_name: str
    week_start: date
    generated_at: datetime
    new_cases: int
    url: str
    html: str


class ReportView(BaseModel):
    scope_code: str
    week_start: date
    generated_at: datetime
    figures: WeeklyFigures
    charts: dict[str, str]  # chart name -> URL of its PNG
    html: str


def report_url(scope_code: str, week_start: date) -> str:
    return f"/reports/{scope_code}/{week_start}"


def report_view(row: WeeklyReport) -> ReportView:
    url = report_url(row.scope_code, row.week_start)
    return in_beijing_time(ReportView(
        scope_code=row.scope_code, week_start=row.week_start, generated_at=row.generated_at,
        figures=WeeklyFigures.model_validate(row.figures),
        charts={name: f"{url}/charts/{name}.png" for name in row.charts}, html=f"{url}/html",
    ))


def scope_must_exist(session: Session, scope: str, principal: Principal) -> Jurisdiction:
    effective_scope(session, principal, scope, "scope")
    jurisdiction = report_scope(session, scope)
    if jurisdiction is None:
        raise HTTPException(404, f"{scope} 不是目录中的乡镇或县 (no such township or county)")
    return jurisdiction


def monday(week_start: Day) -> date:
    """A report week starts on a Monday (Beijing), and has begun."""
    if week_start.weekday() != 0:
        raise HTTPException(422, f"week_start: {week_start} 不是星期一，周报按周一起算 (must be a Monday)")
    if week_start > week_of(datetime.now(timezone.utc)):
        raise HTTPException(422, f"week_start: {week_start} 这一周尚未开始 (the week has not begun)")
    return week_start


Week = Annotated[date, Depends(monday)]


async def stored_report(principal: Reader, scope: str, week_start: Week, make_session: Sessions) -> WeeklyReport:
    def read() -> WeeklyReport:
        with make_session() as session:
            jurisdiction = scope_must_exist(session, scope, principal)
            row = find_report(session, scope, week_start)
            if row is None:
                raise HTTPException(404, f"{jurisdiction.name} {week_start} 起一周尚无研判报告 (no report for that week)")
            return row

    return await run_in_threadpool(read)


Stored = Annotated[WeeklyReport, Depends(stored_report)]


@router.get("", response_model=list[ReportListing], responses=NOT_FOUND, summary="研判周报列表 the stored weekly reports, newest first")
async def reports(make_session: Sessions, principal: Reader, scope: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100):
    def read() -> list[ReportListing]:
        with make_session() as session:
            shown = effective_scope(session, principal, scope, "scope")
            if shown is not None:
                scope_must_exist(session, shown, principal)
            rows = list_reports(session, shown, limit)
            names = dict(session.execute(select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(sorted({r.scope_code for r in rows})))).all())
            return [
                ReportListing(
                    scope_code=r.scope_code, scope_name=names.get(r.scope_code, r.scope_code), week_start=r.week_start,
                    generated_at=r.generated_at, new_cases=r.figures["new_cases"],
                    url=report_url(r.scope_code, r.week_start), html=f"{report_url(r.scope_code, r.week_start)}/html",
                )
                for r in rows
            ]

    return in_beijing_time(await run_in_threadpool(read))


@router.get("/{scope}/{week_start}", response_model=ReportView, responses=NOT_FOUND, summary="一份研判周报 a weekly report's figures (JSON)")
async def report(row: Stored) -> ReportView:
    return report_view(row)


@router.get("/{scope}/{week_start}/html", response_class=HTMLResponse, responses=NOT_FOUND, summary="研判周报网页 the report as a page, charts inline")
async def report_html(row: Stored) -> HTMLResponse:
    page = await run_in_threadpool(render_html, WeeklyFigures.model_validate(row.figures), row.charts, row.generated_at)
    return HTMLResponse(page)


@router.get(
    "/{scope}/{week_start}/charts/{name}.png",
    response_class=Response,
    responses={**NOT_FOUND, 200: {"content": {"image/png": {}}}},
    summary="研判周报图表 one of the report's charts (PNG)",
)
async def report_chart(row: Stored, name: str) -> Response:
    if name not in row.charts:
        raise HTTPException(404, f"name: 没有图表 {name} (no such chart; the report has {', '.join(sorted(row.charts))})")
    return Response(base64.b64decode(row.charts[name]), media_type="image/png")


@router.post(
    "/{scope}/{week_start}",
    response_model=ReportView,
    responses={
        **NOT_FOUND,
        202: {"model": Problem, "description": "still being built after a minute: read it later at the Location"},
        502: {"description": "the report's workflow failed (the detail says why)"},
        503: {"model": Problem, "description": "Temporal is busy or restarting: send it again"},
    },
    summary="生成（或重新生成）一周的研判报告 build or rebuild the report of a week",
)
async def run_report(
    principal: Annotated[Principal, Depends(allow(Role.SUPERVISOR))],
    scope: str, week_start: Week, make_session: Sessions,
    client: Annotated[Client, Depends(temporal)], config: Annotated[Settings, Depends(settings)],
):
    return await build_report(principal, scope, week_start, make_session, client, config)


async def build_report(principal: Principal, scope: str, week_start: date, make_session: sessionmaker[Session], client: Client,
                       config: Settings) -> ReportView | JSONResponse:
    """The week's report built (or rebuilt) by its workflow and read back; 202 while it is still being
    built after a minute: the route's and the console's one way. The caller has checked the role and the week."""

    def check() -> Jurisdiction:
        with make_session() as session:
            return scope_must_exist(session, scope, principal)

    jurisdiction = await run_in_threadpool(check)
    url = report_url(scope, week_start)
    try:
        # One run per scope and week at a time: a second request joins it; a finished one runs again.
        handle = await client.start_workflow(
            WeeklyReportWorkflow.run,
            WeeklyReportRequest(scope_code=scope, week_start=week_start),
            id=f"weekly-report-{scope}-{week_start}",
            task_queue=config.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"{jurisdiction.name}研判周报 weekly analysis report · {week_start} 起一周（按需 on demand）",
        )
        await asyncio.wait_for(handle.result(), RUN_WAIT)
    except TimeoutError:
        return JSONResponse({"detail": f"报告仍在生成，稍后查看 {url} (still being built)"}, status_code=202, headers={"Location": url})
    except WorkflowFailureError as failed:
        raise HTTPException(502, f"研判报告生成失败 (the report failed): {failed.cause}")
    return report_view(await stored_report(principal, scope, week_start, make_session))
