"""督办 from above: a supervisor's order travels to the case as a signal and to the unit as a message."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from temporalio.client import WorkflowHandle

from api.auth import Principal, case_reader
from api.cases import NOT_FOUND, ask, case_handle
from api.views import Problem
from onedoor.domain.decisions import SupervisionRequest
from onedoor.domain.labels import Role
from onedoor.domain.routing import centers_from
from workflows.dispute_case import DisputeCaseWorkflow

router = APIRouter(prefix="/cases", tags=["cases 案件"])
log = structlog.get_logger("api")


class SupervisionAccepted(BaseModel):
    case_no: str
    unit_code: str
    order: str


@router.post(
    "/{case_no}/supervision",
    status_code=202,
    response_model=SupervisionAccepted,
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "the case is closed, or not dispatched yet"},
               403: {"model": Problem, "description": "the supervisor's center is not above the center handling the case"},
               422: {"model": Problem, "description": "unit_code is not a unit of this case"}},
    summary="督办 a higher center orders a unit to act on the case",
)
async def supervise(
    request: SupervisionRequest,
    handle: Annotated[WorkflowHandle, Depends(case_handle)],
    principal: Annotated[Principal, Depends(case_reader(Role.SUPERVISOR))],
) -> SupervisionAccepted:
    return await send_order(handle, principal, request)


async def send_order(handle: WorkflowHandle, principal: Principal, request: SupervisionRequest) -> SupervisionAccepted:
    """The order, checked against the case as it stands (a signal cannot refuse), then sent: the route's
    and the console's form's one way. The caller has checked the role and that the case is in scope."""
    state = await ask(handle, handle.query(DisputeCaseWorkflow.status))
    if not state.stage.is_open:
        raise HTTPException(409, "案件已办结，不能督办 (case is closed)")
    unit = request.unit_code or state.lead_unit
    if unit is None:
        raise HTTPException(409, "案件尚未派单，没有可督办的单位 (not dispatched yet)")
    if state.assignment(unit) is None:
        raise HTTPException(422, f"unit_code: {unit} 不是本案承办或协办单位 (not a unit of this case)")
    if principal.role != Role.ADMIN and principal.jurisdiction_code not in centers_from(state.level, state.centers, above_only=True):
        raise HTTPException(403, f"督办须由上级综治中心发出：本案由{state.level.label}级综治中心（{state.jurisdiction_code}）办理，"
                                 f"您属于 {principal.jurisdiction_code} (only a center above the handling one supervises it)")
    await handle.signal(DisputeCaseWorkflow.supervise, request.model_copy(update={"unit_code": unit, "signed_in": principal.signed_in}))
    log.info("supervision order sent", by=principal.id, unit=unit)
    return SupervisionAccepted(case_no=state.case_no, unit_code=unit, order=request.order)
