"""The papers the console prints, as A4 pages for the browser's print (to paper or PDF): the
受理告知书 an operator hands over at the window, and the 调解协议书 a mediator has the parties sign
(人民调解法 §28–§29). Minimal on purpose and kept here alone: the center's finished papers may
replace these two templates without touching the pages that link to them."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import Principal, allow
from api.console.cases import Temporal, read_case
from api.console.web import ConsoleRoute, page, viewer
from domain.labels import MediationOutcome, Role
from store.tables import Case

router = APIRouter(route_class=ConsoleRoute)
# Who prints what: the parties' names and the terms are on both, so not a unit's to print.
PRINTERS = {"acceptance": (Role.OPERATOR, Role.SUPERVISOR), "agreement": (Role.MEDIATOR, Role.OPERATOR, Role.SUPERVISOR)}
ROLE_WORDS = {"applicant": "申请人", "respondent": "被申请人", "other": "其他当事人"}


@router.get("/console/cases/{case_no}/papers/{paper}")
async def paper(case_no: str, paper: str, request: Request, principal: Annotated[Principal, Depends(viewer)], client: Temporal) -> Response:
    if paper not in PRINTERS:
        raise HTTPException(404, "页面不存在 (no such page)")
    await allow(*PRINTERS[paper])(principal)
    state, names = await read_case(request, principal, client, case_no)  # 404 outside the caller's scope
    mediation = state.mediation
    if paper == "agreement" and (mediation is None or mediation.outcome != MediationOutcome.AGREEMENT):
        raise HTTPException(409, "本案尚未达成调解协议，没有调解协议书可打印 (no agreement)")

    def parties() -> tuple[list[dict], str]:
        with request.app.state.sessions() as session:
            row = session.get(Case, case_no)
            return list(row.parties), row.summary

    listed, summary = await run_in_threadpool(parties)
    return page(request, f"paper_{paper}.html", case=state, names=names, parties=listed, summary=summary, role_words=ROLE_WORDS, mediation=mediation)
