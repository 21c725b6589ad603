"""Case routes: register a dispute, read it, and answer its dispatch (response, feedback)."""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, NamedTuple

import structlog
from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage
from temporalio.common import Priority, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

import codec
from api.auth import Principal, allow, case_reader, visible_case
from api.deps import party_marks_key, sessions, settings, temporal
from api.views import CaseCreated, NewCase, Pending, Problem, RegistrationConflict, RelatedCase, in_beijing_time
from domain.case import REVISION, CaseFile, Intake, Place
from domain.case_number import is_case_number
from domain.decisions import (
    AlertAcknowledgement, Decision, ConfirmationApplication, ConsentedExtension, CourtDecision, Decline, Extension, GradeOverride, Handover, LevelUp,
    MediationResult, MediationSession, NewFacts, PartnerReply, PauseRequest, ReferralAnswer, RepeatVisit, ResumeRequest, ReturnVisit,
    UnitFeedback, UnitResponse,
)
from domain.grading import QUEUE_PRIORITY, grade
from domain.labels import Role
from domain.state import CaseState
from domain.timezone import as_shanghai
from settings import Settings
from store import calendars, directory, incidents, lookup, register
from workflows.clock import beijing
from workflows.dispute_case import DisputeCaseWorkflow

router = APIRouter(prefix="/cases", tags=["cases 案件"])
log = structlog.get_logger("api")

NOT_FOUND = {404: {"model": Problem, "description": "no such case"}}
REFUSED = {
    **NOT_FOUND,
    503: {"model": Problem, "description": "Temporal is busy or restarting: send it again"},
    403: {"model": Problem, "description": "the caller's role or center may not take this decision, or acts for a unit or mediator that does not hold the case"},
    409: {"model": Problem, "description": "the case is not at the stage this decision belongs to"},
    422: {"model": Problem, "description": "a value the case cannot take (the detail names the field), or a malformed body"},
}
# Validators raise these ApplicationError types; anything else a case refuses is a conflict.
STATUS_BY_REFUSAL = {"WrongActor": 403, "OutOfTurn": 409, "BadField": 422}


def case_handle(case_no: str, client: Annotated[Client, Depends(temporal)]) -> WorkflowHandle:
    if not is_case_number(case_no):
        raise HTTPException(404, f"案件 {case_no} 不存在 (no such case)")
    structlog.contextvars.bind_contextvars(case_no=case_no)
    return client.get_workflow_handle_for(DisputeCaseWorkflow.run, case_no)


@router.post(
    "",
    status_code=201,
    response_model=CaseCreated,
    responses={200: {"model": CaseCreated, "description": "this client_request_id was registered before: the same answer; or the registration joined the open case join_case names (joined: true)"},
               409: {"model": RegistrationConflict, "description": "the client_request_id was used for a different registration; or the parties have open "
                                                                   "cases (related_open_cases) and the registration sends neither join_case nor separate_reason"},
               422: {"model": Problem, "description": "a bad field, named; join_case is not an open case about these parties"}},
    summary="登记受理一件纠纷 register a dispute",
)
async def create_case(
    new: NewCase,
    response: Response,
    operator: Annotated[Principal, Depends(allow(Role.OPERATOR))],
    client: Annotated[Client, Depends(temporal)],
    make_session: Annotated[sessionmaker[Session], Depends(sessions)],
    config: Annotated[Settings, Depends(settings)],
    marks_key: Annotated[bytes, Depends(party_marks_key)],
) -> CaseCreated | JSONResponse:
    try:
        answer, is_new = await register_case(new, operator, client, make_session, config, marks_key)
    except OpenCasesAboutParties as found:
        return JSONResponse(status_code=409, content=jsonable_encoder(in_beijing_time(found.conflict())))
    if not is_new:
        response.status_code = 200
    return answer


