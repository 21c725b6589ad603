"""Household files (家庭和谐服务档案): list and read them from the register; grid workers record visits."""

from datetime import datetime, timezone
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, computed_field
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, allow, effective_scope, may_see_place
from api.deps import sessions, temporal
from api.views import Problem, in_beijing_time
from onedoor.domain.bounds import Offset
from onedoor.domain.household import HouseholdStatus, VisitReport
from onedoor.domain.labels import RiskGrade, Role
from onedoor.store import directory, households
from onedoor.store.tables import GridWorker, Household
from workflows.household import HouseholdWorkflow, household_workflow_id

# Files hold a family's address: only signed-in staff read them (scoping by township comes with the roles).
router = APIRouter(prefix="/households", tags=["households 家庭和谐服务档案"])
# Grid workers sign in as operators of their township; the file shows the family's address.
Staff = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.SUPERVISOR))]
log = structlog.get_logger("api")
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
NOT_FOUND = {404: {"model": Problem, "description": "no such household file"}}


class HouseholdView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    township_code: str
    village_code: str | None
    risk: RiskGrade | None
    status: HouseholdStatus
    grid_worker_id: str | None
    case_count: int
    opened_at: datetime
    next_visit_at: datetime | None
    closed_at: datetime | None

    @computed_field(description="走访逾期: the visit's due time has passed")
    @property
    def visit_overdue(self) -> bool:
        return self.status == HouseholdStatus.OPEN and self.next_visit_at is not None and self.next_visit_at < datetime.now(timezone.utc)


class VisitView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    visitor: str
    risk: RiskGrade | None
    notes: str


class HouseholdDetail(HouseholdView):
    address: str
    grid_worker_name: str | None
    cases: list[str]
    visits: list[VisitView]


class HouseholdPage(BaseModel):
    total: int
    items: list[HouseholdView]


@router.get("", response_model=HouseholdPage, summary="档案列表 household files, riskiest and most urgent first")
async def list_households(
    make_session: Sessions,
    principal: Staff,
    township_code: str | None = None,
    risk: RiskGrade | None = None,
    status: HouseholdStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[Offset, Query()] = 0,
) -> HouseholdPage:
    def read() -> HouseholdPage:
        with make_session() as session:
            scope = effective_scope(session, principal, township_code, "township_code")
            townships = directory.jurisdiction_and_below(session, scope) if scope else None
            rows, total = households.households(session, townships, risk, status, limit, offset)
            return HouseholdPage(total=total, items=[HouseholdView.model_validate(row) for row in rows])

    return in_beijing_time(await run_in_threadpool(read))


def detail(make_session: sessionmaker[Session], household_id: str, principal: Principal) -> HouseholdDetail:
    with make_session() as session:
        row = session.get(Household, household_id)
        if row is None or not may_see_place(session, principal, row.township_code):
            raise HTTPException(404, f"没有家庭和谐服务档案 {household_id} (no such household file)")
        worker = session.get(GridWorker, row.grid_worker_id) if row.grid_worker_id else None
        return HouseholdDetail(
            **HouseholdView.model_validate(row).model_dump(exclude={"visit_overdue"}),
            address=row.address,
            grid_worker_name=worker.name if worker else None,
            cases=households.case_numbers(session, household_id),
            visits=[VisitView.model_validate(v) for v in households.visits(session, household_id)],
        )


@router.get("/{household_id}", response_model=HouseholdDetail, responses=NOT_FOUND, summary="档案详情 the file: risk, next visit, cases, visits")
async def get_household(household_id: str, make_session: Sessions, principal: Staff) -> HouseholdDetail:
    return in_beijing_time(await run_in_threadpool(detail, make_session, household_id, principal))


@router.post(
    "/{household_id}/visits",
    status_code=201,
    response_model=HouseholdDetail,
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "the file is closed"},
               503: {"model": Problem, "description": "Temporal is busy or restarting: send it again"}},
    summary="登记走访 a grid worker records a visit",
)
async def record_visit(
    household_id: str, report: VisitReport, make_session: Sessions, client: Annotated[Client, Depends(temporal)],
    principal: Annotated[Principal, Depends(allow(Role.OPERATOR))],
) -> HouseholdDetail:
    closed = HTTPException(409, "本户档案已销档，不再走访 (household file is closed)")
    if (await run_in_threadpool(detail, make_session, household_id, principal)).status == HouseholdStatus.CLOSED:
        raise closed
    handle = client.get_workflow_handle_for(HouseholdWorkflow.run, household_workflow_id(household_id))
    try:
        await handle.execute_update(HouseholdWorkflow.record_visit, report)
    except WorkflowUpdateFailedError as refused:  # the validator's reason
        raise HTTPException(409, refused.cause.message if isinstance(refused.cause, ApplicationError) else str(refused))
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise closed  # the file closed since the register was read
        raise  # the app answers 503
    log.info("household visit recorded", household_id=household_id)
    return in_beijing_time(await run_in_threadpool(detail, make_session, household_id, principal))
