"""The supervisor's pages: the worklists (red, overdue now, due today, waiting on a party, awaiting the
referral's acceptance, near breach, the ledger, a unit's inbox), each by township and unit and each
as the API's Excel file; and on the case page (api/console/cases.py) the supervisor's part — the
orders, alerts and escalations, the link into the Temporal UI's history of the case, and the
supervisor's decisions. A list is the API's own reading (api.worklists.answer) with the signed-in
Principal; an order is api.supervision.send_order, the other decisions api.cases.decide_case."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Principal, visible_case
from api.cases import case_handle
from api.console.cases import case_page
from api.console.web import ConsoleRoute, nest, page, problems, role, templates
from api.deps import sessions, temporal
from api.supervision import send_order
from api.worklists import LISTS, ListQuery, Reader, answer, inbox_reader
from onedoor.domain.case_number import is_case_number
from onedoor.domain.decisions import SupervisionRequest
from onedoor.domain.labels import Category, ClockName, Level, RiskGrade, Role, Stage
from onedoor.domain.routing import LADDER
from onedoor.domain.state import CaseState
from onedoor.store import directory
from onedoor.store.tables import Jurisdiction, Unit

router = APIRouter(route_class=ConsoleRoute)
Reading = Annotated[Principal, Depends(role(Role.OPERATOR, Role.SUPERVISOR))]  # who reads the API's lists
Supervisor = Annotated[Principal, Depends(role(Role.SUPERVISOR))]
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
Temporal = Annotated[Client, Depends(temporal)]
INBOX = "inbox"  # a unit's open dispatches: the API's /worklists/units/{unit}/inbox
MULTIPLE = frozenset({"category", "grade", "stage", "level"})  # the filters a list takes several of
PAGE_SIZE = 50
# How long a supervisor may extend a clock by: the API's `by` as ISO 8601.
EXTENSIONS = [("PT2H", "2 小时"), ("PT4H", "4 小时"), ("P1D", "1 天"), ("P2D", "2 天"), ("P3D", "3 天"), ("P7D", "7 天"), ("P15D", "15 天"), ("P30D", "30 天")]


# The worklists -------------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The places and units a reader's lists may be narrowed to: their jurisdiction and below (an admin's: all)."""

    places: list[tuple[str, str]]
    units: list[tuple[str, str]]


def scope_of(make_session: sessionmaker[Session], principal: Principal) -> Scope:
    with make_session() as session:
        codes = None if principal.role == Role.ADMIN else directory.jurisdiction_and_below(session, principal.jurisdiction_code or "")
        places = select(Jurisdiction).order_by(Jurisdiction.code)
        units = select(Unit).order_by(Unit.jurisdiction_code, Unit.code)
        if codes is not None:
            places, units = places.where(Jurisdiction.code.in_(codes)), units.where(Unit.jurisdiction_code.in_(codes))
        return Scope(places=[(j.code, f"{j.name}（{j.code}）") for j in session.scalars(places)],
                     units=[(u.code, f"{u.name}（{u.code}）") for u in session.scalars(units)])


def filters(request: Request) -> dict:
    """The page's filters as the API's query takes them: blank ones left out, the repeatable ones as lists."""
    given: dict = {}
    for name, value in request.query_params.multi_items():
        if value.strip():
            given.setdefault(name, []).append(value.strip()) if name in MULTIPLE else given.__setitem__(name, value.strip())
    return given


def reader(name: str, principal: Principal, unit: str | None) -> tuple[Reader, str, str]:
    """The list's reading, its title and the name its file takes."""
    if name == INBOX:
        if not unit:
            raise HTTPException(422, "unit: 请选择单位 (choose a unit)")
        return inbox_reader(principal, unit), f"{unit} 待办 inbox", f"inbox-{unit}"
    if name not in LISTS:
        raise HTTPException(404, f"没有工作清单 {name} (no such worklist)")
    read, title, _ = LISTS[name]
    return read, title, name


LIST_NAMES = [(name, title.split()[0]) for name, (_, title, _) in LISTS.items()] + [(INBOX, "单位待办")]


async def counted(request: Request, principal: Principal, make_session: sessionmaker[Session]) -> dict[str, int]:
    counts = {}
    for name, (read, title, _) in LISTS.items():
        if name != "ledger":
            counts[name] = (await answer(request, ListQuery(limit=1), principal, make_session, name, title, read)).total
    return counts


@router.get("/console/worklists")
async def worklists_page(request: Request, principal: Reading, make_session: Sessions, case_no: str | None = None) -> Response:
    """Each list's count in the reader's scope, by township: where to start. `case_no`: a case looked up by its
    number (a citizen on the phone, a paper in hand), opened on its page — which answers 404 outside the scope."""
    if case_no is not None:
        wanted = case_no.strip()
        if is_case_number(wanted):
            return RedirectResponse(f"/console/cases/{wanted}", status_code=303)
        counts = await counted(request, principal, make_session)
        return page(request, "worklists.html", status=422, lists=LIST_NAMES, counts=counts, given=case_no,
                    errors={"case_no": "案件编号格式为 县级代码-年份-六位序号，如 139001-2026-000042"})
    return page(request, "worklists.html", lists=LIST_NAMES, counts=await counted(request, principal, make_session), given="", errors={})