async def register_case(new: NewCase, operator: Principal, client: Client, make_session: sessionmaker[Session], config: Settings,
                        marks_key: bytes) -> tuple[CaseCreated, bool]:
    """统一受理 by an operator, whatever the page (the API's POST /cases, the console's form): the
    case registered (True: new), the same answer again, or the open case joined; OpenCasesAboutParties
    while the parties have open cases and it says neither join_case nor separate_reason; else an
    HTTPException naming the field."""
    intake = Intake.model_validate(new.model_dump(exclude={"client_request_id", "join_case"}))
    marks = incidents.party_digests(intake.parties, marks_key)

    def decide(session: Session) -> Registration:
        check_place(session, intake.place)
        if operator.role != Role.ADMIN and operator.jurisdiction_code not in directory.ancestry(session, intake.place.township_code):
            raise HTTPException(403, f"place.township_code: {intake.place.township_code} 不在您的辖区 {operator.jurisdiction_code} 内 (outside your jurisdiction)")
        try:
            return settle_registration(session, config, new, intake, marks, marks_key, operator)
        except register.RequestReused as reused:
            raise HTTPException(409, f"client_request_id 已用于另一份登记（案件 {reused}）(request id reused with different content)")

    # Serialised with the police feed's incidents about the same parties: neither misses the other's new case.
    async with incidents.parties_serialised(make_session, marks) as session:
        outcome = await run_in_threadpool(decide, session)
        if outcome.case is not None:
            await start_case(client, config, outcome.case, session)  # inside: an intake that finds this case can join it
    answer = outcome.answer
    structlog.contextvars.bind_contextvars(case_no=answer.case_no)
    if outcome.join:
        visit = RepeatVisit(request_id=new.client_request_id, source=intake.source, summary=intake.summary, operator=operator.name,
                            signed_in=operator.signed_in)
        joined = await join_open_case(client, answer.case_no, DisputeCaseWorkflow.join_registration, visit, f"registration-{new.client_request_id}",
                                      lambda state: visit.request_id in state.joined_registrations, "该登记")
        if not joined:
            raise HTTPException(422, f"join_case: 案件 {answer.case_no} 已办结，不能并入 (the case closed)")
        await run_in_threadpool(record_join, make_session, new.client_request_id, intake, answer.case_no)
    log.info("case registered" if outcome.is_new else "registration joined a case" if answer.joined else "case registration repeated",
             new=outcome.is_new, operator=operator.id)
    return in_beijing_time(answer), outcome.is_new


@dataclass
class Registration:
    answer: CaseCreated
    is_new: bool = False
    case: CaseFile | None = None  # to start (or a retry's: its start may not have got through; never a settled case's)
    join: bool = False  # the open case is still to be told (join_registration)


class OpenCasesAboutParties(Exception):
    """The parties have open cases and the registration says neither which to join nor why it stands apart."""

    def __init__(self, related: list[RelatedCase]):
        self.related = related

    def conflict(self) -> RegistrationConflict:
        listed = "、".join(f"{c.case_no}（{c.category}，{c.township_name or c.township_code}，{beijing(c.received_at)} 受理）" for c in self.related)
        return RegistrationConflict(
            detail=f"parties: 当事人另有未结案件 {listed}。如为同一纠纷，请以 join_case 填写案件编号并入该案；如为另一纠纷，请以 separate_reason 写明理由另案登记 "
                   "(the parties have open cases: send join_case to join one, or separate_reason to register a different matter)",
            related_open_cases=self.related,
        )


def settle_registration(session: Session, config: Settings, new: NewCase, intake: Intake, marks: list[str], marks_key: bytes, by: Principal) -> Registration:
    """What an operator's registration is, while no other intake about its parties is settled: one
    answered before (the same answer), a repeat visit joining the open case it names, or a new case
    — refused (OpenCasesAboutParties, nothing claimed) while the parties have open cases, unless it
    says why it stands apart: then it records them."""
    earlier = register.answered_before(session, new.client_request_id, intake, new.join_case)
    if earlier is not None and earlier.joined:
        return Registration(CaseCreated(case_no=earlier.case_no, received_at=earlier.received_at, url=f"/cases/{earlier.case_no}", joined=True))
    related = [RelatedCase.model_validate(row, from_attributes=True) for row in incidents.open_cases_about(session, marks)]
    if earlier is not None:  # a retry: the cases it was registered apart from are those received before it
        related = [c for c in related if c.received_at < earlier.received_at]
    elif new.join_case is not None:
        chosen = next((c for c in related if c.case_no == new.join_case), None)
        if chosen is None:
            open_ones = "、".join(c.case_no for c in related) or "无"
            raise HTTPException(422, f"join_case: {new.join_case} 不是这些当事人的未结案件（可并入：{open_ones}）(not an open case about these parties)")
        return Registration(CaseCreated(case_no=chosen.case_no, received_at=chosen.received_at, url=f"/cases/{chosen.case_no}", joined=True), join=True)
    elif related and new.separate_reason is None:
        raise OpenCasesAboutParties(related)
    case, is_new, finished = register_intake(session, config, new.client_request_id, intake, marks, marks_key, by, related=[c.case_no for c in related])
    answer = CaseCreated(case_no=case.case_no, received_at=case.received_at, url=f"/cases/{case.case_no}", related_open_cases=related)
    return Registration(answer, is_new=is_new, case=None if finished else case)


