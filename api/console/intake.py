"""The window operator's intake form (登记受理): the API's registration (api.cases.register_case) as a
page. While the form is filled in it previews the grade and routing triage will give (the same pure
grading and the directory's routing) and the parties' open cases (the same marks the API's 409
reads), so the operator can join one instead; registered, the case page prints the 受理告知书."""

import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Principal
from api.cases import OpenCasesAboutParties, register_case
from api.console.web import ConsoleRoute, chinese, nest, page, problems, role
from api.deps import party_marks_key, sessions, settings, temporal
from api.views import NewCase, RelatedCase
from domain.case import Party, Place, RiskFactors
from domain.grading import Grading, grade
from domain.labels import Category, Role, Source, VulnerableGroup
from domain.messages import Routing
from settings import Settings
from store import directory, incidents

router = APIRouter(route_class=ConsoleRoute)
Operator = Annotated[Principal, Depends(role(Role.OPERATOR))]
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
LISTS = frozenset({"factors.vulnerable_groups"})
SOURCES = [(s.value, s.label) for s in Source if s != Source.POLICE]  # police incidents come through their feed
CATEGORIES = [(c.value, c.value) for c in Category]
VULNERABLE = [(g.value, g.label) for g in VulnerableGroup]


@dataclass
class Preview:
    """What triage will make of the form as it stands, and the parties' open cases."""

    grading: Grading | None = None
    routing: Routing | None = None
    gap: str | None = None  # why there is no routing yet
    related: list[RelatedCase] = field(default_factory=list)


def preview(session: Session, data: dict, config: Settings, marks_key: bytes) -> Preview:
    shown = Preview()
    try:
        shown.grading = grade(RiskFactors.model_validate(data.get("factors", {})), config.policy().grading)
        place, category = Place.model_validate(data.get("place", {})), Category(data.get("category"))
    except (ValidationError, ValueError):
        shown.gap = "请先选择发生地和纠纷类型，并正确填写风险因素"
    else:
        problem = directory.place_problem(session, place.township_code, place.village_code)
        try:
            shown.routing = None if problem else directory.routing(session, place, shown.grading.grade, category)
        except LookupError:
            problem = ("", "目录中没有可承办的综治中心或职责清单，请联系管理员")
        shown.gap = problem and chinese(problem[1])
    parties = []
    for row in data.get("parties", []):
        try:
            parties.append(Party.model_validate(row))
        except ValidationError:
            continue  # its message comes with the registration
    marks = incidents.party_digests(parties, marks_key)
    shown.related = [RelatedCase.model_validate(row, from_attributes=True) for row in incidents.open_cases_about(session, marks)] if marks else []
    return shown


def filled(data: dict) -> dict:
    """The form as the API's body: a party row with nothing but its role is a row left blank."""
    parties = [row for row in data.get("parties", []) if set(row) - {"role"}]
    return {**data, "parties": parties} if parties else {key: value for key, value in data.items() if key != "parties"}


async def show(request: Request, make_session: sessionmaker[Session], principal: Principal, data: dict, status: int = 200, errors: dict | None = None,
               conflict: bool = False) -> Response:
    def read() -> tuple[list, Preview]:
        with make_session() as session:
            return directory.places(session, principal.jurisdiction_code), preview(session, data, settings(request), party_marks_key(request))

    places, shown = await run_in_threadpool(read)
    data.setdefault("client_request_id", f"window-{uuid.uuid4().hex}")
    rows = data.get("parties") or [{"role": "applicant"}, {"role": "respondent"}]
    return page(request, "intake.html", status=status, form=data, parties=[*rows, {"role": "other"}], errors=errors or {}, preview=shown, conflict=conflict,
                townships=[p for p in places if p.level == "township"], villages=[p for p in places if p.level == "village"],
                sources=SOURCES, categories=CATEGORIES, vulnerable=VULNERABLE)


@router.get("/console/intake")
async def intake_form(request: Request, principal: Operator, make_session: Sessions) -> Response:
    return await show(request, make_session, principal, {"source": Source.WINDOW.value})


@router.post("/console/intake/preview")
async def intake_preview(request: Request, principal: Operator, make_session: Sessions) -> Response:
    """The preview alone, for the form to refresh as it changes (htmx)."""
    data = filled(nest(await request.form(), LISTS))

    def read() -> Preview:
        with make_session() as session:
            return preview(session, data, settings(request), party_marks_key(request))

    return page(request, "_intake_preview.html", preview=await run_in_threadpool(read))


@router.post("/console/intake")
async def intake(request: Request, principal: Operator, make_session: Sessions, client: Annotated[Client, Depends(temporal)]) -> Response:
    form = await request.form()
    data = filled(nest(form, LISTS))
    if form.get("_action") == "preview":  # without script: the preview comes with the page
        return await show(request, make_session, principal, data)
    try:
        new = NewCase.model_validate(data)
        answer, _ = await register_case(new, principal, client, make_session, settings(request), party_marks_key(request))
    except ValidationError as bad:
        return await show(request, make_session, principal, data, 422, problems(bad))
    except OpenCasesAboutParties as found:
        listed = "、".join(case.case_no for case in found.related)
        message = f"当事人另有未结案件 {listed}：如为同一纠纷，请选择“并入此案”（重复来访）；如为另一纠纷，请写明另案登记理由后再登记"
        return await show(request, make_session, principal, data, 409, {"parties": message}, conflict=True)
    except HTTPException as refused:
        if refused.status_code not in (403, 409, 422):
            raise
        return await show(request, make_session, principal, data, refused.status_code, problems(refused))
    done = "joined" if answer.joined else "registered"
    return RedirectResponse(f"/console/cases/{answer.case_no}?done={done}", status_code=303)
