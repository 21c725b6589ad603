"""A case as the console shows it (what GET /cases/{case_no} answers, names beside codes, clocks with
their time left), and the decisions a page takes on it: a unit's response and feedback, a
mediator's sessions and result. Each is the API's decision (api.cases.decide_case) with the
signed-in Principal; a refusal comes back beside the form it was sent from."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Principal, visible_case
from api.cases import DECISIONS, ask, case_handle, decide_case
from api.console.home import local
from api.console.web import ConsoleRoute, nest, page, problems, viewer
from api.deps import sessions, settings, temporal
from api.views import in_beijing_time
from onedoor.domain.labels import ClockStatus, HandlingMode, MediationOutcome, Role
from onedoor.domain.state import CaseState
from onedoor.domain.timezone import as_shanghai
from onedoor.store import directory
from workflows.dispute_case import DisputeCaseWorkflow

router = APIRouter(route_class=ConsoleRoute)
Viewer = Annotated[Principal, Depends(viewer)]
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
Temporal = Annotated[Client, Depends(temporal)]
# The decisions the console's pages take; the others stay the API's for now.
ON_PAGES = ("response", "feedback", "mediation/sessions", "mediation/result", "extensions", "escalation", "handover", "alert/ack", "grade", "visit")
DONE = {"registered": "已登记受理。", "joined": "已并入该案，计为重复来访。", "response": "已响应。", "feedback": "已反馈。",
        "mediation/sessions": "已记录本次调解。", "mediation/result": "已记录调解结果。", "pending": "决定已受理，正在生效，请稍后刷新查看。",
        "supervision": "督办令已发出：已记入本案并发送至该单位系统。", "extensions": "时限已延长。", "escalation": "已提级办理。", "handover": "已交办下级。",
        "alert/ack": "已确认红色预警。", "grade": "等级已调整。", "visit": "已记录回访。"}
MODES = [(m.value, m.label) for m in HandlingMode]
OUTCOMES = [(o.value, o.label) for o in MediationOutcome]


async def read_case(request: Request, principal: Principal, client: Client, case_no: str) -> tuple[CaseState, dict[str, str]]:
    """The case as GET /cases/{case_no} answers it (404 outside the caller's scope), and the directory's names of its places and units."""
    handle = case_handle(case_no, client)
    await visible_case(case_no, principal, request.app.state.sessions)
    state = in_beijing_time(await ask(handle, handle.query(DisputeCaseWorkflow.status)))

    def names() -> dict[str, str]:
        with request.app.state.sessions() as session:
            codes = [state.township_code, *state.centers.values(), *(a.unit_code for a in state.assignments), *(c.unit_code for c in state.clocks if c.unit_code)]
            return directory.names(session, codes)

    return state, await run_in_threadpool(names)


async def case_page(request: Request, principal: Principal, client: Client, case_no: str, status: int = 200, errors: dict | None = None,
                    form: dict | None = None) -> Response:
    state, names = await read_case(request, principal, client, case_no)
    mine = [a for a in state.assignments if a.level == state.level and (principal.role == Role.ADMIN or a.unit_code == principal.unit_code)]
    mediation = state.mediation
    mediating = mediation is not None and mediation.outcome is None and (principal.role == Role.ADMIN or mediation.mediator_id == principal.mediator_id)
    return page(request, "case.html", status=status, case=state, names=names, mine=mine if state.stage.is_open else [], mediating=mediating,
                errors=errors or {}, form=form or {}, done=DONE.get(request.query_params.get("done", "")), today=as_shanghai(datetime.now(UTC)).date().isoformat(),
                modes=MODES, outcomes=OUTCOMES, live=(ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.BREACHED))


@router.get("/console/cases/{case_no}")
async def show_case(case_no: str, request: Request, principal: Viewer, client: Temporal) -> Response:
    return await case_page(request, principal, client, case_no)


@router.post("/console/cases/{case_no}/{path:path}")
async def act(case_no: str, path: str, request: Request, principal: Viewer, client: Temporal, make_session: Sessions) -> Response:
    """One decision from a form of the case page or the inbox; `_back` is where to go once it is taken."""
    if path not in ON_PAGES:
        raise HTTPException(404, "页面不存在 (no such page)")
    kind, form = DECISIONS[path], await request.form()
    data = nest(form)
    try:
        state = await decide_case(kind, case_no, kind.body_type.model_validate(data), principal, client, make_session, settings(request))
    except ValidationError as bad:
        return await case_page(request, principal, client, case_no, 422, {path: problems(bad)}, {path: data})
    except HTTPException as refused:
        if refused.status_code not in (403, 409, 422):
            raise
        return await case_page(request, principal, client, case_no, refused.status_code, {path: problems(refused)}, {path: data})
    back = local(form.get("_back") if isinstance(form.get("_back"), str) else None)
    back = back if back != "/console" else f"/console/cases/{case_no}"
    return RedirectResponse(f"{back}?done={'pending' if state is None else path}", status_code=303)