def record_join(make_session: sessionmaker[Session], client_request_id: str, intake: Intake, case_no: str) -> None:
    with make_session() as session:
        register.record_join(session, client_request_id, intake, case_no, datetime.now(UTC))


def check_place(session: Session, place: Place) -> None:
    """422 naming the field when the place is not a township (and village) of the directory."""
    problem = directory.place_problem(session, place.township_code, place.village_code)
    if problem:
        field, message = problem
        raise HTTPException(422, f"place.{field}: {message}")


class Claim(NamedTuple):
    case: CaseFile
    is_new: bool
    finished: bool  # a repeat of a registration whose case has settled: its workflow must not run again


def register_intake(session: Session, config: Settings, client_request_id: str, intake: Intake, marks: list[str], marks_key: bytes, by: Principal,
                    related: list[str] | None = None) -> Claim:
    """统一受理, whatever the door (operators, the police feed): the case number this request id
    claims, new or the one it got before (register.RequestReused when it came with other content),
    and the case in the register with its parties' marks and lookup digests (便民服务, keyed by
    `marks_key` too) — before the answer, so the case can be
    read (and scoped) at once; the workflow's own write of it is then a no-op. `related`: the
    parties' open cases it was registered apart from."""
    number, received_at, is_new = register.claim_case_number(session, client_request_id, intake, config.county_code, datetime.now(UTC))
    policy = config.policy()
    place = intake.place.village_code or intake.place.township_code
    case = CaseFile(case_no=number, intake=intake, received_at=received_at, policy=policy, revision=REVISION, related_open_cases=related or [],
                    calendars=calendars.case_calendars(session, place, policy.clocks.office_hours, as_shanghai(received_at).date()))
    lookup.remember(session, number, lookup.digests(marks_key, number, intake.parties))  # committed with the case row
    register.record_intake(session, case, marks, by.signed_in)
    return Claim(case, is_new, finished=not is_new and register.is_settled(session, number))


def party_mark_key(config: Settings) -> bytes:
    """The key of the party marks. Unset, it is derived (HMAC as a KDF) from the payload key that
    seals new payloads: no second secret to deploy, and the marks are as secret as the payloads.
    Rotating that key changes new marks; a mark only has to match within the incident link window,
    so that loses links across the rotation only (set party_mark_key to keep them)."""
    if config.party_mark_key is not None:
        return config.party_mark_key.get_secret_value().encode()
    keys, current = codec.configured_keys(config)
    return hmac.new(keys[current], b"onedoor party marks", hashlib.sha256).digest()


async def start_case(client: Client, config: Settings, case: CaseFile, session: Session) -> None:
    """The case's workflow, once and only once: USE_EXISTING, so a retried request whose first start got
    through joins the running case, and REJECT_DUPLICATE, so a repeat after the case closed never starts a
    second run of it (the server's default would). Past the history's retention Temporal forgets the id:
    callers do not call this for a case the register has settled (Claim.finished).
    Its priority on the task queues is the grade its intake shows; the workflow keeps it at the case's grade from triage on."""
    intake = case.intake
    priority = Priority(priority_key=QUEUE_PRIORITY[grade(intake.factors, case.policy.grading).grade])
    # The list's summary column in the Temporal UI: the township by name beside its code.
    named = await run_in_threadpool(directory.names, session, [intake.place.township_code])
    place = f"{named[intake.place.township_code]}（{intake.place.township_code}）" if named else intake.place.township_code
    try:
        await client.start_workflow(
            DisputeCaseWorkflow.run,
            case,
            id=case.case_no,
            task_queue=config.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            priority=priority,
            static_summary=f"{case.case_no} · {intake.category}纠纷 · {place} · {intake.source.label}受理",
        )
    except WorkflowAlreadyStartedError:
        pass  # finished long ago: it is the same case


