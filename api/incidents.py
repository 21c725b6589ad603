"""警情流转 inbound: the police platform transfers its dispute-type incidents. The same incident always
gives the same case; a further incident about the same parties joins their open case and re-grades it."""

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Principal, signed_in
from api.cases import check_place, join_open_case, register_intake, start_case
from api.deps import party_marks_key, sessions, settings, temporal
from api.views import Problem
from onedoor.domain.case import CaseFile, Intake
from onedoor.domain.documents import PoliceIncidentDocument
from onedoor.domain.decisions import IncidentLink
from onedoor.domain.labels import Role, UnitKind
from onedoor.settings import Settings
from onedoor.store import incidents, register
from onedoor.store.tables import Unit
from workflows.dispute_case import DisputeCaseWorkflow

router = APIRouter(prefix="/incidents", tags=["incidents 警情流转"])
log = structlog.get_logger("api")



class IncidentAccepted(BaseModel):
    case_no: str
    incident_id: str
    linked: bool = Field(description="the incident joined an open case about the same parties, instead of opening one")
    url: str


async def police_platform(
    principal: Annotated[Principal, Depends(signed_in)],
    make_session: Annotated[sessionmaker[Session], Depends(sessions)],
) -> Principal:
    """A dependency: the caller, if it is the police platform's system (a unit key of a unit of kind
    police), or an admin."""

    def is_police_unit() -> bool:
        with make_session() as session:
            unit = session.get(Unit, principal.unit_code) if principal.unit_code else None
            return unit is not None and unit.kind == UnitKind.POLICE.value

    if principal.role == Role.ADMIN or (principal.role == Role.UNIT and await run_in_threadpool(is_police_unit)):
        return principal
    raise HTTPException(403, f"{principal.role.label}无权执行此操作，仅限{UnitKind.POLICE.label}系统 (police platform only)")


@dataclass
class Outcome:
    case_no: str
    linked: bool
    is_new: bool = False
    join: bool = False  # the open case is still to be told (link_incident)


@router.post(
    "",
    status_code=201,
    response_model=IncidentAccepted,
    responses={
        200: {"model": IncidentAccepted, "description": "the incident was transferred before (the same case), or it joined an open case about the same parties"},
        403: {"model": Problem, "description": "not the police platform's system"},
        409: {"model": Problem, "description": "the incident id was sent before with other content, or the open case refused the incident"},
    },
    summary="警情流转：接收纠纷类警情 receive a dispute-type police incident",
)
async def receive_incident(
    incident: PoliceIncidentDocument,
    response: Response,
    caller: Annotated[Principal, Depends(police_platform)],
    client: Annotated[Client, Depends(temporal)],
    make_session: Annotated[sessionmaker[Session], Depends(sessions)],
    config: Annotated[Settings, Depends(settings)],
    marks_key: Annotated[bytes, Depends(party_marks_key)],
) -> IncidentAccepted:
    structlog.contextvars.bind_contextvars(incident_id=incident.incident_id)
    intake = incident.intake()
    marks = incidents.party_digests(intake.parties, marks_key)
    outcome = await settle(incident, intake, marks, marks_key, make_session, client, config, caller, may_join=True)
    if outcome.join:
        if await join(client, outcome.case_no, incident, caller):
            await run_in_threadpool(record_join, make_session, incident, outcome)
        else:  # it closed after the register said it was open: the incident opens its own case
            outcome = await settle(incident, intake, marks, marks_key, make_session, client, config, caller, may_join=False)
    log.info("incident received", case_no=outcome.case_no, linked=outcome.linked, new=outcome.is_new, by=caller.id)
    if not outcome.is_new:
        response.status_code = 200
    return IncidentAccepted(case_no=outcome.case_no, incident_id=incident.incident_id, linked=outcome.linked, url=f"/cases/{outcome.case_no}")


async def settle(incident: PoliceIncidentDocument, intake: Intake, marks: list[str], marks_key: bytes, make_session: sessionmaker[Session], client: Client,
                 config: Settings, caller: Principal, may_join: bool) -> Outcome:
    """What the incident is: one seen before, a further one about the parties of an open case, or a
    new case (registered and started while no other incident about these parties is settled)."""

    def decide(session: Session) -> tuple[Outcome, CaseFile | None]:
        check_place(session, intake.place)
        seen = incidents.known(session, incident.incident_id)
        if seen is not None and seen.linked:
            return Outcome(seen.case_no, linked=True), None
        if seen is None and may_join and not incidents.claimed(session, incident.incident_id):
            open_case = incidents.open_case_about(session, marks, since=incident.reported_at - config.incident_link_window)
            if open_case is not None:
                return Outcome(open_case, linked=True, join=True), None
        try:
            case, is_new, finished = register_intake(session, config, incidents.request_id(incident.incident_id), intake, marks, marks_key, caller)
        except register.RequestReused as reused:
            raise HTTPException(409, f"incident_id: 该警情已以不同内容流转过（案件 {reused}）(incident sent before with other content)")
        incidents.record(session, incident.incident_id, case.case_no, linked=False, reported_at=incident.reported_at)
        return Outcome(case.case_no, linked=False, is_new=is_new), None if finished else case

    async with incidents.parties_serialised(make_session, marks) as session:
        outcome, case = await run_in_threadpool(decide, session)
        if case is not None:
            await start_case(client, config, case, session)  # inside: an incident that finds this case can tell it
    return outcome


async def join(client: Client, case_no: str, incident: PoliceIncidentDocument, caller: Principal) -> bool:
    """Tell the open case of the further incident (it counts one more police call and re-grades);
    False when the case has closed meanwhile."""
    link = IncidentLink(incident_id=incident.incident_id, reported_at=incident.reported_at, summary=incident.summary, signed_in=caller.signed_in)
    return await join_open_case(client, case_no, DisputeCaseWorkflow.link_incident, link, f"incident-{incident.incident_id}",
                                lambda state: incident.incident_id in state.linked_incidents, "该警情")


def record_join(make_session: sessionmaker[Session], incident: PoliceIncidentDocument, outcome: Outcome) -> None:
    with make_session() as session:
        incidents.record(session, incident.incident_id, outcome.case_no, linked=True, reported_at=incident.reported_at)