@router.get("/console/worklists/{name}")
async def worklist_page(name: str, request: Request, principal: Reading, make_session: Sessions) -> Response:
    """One list, filtered as the API's is; `format=xlsx` (or csv) answers the API's file of the whole list."""
    given = filters(request)
    unit = given.pop("unit", None)
    scope = await run_in_threadpool(scope_of, make_session, principal)
    shown = {"name": name, "lists": LIST_NAMES, "scope": scope, "given": given, "unit": unit, "grades": labelled(RiskGrade), "stages": labelled(Stage),
             "categories": [(c.value, c.value) for c in Category], "levels": labelled(Level)}
    try:
        read, title, file_name = reader(name, principal, unit)
        listed = await answer(request, ListQuery.model_validate(given | {"limit": PAGE_SIZE}), principal, make_session, file_name, title, read)
    except (ValidationError, HTTPException) as refused:
        status = refused.status_code if isinstance(refused, HTTPException) else 422
        if status not in (404, 422) or (status == 404 and name not in LISTS and name != INBOX):
            raise
        errors = {field.split(".")[0]: message for field, message in problems(refused).items()}  # grade.0: the grade filter
        return page(request, "worklist.html", status=status, errors=errors, listed=None, title=dict(LIST_NAMES).get(name, name), **shown)
    if isinstance(listed, Response):  # the file, as GET /worklists/… answers it
        return listed
    return page(request, "worklist.html", errors={}, listed=listed, title=title.split()[0], **shown)


def labelled(kind: Iterable) -> list[tuple[str, str]]:
    return [(member.value, member.label) for member in kind]


# The supervisor's part of the case page ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Supervising:
    """What the supervisor's forms offer on this case."""

    units: list[tuple[str, str]]  # the case's units, its lead first
    clocks: list[tuple[str, str]]  # the kinds of clock open now that a supervisor may extend
    lower: list[tuple[str, str]]  # the levels with a center below the one handling it (交办)
    lifting: bool  # a level with a center above (提级)
    handled: bool  # a level handles it now (dispatched or handling): 提级 and 交办 apply
    alert: object | None  # the red alert awaiting its acknowledgement


def supervising(case: CaseState, names: dict[str, str]) -> Supervising:
    codes = list(dict.fromkeys([*([case.lead_unit] if case.lead_unit else []), *(a.unit_code for a in case.assignments)]))
    kinds = dict.fromkeys(c.name for c in case.clocks if c.is_open and c.name != ClockName.MEDIATION)  # mediation: only with both parties' consent
    here = LADDER.index(case.level) if case.level else None
    centers = {Level(level): code for level, code in case.centers.items()}
    alert = case.alerts[-1] if case.alerts and case.alerts[-1].acknowledged_at is None else None
    return Supervising(
        units=[(code, f"{names.get(code, code)}（{code}）") for code in codes],
        clocks=[(name.value, name.label) for name in kinds],
        lower=[(level.value, f"{level.label}级 · {names.get(centers[level], centers[level])}") for level in LADDER[:here or 0] if level in centers],
        lifting=here is not None and any(level in centers for level in LADDER[here + 1:]),
        handled=case.stage in (Stage.DISPATCHED, Stage.HANDLING),
        alert=alert,
    )


def history_url(request: Request, case_no: str) -> str:
    """The case's history in the Temporal UI the API serves at its root (api/ui.py): its workflow id is the case number."""
    return f"/namespaces/{quote(request.app.state.settings.temporal_namespace)}/workflows/{quote(case_no)}"


templates.globals |= {"supervising": supervising, "history_url": history_url, "extensions": EXTENSIONS, "grades": labelled(RiskGrade)}


@router.post("/console/cases/{case_no}/supervision")
async def order(case_no: str, request: Request, principal: Supervisor, client: Temporal, make_session: Sessions) -> Response:
    """督办 from the case page: the API's order (a signal the case cannot refuse, so checked first), the same refusals."""
    data = nest(await request.form())
    try:
        handle = case_handle(case_no, client)
        await visible_case(case_no, principal, make_session)
        await send_order(handle, principal, SupervisionRequest.model_validate(data))
    except (ValidationError, HTTPException) as refused:
        status = refused.status_code if isinstance(refused, HTTPException) else 422
        if status not in (403, 409, 422):
            raise
        return await case_page(request, principal, client, case_no, status, {"supervision": problems(refused)}, {"supervision": data})
    return RedirectResponse(f"/console/cases/{case_no}?done=supervision#supervise", status_code=303)