async def join_open_case(client: Client, case_no: str, update, argument, update_id: str, already: Callable[[CaseState], bool], what: str) -> bool:
    """Tell the open case about its parties of a further intake (a police incident, a repeat visit):
    it counts it and re-grades. The update's id is the intake's, so a repeat of it (retried, or sent
    at once) joins once. False when the case has closed meanwhile."""
    handle = client.get_workflow_handle_for(DisputeCaseWorkflow.run, case_no)
    try:
        await handle.execute_update(update, argument, id=update_id)
        return True
    except WorkflowUpdateFailedError as refused:
        state = await handle.query(DisputeCaseWorkflow.status)
        if already(state):
            return True  # a copy of it got there first
        if not state.stage.is_open:
            return False
        raise HTTPException(409, f"案件 {case_no} 未接受{what} (the case refused it): {refused.cause}")
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise  # the app answers 503
        return False  # an update to a finished workflow: the case is over


async def ask(handle: WorkflowHandle, call):
    """Run a Temporal call on a case, turning its refusals into HTTP answers."""
    try:
        return await call
    except WorkflowUpdateFailedError as refused:
        cause = refused.cause
        if isinstance(cause, ApplicationError):
            raise HTTPException(STATUS_BY_REFUSAL.get(cause.type, 409), cause.message)
        raise
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise  # the app answers 503
    # An update to a finished workflow is also NOT_FOUND: tell a closed case from a missing one.
    try:
        await handle.describe()
    except RPCError:
        raise HTTPException(404, "案件不存在 (no such case)")
    raise HTTPException(409, "案件已办结，不再接受该操作 (case is closed)")


@router.get("/{case_no}", response_model=CaseState, responses=NOT_FOUND, summary="案件当前状态 the case as it stands",
            dependencies=[Depends(case_reader(*Role))])
async def get_case(handle: Annotated[WorkflowHandle, Depends(case_handle)]) -> CaseState:
    return in_beijing_time(await ask(handle, handle.query(DisputeCaseWorkflow.status)))


# A unit, body or court, or a mediator, decides only in its own name.
ACTS_FOR = {"unit_code": "unit_code", "body_code": "unit_code", "court_code": "unit_code", "partner_code": "unit_code", "mediator_id": "mediator_id"}


@dataclass(frozen=True)
class DecisionKind:
    """One decision a case takes (POST /cases/{case_no}/<path>): its workflow update, its body and who may take it."""

    path: str
    update: Callable
    body_type: type[Decision]
    summary: str
    roles: tuple[Role, ...]

    @property
    def in_name_of(self) -> str | None:
        return next((field for field in ACTS_FOR if field in self.body_type.model_fields), None)


async def take(kind: DecisionKind, handle: WorkflowHandle, principal: Principal, body: Decision, config: Settings) -> CaseState | None:
    """The decision, by a caller already allowed to take it on this case (its role and scope): in
    their own name only, bound to them whatever the body said, then awaited (None: still taking effect)."""
    own = getattr(principal, ACTS_FOR[kind.in_name_of]) if kind.in_name_of else None
    if own is not None and getattr(body, kind.in_name_of) != own:
        raise HTTPException(403, f"{kind.in_name_of}: 只能以本人/本单位（{own}）名义办理 (you act for {own} only)")
    body = body.model_copy(update={"signed_in": principal.signed_in})
    state = await ask(handle, take_decision(handle, kind.update, body, config.decision_wait))
    log.info("decision taken", decision=kind.path, by=principal.id, pending=state is None)
    return state


async def decide_case(kind: DecisionKind, case_no: str, body: Decision, principal: Principal, client: Client, make_session: sessionmaker[Session],
                      config: Settings) -> CaseState | None:
    """What the decision's route checks before it takes it (role, then the case in scope), for a page
    that has the signed-in Principal already (the console): the same decision, the same refusals."""
    await allow(*kind.roles)(principal)
    handle = case_handle(case_no, client)
    await visible_case(case_no, principal, make_session)
    return await take(kind, handle, principal, body, config)


