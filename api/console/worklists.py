"""The lists people work from: a unit's inbox (the dispatches it must answer, every clock with its
time left, and the supervision orders addressed to it) and a mediator's cases. The same register
readings as the API's worklists and notices, for the signed-in unit or mediator only; an admin,
who may act in any role, names the unit or the mediator."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.console.web import ConsoleRoute, page, role
from api.deps import sessions
from domain.labels import ClockName, Role, Stage
from store import notices, worklists
from store.tables import Mediator, Unit

router = APIRouter(route_class=ConsoleRoute)
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
ORDERS = ("breach", "supervision")  # 督办: a breached clock's, and a supervisor's


def own(principal: Principal, tie: str, asked: str | None) -> str:
    code = getattr(principal, tie) if principal.role != Role.ADMIN else asked
    if not code:
        raise HTTPException(422, f"{tie}: 管理员请在地址中指明 ?{tie}= (an admin names the {tie})")
    return code


def in_directory(session: Session, table: type[Unit] | type[Mediator], code: str, tie: str, what: str):
    row = session.get(table, code)
    if row is None:
        raise HTTPException(404, f"{tie}: {what} {code} 不在目录中 (not in the directory)")
    return row


@router.get("/console/inbox")
async def inbox(request: Request, principal: Annotated[Principal, Depends(role(Role.UNIT))], make_session: Sessions, unit_code: str | None = None) -> Response:
    unit = own(principal, "unit_code", unit_code)

    def read():
        with make_session() as session:
            name = in_directory(session, Unit, unit, "unit_code", "单位").name
            listed = worklists.unit_inbox(session, unit, worklists.Filters(), limit=200)
            clocks = worklists.unit_clocks(session, unit, [row.case_no for row in listed.rows])
            orders = notices.listed(session, notices.Filters(recipients=[unit], kinds=ORDERS), limit=20)
            return name, listed, clocks, orders.rows

    name, listed, clocks, orders = await run_in_threadpool(read)
    return page(request, "inbox.html", unit=unit, unit_name=name, listed=listed, clocks=clocks, orders=orders, response=ClockName.RESPONSE.value)


@router.get("/console/mediation")
async def mediation(request: Request, principal: Annotated[Principal, Depends(role(Role.MEDIATOR))], make_session: Sessions,
                    mediator_id: str | None = None) -> Response:
    mediator = own(principal, "mediator_id", mediator_id)

    def read():
        with make_session() as session:
            name = in_directory(session, Mediator, mediator, "mediator_id", "调解员").name
            handling = worklists.mediator_cases(session, mediator, worklists.Filters(), limit=200)
            concluded = worklists.mediator_cases(session, mediator, worklists.Filters(stages=(Stage.CLOSED.value,)), limit=20, open_only=False)
            return name, handling, concluded

    name, handling, concluded = await run_in_threadpool(read)
    return page(request, "mediation.html", mediator_name=name, handling=handling, concluded=concluded)
