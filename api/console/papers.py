"""The console's print links: a case's papers (onedoor/papers/) answered exactly as the API's
GET /cases/{case_no}/papers/{kind} answers them, behind the console's session. A mediator may print
the agreement of a case they mediate (the parties sign it before them, 人民调解法 §29); every other
paper is the window's and the supervisors', as the archive is."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import Principal, allow
from api.console.cases import Temporal, read_case
from api.console.web import ConsoleRoute, viewer
from api.papers import paper_response
from onedoor import papers
from onedoor.domain.labels import Role

router = APIRouter(route_class=ConsoleRoute)
ARCHIVISTS = (Role.OPERATOR, Role.SUPERVISOR)


@router.get("/console/cases/{case_no}/papers/{kind}")
async def paper(case_no: str, kind: papers.Kind, request: Request, principal: Annotated[Principal, Depends(viewer)], client: Temporal,
                format: Literal["html", "pdf"] = "html", order: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    await allow(*ARCHIVISTS, *((Role.MEDIATOR,) if kind == "agreement" else ()))(principal)
    await read_case(request, principal, client, case_no)  # 404 outside the caller's scope (a mediator's: their cases)
    return await paper_response(request.app.state.sessions, case_no, kind, format, order)