def decision_route(kind: DecisionKind) -> None:
    """POST /cases/{case_no}/<path>: one decision, delivered to the case as a workflow update."""

    async def decide(
        body: kind.body_type,  # type: ignore[name-defined]
        handle: Annotated[WorkflowHandle, Depends(case_handle)],
        principal: Annotated[Principal, Depends(case_reader(*kind.roles))],
        config: Annotated[Settings, Depends(settings)],
    ) -> CaseState | JSONResponse:
        state = await take(kind, handle, principal, body, config)
        if state is None:
            url = f"/cases/{handle.id}"
            pending = Pending(case_no=handle.id, url=url, detail=f"决定已受理，正在生效，请稍后查看 {url} (accepted, still taking effect)")
            return JSONResponse(pending.model_dump(), status_code=202)
        return in_beijing_time(state)

    decide.__name__ = kind.path.replace("/", "_")
    responses = {**REFUSED, 202: {"model": Pending, "description": "accepted, and still taking effect after decision_wait: read the case at url"}}
    router.add_api_route(f"/{{case_no}}/{kind.path}", decide, methods=["POST"], response_model=CaseState, responses=responses, summary=kind.summary)


async def take_decision(handle: WorkflowHandle, update, body, wait: timedelta) -> CaseState | None:
    """The decision, accepted by the case's validators, then awaited until it has taken effect (the case
    answers once its process has acted on it); None when that takes longer than `wait` (the register or a
    unit's system slow): the decision stands, the answer says so instead of holding the window."""
    running = await handle.start_update(update, body, wait_for_stage=WorkflowUpdateStage.ACCEPTED)
    try:
        return await running.result(rpc_timeout=wait)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return None


W, OPERATOR, UNIT, MEDIATOR, SUPERVISOR = DisputeCaseWorkflow, Role.OPERATOR, Role.UNIT, Role.MEDIATOR, Role.SUPERVISOR
DECISIONS = {kind.path: kind for kind in (DecisionKind(*row) for row in [
    ("response", W.respond, UnitResponse, "承办单位响应 a unit acknowledges its dispatch", (UNIT,)),
    ("feedback", W.give_feedback, UnitFeedback, "承办单位反馈 a unit reports how it handled the case", (UNIT,)),
    ("grade", W.override_grade, GradeOverride, "人工调整等级 an operator overrides the grade", (OPERATOR, SUPERVISOR)),
    ("facts", W.report_facts, NewFacts, "新情况重新研判 new facts re-grade the case", (OPERATOR, MEDIATOR)),
    ("pause", W.pause, PauseRequest, "暂停计时 pause the clocks while waiting on a party", (OPERATOR, MEDIATOR)),
    ("resume", W.resume, ResumeRequest, "恢复计时 resume the clocks", (OPERATOR, MEDIATOR)),
    ("extensions", W.extend, Extension, "延长时限 a supervisor extends a deadline", (SUPERVISOR,)),
    ("decline", W.decline, Decline, "不予受理 the center does not take the case", (OPERATOR,)),
    ("mediation/sessions", W.record_session, MediationSession, "记录调解 record a mediation session", (MEDIATOR,)),
    ("mediation/result", W.conclude_mediation, MediationResult, "调解结果 agreement, failure, refusal or withdrawal", (MEDIATOR,)),
    ("mediation/extension", W.extend_mediation, ConsentedExtension, "延长调解期限 with both parties' consent", (MEDIATOR,)),
    ("alert/ack", W.acknowledge_alert, AlertAcknowledgement, "确认红色预警 a leader acknowledges the emergency alert", (SUPERVISOR,)),
    ("referral/acceptance", W.answer_referral, ReferralAnswer, "转介受理 the backstop body accepts the referral", (UNIT,)),
    ("confirmation/application", W.apply_confirmation, ConfirmationApplication, "申请司法确认 a party applies for judicial confirmation", (OPERATOR,)),
    ("confirmation/decision", W.court_decision, CourtDecision, "司法确认裁定 the court's decision", (UNIT,)),
    ("visit", W.record_visit, ReturnVisit, "回访 the return visit's finding", (OPERATOR, SUPERVISOR)),
    ("handover", W.hand_over, Handover, "交办 a higher center assigns the case down a level", (SUPERVISOR,)),
    ("escalation", W.lift, LevelUp, "提级 a supervisor lifts the case to the next level up", (SUPERVISOR,)),
    ("partner/reply", W.partner_reply, PartnerReply, "跨省协作回复 the partner center answers (joint mediation)", (UNIT,)),
])}
for kind in DECISIONS.values():
    decision_route(kind)
