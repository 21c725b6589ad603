"""The supervisor's figures: the weekly analysis reports (研判周报) of their jurisdiction — read, or
built for a week — and the units' assessment (考核) for a month, with the API's Excel file. The
API's own functions (api/reports.py, api/assessment.py) with the signed-in Principal."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.assessment import as_file, assessed, period
from api.auth import Principal
from api.console.web import ConsoleRoute, page, problems, role
from api.deps import sessions, settings, temporal
from api.reports import build_report, monday, reports, stored_report
from onedoor.domain.bounds import Day
from onedoor.domain.labels import Role
from onedoor.domain.timezone import as_shanghai
from onedoor.domain.weekly_report import WeeklyFigures
from onedoor.reports.html import render_html
from onedoor.domain.week import week_of
from onedoor.reports.weekly import report_scopes
from onedoor.store import directory

router = APIRouter(route_class=ConsoleRoute)
Reader = Annotated[Principal, Depends(role(Role.SUPERVISOR, Role.OPERATOR))]  # as GET /reports reads them
Supervisor = Annotated[Principal, Depends(role(Role.SUPERVISOR))]
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]


def report_places(make_session: sessionmaker[Session], principal: Principal) -> list[tuple[str, str]]:
    """The townships and counties a report can be made for, within the reader's scope."""
    with make_session() as session:
        mine = None if principal.role == Role.ADMIN else set(directory.jurisdiction_and_below(session, principal.jurisdiction_code or ""))
        return [(j.code, f"{j.name}（{j.code}）") for j in report_scopes(session) if mine is None or j.code in mine]


async def reports_page(request: Request, principal: Principal, make_session: sessionmaker[Session], status: int = 200, errors: dict | None = None,
                       typed: dict | None = None, message: str | None = None) -> Response:
    listed = await reports(make_session, principal, None, 100)
    places = await run_in_threadpool(report_places, make_session, principal)
    this_week = week_of(datetime.now(UTC)).isoformat()
    return page(request, "reports.html", status=status, listed=listed, places=places, errors=errors or {}, typed=typed or {"week_start": this_week},
                message=message, builds=principal.role in (Role.SUPERVISOR, Role.ADMIN))


@router.get("/console/reports")
async def show_reports(request: Request, principal: Reader, make_session: Sessions) -> Response:
    return await reports_page(request, principal, make_session)


@router.get("/console/reports/{scope}/{week_start}")
async def show_report(scope: str, week_start: Day, principal: Reader, make_session: Sessions) -> Response:
    """The stored report as its own printable page (charts inline), as GET /reports/…/html answers it."""
    row = await stored_report(principal, scope, monday(week_start), make_session)
    return HTMLResponse(await run_in_threadpool(render_html, WeeklyFigures.model_validate(row.figures), row.charts, row.generated_at))


class ReportForm(BaseModel):
    scope: str
    week_start: Day


@router.post("/console/reports")
async def build(request: Request, principal: Supervisor, make_session: Sessions, client: Annotated[Client, Depends(temporal)]) -> Response:
    """A week's report built now (the API's POST /reports/{scope}/{week}): its page once built."""
    form = await request.form()
    typed = {name: value.strip() for name, value in form.items() if isinstance(value, str)}
    try:
        asked = ReportForm.model_validate(typed)
        built = await build_report(principal, asked.scope, monday(asked.week_start), make_session, client, settings(request))
    except (ValidationError, HTTPException) as refused:
        status = refused.status_code if isinstance(refused, HTTPException) else 422
        if status == 503:
            raise
        return await reports_page(request, principal, make_session, status, with_field(problems(refused), "scope"), typed)
    if isinstance(built, Response):  # 202: still being built after a minute
        return await reports_page(request, principal, make_session, 202, typed=typed, message="报告仍在生成，请稍后刷新本页查看。")
    return RedirectResponse(f"/console/reports/{built.scope_code}/{built.week_start}", status_code=303)


def with_field(errors: dict[str, str], field: str) -> dict[str, str]:
    """A refusal about the place asked for names no field (404: no such township or county): beside `field`."""
    if "" in errors and field not in errors:
        errors[field] = errors.pop("")
    return errors


@router.get("/console/assessment")
async def assessment_page(request: Request, principal: Supervisor, make_session: Sessions) -> Response:
    """Each unit's timeliness and results for a month (`format=xlsx`: the API's file)."""
    month = request.query_params.get("period") or f"{as_shanghai(datetime.now(UTC)):%Y-%m}"
    jurisdiction = request.query_params.get("jurisdiction") or None
    places = await run_in_threadpool(report_places, make_session, principal)
    typed = {"period": month, "jurisdiction": jurisdiction}
    try:
        span = period(month)
        rows = await assessed(make_session, principal, span, None, jurisdiction)
    except HTTPException as refused:
        if refused.status_code not in (404, 422):
            raise
        return page(request, "assessment.html", status=refused.status_code, errors=problems(refused), typed=typed, places=places, rows=None)
    output = request.query_params.get("format", "json")
    file = as_file(request, output, rows, span) if output in ("csv", "xlsx") else None
    return file or page(request, "assessment.html", errors={}, typed=typed, places=places, rows=rows, span=span)
