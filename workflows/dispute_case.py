"""DisputeCaseWorkflow: one dispute from intake to 案结事了, every deadline a durable timer.

intake → triage (grade, level, units; red → emergency alert) → at each level: dispatch to the
lead and co-units (response and feedback clocks each) and mediate (mediation clock) → the level
ends in agreement, failure, refusal, withdrawal, a breach or a decline → failure or breach
escalates one level (village → township → county → city); at the top, or on refusal, the
judicial backstop takes it → agreement may go for judicial confirmation → closure with a result
→ return visit: satisfied settles the case, unsatisfied reopens it.

People's decisions arrive as updates whose validators check the actor and the stage, so a
refused decision never enters the history. Rules and numbers come from domain/ and the case's
policy snapshot; every side effect is an activity.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.backstop import choose_backstop
    from onedoor.domain.case import CaseFile
    from onedoor.domain.documents import PartnerNoticeDocument, PoliceStatusDocument, SupervisionDocument
    from onedoor.domain.clocks import deadline, relaid, time_left
    from onedoor.domain.decisions import (
        SignedIn, AlertAcknowledgement, ConfirmationApplication, ConsentedExtension, CourtDecision, Decline, Extension, GradeOverride, Handover,
        IncidentLink, LevelUp, MediationResult, applied_to, MediationSession, NewFacts, PartnerReply, PauseRequest, ReferralAnswer, RepeatVisit, ResumeRequest,
        ReturnVisit, SupervisionRequest, UnitFeedback, UnitResponse,
    )
    from onedoor.domain.grading import QUEUE_PRIORITY, UNSET_PRIORITY, grade
    from onedoor.domain.household import HouseholdLink
    from onedoor.domain.labels import (
        Role, Audience, Backstop, Channel, ClockName, ClockStatus, Level, MediationOutcome, NoticeKind, PoliceStatus, Result, RiskGrade, Stage,
        StepKind, UnitKind,
    )
    from onedoor.domain.messages import (
        AlertNotice, BackstopRequest, ClockNotice, DispatchOrder, DispatchReceipt, LinkPick, LinkRequest, MediatorPick, MediatorRequest,
        Notice, PriorityChange, RouteRequest, Routing, StepParts, StepRecord,
    )
    from onedoor.domain.documents import DispatchDocument, ReferralDocument
    from onedoor.domain.calendar import CaseCalendars, WorkCalendar
    from onedoor.domain.policy import ClockRule, ClockSet
    from onedoor.domain.routing import LADDER, Route, centers_from, handling_level, next_center
    from onedoor.domain.timezone import as_shanghai
    from onedoor.domain.state import (
        Alert, Assignment, CaseState, Clock, Confirmation, Escalation, GradeChange, HandoverRecord, Mediation, PartnerLink, Pause,
        Referral, Session, Step, SupervisionOrder, Visit,
    )
    from workflows import search_attributes as sa
    from workflows.clock import HANDOFF, Arming, ClockRunner, beijing, wait_until

# Register reads and writes are quick, idempotent and local to the worker: local activities, one
# marker event each and no task-queue round trip. Retried patiently (the database may be restarting).
REGISTER = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
# A hung endpoint must not hold a worker slot: each attempt is short, retries back off to 5 min.
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
DELIVERY_ATTEMPT = timedelta(seconds=15)
# A notice is a local activity: one marker event and no round trip through the server (as an
# activity, three events and a workflow task more per notice); retried until sent, stale after a day.
NOTICE = dict(start_to_close_timeout=DELIVERY_ATTEMPT, schedule_to_close_timeout=timedelta(days=1), retry_policy=DELIVERY_RETRY)
SYSTEM = "系统"  # the actor of what the clocks decide


async def send_notice(notice: Notice, **about: str) -> None:
    """A notice through the notify local activity (the notification port), for cases and household files."""
    try:
        await workflow.execute_local_activity("notify", notice, summary=f"通知{notice.audience.label}：{NoticeKind(notice.kind).label}", **NOTICE)
    except ActivityError as failure:  # a notice is not worth holding the workflow for: the log says why
        workflow.logger.warning("notice not sent", extra={**about, "notice": notice.key, "error": str(failure.cause or failure)})


class OutOfTurn(ApplicationError):
    """Raised by validators; the API turns it into 409 with this message."""

    def __init__(self, message: str):
        super().__init__(message, type="OutOfTurn", non_retryable=True)


class WrongActor(ApplicationError):
    """Raised by validators; the API turns it into 403 with this message."""

    def __init__(self, message: str):
        super().__init__(message, type="WrongActor", non_retryable=True)


class BadField(ApplicationError):
    """Raised by validators for a value the case cannot take; the API turns it into 422 with this message (it names the field)."""

    def __init__(self, message: str):
        super().__init__(message, type="BadField", non_retryable=True)


@dataclass
class LevelEnd:
    """What ended the handling at a level."""

    kind: str  # agreement | failed | refused | withdrawn | breach | regraded | lifted | declined | handover
    reason: str
    by: str
    backstop: Backstop | None = None
    to_level: Level | None = None


@workflow.defn
class DisputeCaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseFile) -> None:
        self.case = case
        intake = case.intake
        self.factors = intake.factors.model_copy(deep=True)
        self.state = CaseState(
            case_no=case.case_no,
            stage=Stage.RECEIVED,
            source=intake.source,
            category=intake.category,
            township_code=intake.place.township_code,
            received_at=case.received_at,
        )
        self.route: Route | None = None
        # What the Temporal UI shows beside codes and as the last step (current details): the directory's
        # names from routing, and a step's label, never its note (which may hold a person's words).
        self.names: dict[str, str] = {}
        self.last_step = ""
        self.reasons_shown: list[str] = []  # the grade's reasons as the UI shows them: an override's own words left out
        self.runners: list[ClockRunner] = []
        self.level_end: LevelEnd | None = None
        self.visit: Visit | None = None
        self.reopen_up = False  # an unsatisfied visit asked to reopen one level up
        self.seek_confirmation = False
        self.emergency: asyncio.Task | None = None
        self.recorded = 0  # register steps written: numbers each step's key
        self.audited = self.audit_fields()  # the fields as the audit log last saw them
        # Revision 2 (domain.case.REVISION): deliveries, notices and the police feed run beside the
        # process instead of holding it; revision-1 cases keep their recorded commands.
        self.background = case.revision >= 2
        self.breach_first = case.revision >= 4  # revision 4: a clock's notice recorded before it is told; a breach alone in its task
        self.quiet_breach = case.revision >= 6  # revision 6: a breach's search attributes are published with its notices
        self.requeues = case.revision >= 5  # revision 5: the queue priority follows the grade (keep_priority)
        # Revision 7: lateness is supervised, not a verdict — a breach sends its 督办 to the unit's system, and at the top
        # of the ladder (or where policy keeps breaches in place) the case stays with its unit under a new clock; a red
        # alert goes to the level that will handle the case; every police incident joined to the case hears its statuses.
        self.supervised = case.revision >= 7
        # Revision 7: a decision's answer shows the case after the process acted on it (taken_up).
        self.answers_after = case.revision >= 7
        self.handed = self.taken = 0  # decisions handed to the process, and how many of them it has acted on
        self.duty_clocks = case.revision >= 7 and case.policy.clocks.follow_rota  # revision 7: a rotating unit's clocks start on duty
        # Revision 9: clocks count on the calendars the case carries (its handling center's); before, on the policy's office
        # hours over the holiday library of the worker (WorkCalendar.legacy).
        self.calendars = case.calendars if case.revision >= 9 else None
        self.office = WorkCalendar.legacy(case.policy.clocks.office_hours)
        self.queue_priority = workflow.info().priority.priority_key or UNSET_PRIORITY
        self.side_tasks: list[asyncio.Task] = []
        self.notices = 0
        self.police_feed: list[PoliceStatusDocument] = []
        self.police_sent = 0
        self.police_platform: str | None = None
        self.police_sender: asyncio.Task | None = None
        if case.intake.incident is not None:
            self.state.incident_id = case.intake.incident.incident_id
        self.state.related_open_cases, self.state.separate_reason = case.related_open_cases, intake.separate_reason

    @workflow.run
    async def run(self, case: CaseFile) -> CaseState:
        await self.intake()
        await self.triage()
        while True:
            result, note = await self.resolve()
            await self.close(result, note)
            if await self.return_visit():
                break
            await self.reopen()
        await self.settle()
        return self.state

    # ── the process ──────────────────────────────────────────────────────────────────────

    async def intake(self) -> None:
        await workflow.execute_local_activity("record_intake", self.case, summary="登记受理", **REGISTER)
        note = f"{self.case.intake.source.label}受理：{self.case.intake.category}纠纷{self.case.separation()}"
        self.note_step(Stage.RECEIVED, note, self.case.received_at)
        self.publish(StepKind.RECEIVED.label)
        if self.background:
            self.tell_parties("received", f"您反映的{self.case.intake.category}纠纷已登记受理，案件编号 {self.case.case_no}，可凭编号查询办理进度。")
            await self.report_to_police(PoliceStatus.RECEIVED, note)

    async def triage(self) -> None:
        grading = grade(self.factors, self.case.policy.grading)
        self.set_grade(grading.grade, grading.reasons, by=SYSTEM)
        await self.keep_priority()  # red by a police call that came before triage: first in the queue from here on
        await self.reroute(level=None)
        await self.advance(Stage.TRIAGED, f"评定为{grading.grade.label}色（{'；'.join(grading.reasons)}），由{self.route_text()}承办")
        if grading.grade == RiskGrade.RED:
            self.start_emergency()
        await self.link_household()
        if self.background:
            await self.notify_partner()

    async def link_household(self) -> None:
        """家庭和谐服务档案: a dispute about a family joins the family's file, which follows the family up."""
        address = self.case.intake.household_address
        # No patch needed: a case with an address never ran on code without this step (the
        # field did not exist, and intake refuses unknown fields); old cases return here.
        if address is None:
            return
        household_id = await workflow.execute_local_activity(
            "link_household",
            HouseholdLink(case_no=self.case.case_no, grade=self.state.grade, at=self.case.received_at, place=self.case.intake.place,
                          address=address, policy=self.case.policy.household),
            result_type=str,
            summary="纳入家庭和谐服务档案",
            **REGISTER,
        )
        await self.record("household", None, f"纳入家庭和谐服务档案 {household_id}")

    async def resolve(self) -> tuple[Result, str]:
        """Handle the case level by level until it has a result."""
        while True:
            end = await self.handle_at_level()
            if end.kind == "agreement":
                return await self.confirm_agreement()
            if end.kind == "withdrawn":
                return Result.WITHDRAWN, end.reason
            if end.kind == "declined":
                return Result.NOT_ACCEPTED, end.reason
            if end.kind == "handover":
                await self.hand_down(end)
                continue
            target = end.to_level or next_center(self.state.level, self.state.centers)
            if end.kind in ("failed", "breach", "regraded", "lifted") and target is not None:
                await self.escalate(target, end.reason, end.by)
                continue
            return await self.refer(end.backstop, end.reason)

    async def handle_at_level(self) -> LevelEnd:
        await self.dispatch()
        await self.wait_for_people(lambda: self.level_end is not None)
        end, self.level_end = self.level_end, None
        self.end_clocks(level=self.state.level)
        return end

    async def dispatch(self) -> None:
        """一键派单: the lead unit and each co-unit get the case, each with its own clocks."""
        route, clocks, now = self.route, self.clock_set(), workflow.now()
        new = [
            Assignment(unit_code=unit, lead=unit == route.lead_unit, level=route.level, dispatched_at=now)
            for unit in (route.lead_unit, *route.co_units)
        ]
        waiting = []  # rotating units off duty now: their clocks start at their next duty day's opening
        started = []  # the clocks' ids, for the dispatch's paper (派单/转办单)
        for assignment in new:
            self.state.assignments.append(assignment)
            rota = route.rotas.get(assignment.unit_code) if self.duty_clocks else None
            response = self.start_clock(ClockName.RESPONSE, clocks.response, assignment.unit_code, lambda a=assignment: a.response is not None, rota)
            feedback = self.start_clock(ClockName.FEEDBACK, clocks.feedback, assignment.unit_code, lambda a=assignment: a.feedback is not None, rota)
            started += [response.id, feedback.id]
            if response.started_at > now:
                waiting.append(f"{assignment.unit_code} 轮驻，时限自 {beijing(response.started_at)} 值班起算")
        lead = self.state.clock(ClockName.RESPONSE, route.lead_unit)
        co = f"，协办 {'、'.join(route.co_units)}" if route.co_units else ""
        note = f"一键派单至 {route.lead_unit}{co}，{beijing(lead.due_at)} 前响应" + (f"（{'；'.join(waiting)}）" if waiting else "")
        await self.advance(Stage.DISPATCHED, note, parts=StepParts(clocks=started))
        if not self.background:
            await asyncio.gather(self.assign_mediator(), *(self.deliver_dispatch(a) for a in new))
            return
        for assignment in new:
            self.beside(self.deliver_dispatch(assignment))
        self.tell_parties("dispatched", f"案件 {self.case.case_no} 已派至 {route.lead_unit} 办理，承办单位将在 {beijing(lead.due_at)} 前与您联系。")
        await self.report_to_police(PoliceStatus.DISPATCHED, note, unit_code=route.lead_unit)
        await self.assign_mediator()

    async def deliver_dispatch(self, assignment: Assignment) -> None:
        unit = assignment.unit_code
        response, feedback = self.state.clock(ClockName.RESPONSE, unit), self.state.clock(ClockName.FEEDBACK, unit)
        together = [a for a in self.state.assignments if a.level == assignment.level and a.dispatched_at == assignment.dispatched_at]
        document = DispatchDocument(
            case_no=self.case.case_no, unit_code=unit, lead=assignment.lead, level=assignment.level,
            lead_unit=next(a.unit_code for a in together if a.lead), co_units=[a.unit_code for a in together if not a.lead and a.unit_code != unit],
            category=self.case.intake.category, grade=self.state.grade, grade_reasons=self.state.grade_reasons,
            summary=self.case.intake.summary, place=self.case.intake.place, parties=self.case.intake.parties,
            respond_by=response.due_at, feedback_by=feedback.due_at,
        )
        key = f"{self.case.case_no}:dispatch:{len(self.state.assignments)}:{unit}"
        assignment.delivery = await self.deliver(DispatchOrder(idempotency_key=key, document=document), feedback.due_at)

    async def deliver(self, order: DispatchOrder, give_up_at: datetime) -> str:
        """POST a document to an outside system (the gateway records a delivery in the register);
        a failure is recorded here, and the clocks keep running.

        Revision 2: retried with backoff for the policy's outage window, then the document waits in
        the unit's inbox and the handling center's operators are told."""
        delivery = self.case.policy.delivery
        retry = RetryPolicy(initial_interval=delivery.first_retry, maximum_interval=delivery.longest_retry) if self.background else DELIVERY_RETRY
        # Revision 1 gave up at the deadline, but at least one whole attempt; revision 2 at the window's end.
        give_up = delivery.outage_window if self.background else max(give_up_at - workflow.now(), DELIVERY_ATTEMPT)
        try:
            receipt = await workflow.execute_activity(
                "dispatch_to_unit",
                order,
                result_type=DispatchReceipt,
                summary=f"投递至 {self.named(order.recipient)} 的系统",
                start_to_close_timeout=min(DELIVERY_ATTEMPT, give_up),
                schedule_to_close_timeout=give_up,
                retry_policy=retry,
            )
            if receipt.channel == Channel.INBOX:
                return f"已推送至 {order.recipient} 收件箱"
            return f"系统已接收（回执 {receipt.unit_reference or receipt.status_code}）"
        except ActivityError as failure:
            if not self.background:
                note = f"{order.recipient} 系统投递失败：{failure.cause or failure}，可在收件箱办理，时限照常计算"
                await self.record("delivered", None, note)
                return note
            rejected = isinstance(failure.cause, ApplicationError) and failure.cause.type == "UnitRejected"
            why = f"系统拒收：{failure.cause.message}" if rejected else f"系统 {delivery.outage_window} 内未能接收"
            note = f"{order.recipient} {why}，已转入其收件箱办理，时限照常计算 (fell back to the inbox)"
            await self.record("fallback", None, note)
            self.tell(Audience.OPERATOR, self.state.jurisdiction_code or self.state.township_code, "fallback", f"案件 {self.case.case_no}：{note}")
            return note

    async def assign_mediator(self) -> None:
        route = self.route
        pick = await workflow.execute_local_activity(
            "assign_mediator",
            MediatorRequest(
                case_no=self.case.case_no,
                jurisdiction_code=route.jurisdiction_code,
                gold_first=self.state.grade in (RiskGrade.YELLOW, RiskGrade.RED),
                exclude=[m.mediator_id for m in self.state.mediations],
            ),
            result_type=MediatorPick,
            summary=f"指派{route.level.label}级调解员",
            **REGISTER,
        )
        mediation = Mediation(level=route.level, mediator_id=pick.mediator_id, mediator_name=pick.name, gold=pick.gold, started_at=workflow.now())
        self.state.mediations.append(mediation)
        clock = self.start_clock(ClockName.MEDIATION, self.clock_set().mediation, None, lambda: mediation.outcome is not None)
        gold = "金牌调解员" if pick.gold else "调解员"
        await self.record("mediator", None, f"{gold} {pick.name}（{pick.mediator_id}）主持调解，{beijing(clock.due_at)} 前调结")

    async def escalate(self, to_level: Level, reason: str, by: str) -> None:
        """分层递进: the case goes up with a new mediator and new units."""
        self.state.escalations.append(Escalation(at=workflow.now(), from_level=self.state.level, to_level=to_level, reason=reason, by=by))
        await self.reroute(level=to_level)
        await self.record("escalated", None, f"升级至{self.route_text()}：{reason}")
        if self.supervised and self.state.grade == RiskGrade.RED:
            self.start_emergency()  # a case made red on its way up alerts the leaders where it now is

    async def refer(self, kind: Backstop | None, reason: str) -> tuple[Result, str]:
        """司法兜底: refer to arbitration, the court, legal aid or a notary, and wait for acceptance."""
        kind = kind or choose_backstop(self.case.intake.category, self.case.intake.legal_aid_eligible)
        body = await workflow.execute_local_activity(
            "find_backstop_body",
            BackstopRequest(case_no=self.case.case_no, kind=kind, centers=self.state.centers),
            result_type=str,
            summary=f"查找{kind.label}机构",
            **REGISTER,
        )
        referral = Referral(kind=kind, body_code=body, sent_at=workflow.now())
        self.state.referral = referral
        clock = self.start_clock(ClockName.REFERRAL, self.clock_set().referral, body, lambda: referral.accepted_at is not None)
        await self.advance(Stage.REFERRAL, f"{reason}；转{kind.label}（{body}），{beijing(clock.due_at)} 前受理")
        document = ReferralDocument(
            case_no=self.case.case_no, body_code=body, kind=kind, category=self.case.intake.category,
            summary=self.case.intake.summary, place=self.case.intake.place, parties=self.case.intake.parties,
            mediation_history=[f"{m.level.label}：{m.outcome.label if m.outcome else '未调结'} {m.reason or ''}".strip() for m in self.state.mediations],
            accept_by=clock.due_at,
        )
        order = DispatchOrder(idempotency_key=f"{self.case.case_no}:referral:{len(self.state.clocks)}:{body}", document=document)
        if self.background:
            self.beside(self.deliver_referral(referral, order))
        else:
            referral.delivery = await self.deliver(order, clock.due_at + timedelta(days=30))
        await self.wait_for_people(lambda: referral.accepted_at is not None)
        return Result(kind.value), f"{kind.label}已受理（{body} 文号 {referral.reference}）"

    async def deliver_referral(self, referral: Referral, order: DispatchOrder) -> None:
        referral.delivery = await self.deliver(order, workflow.now())

    async def confirm_agreement(self) -> tuple[Result, str]:
        """司法确认: 人民调解法 §33, the parties apply within 30 days of the agreement taking effect."""
        terms = self.state.mediation.terms
        if not self.seek_confirmation:
            return Result.MEDIATED, f"达成调解协议：{terms}"
        confirmation = Confirmation()
        self.state.confirmation = confirmation
        clock = self.start_clock(ClockName.CONFIRMATION, self.clock_set().confirmation, None, lambda: confirmation.applied_at is not None)
        await self.advance(Stage.CONFIRMATION, f"调解协议生效，当事人可于 {beijing(clock.due_at)} 前申请司法确认")
        await self.wait_for_people(lambda: confirmation.applied_at is not None or clock.status == ClockStatus.BREACHED)
        if confirmation.applied_at is None:
            return Result.MEDIATED, f"达成调解协议：{terms}（未在期限内申请司法确认）"
        await self.wait_for_people(lambda: confirmation.decided_at is not None)
        if confirmation.confirmed:
            return Result.CONFIRMED, f"调解协议经 {confirmation.court_code} 司法确认（{confirmation.reference}），具有强制执行力"
        return await self.refer(Backstop.LITIGATION, f"司法确认申请被驳回（{confirmation.reference}）")

    async def close(self, result: Result, note: str) -> None:
        self.end_clocks()
        self.state.result, self.state.result_note, self.state.closed_at = result, note, workflow.now()
        await self.advance(Stage.CLOSED, f"结案：{result.label}。{note}")
        if self.background:
            self.tell_parties("closed", f"案件 {self.case.case_no} 已办结：{result.label}。{note}。工作人员将回访听取您的意见。")
            referred = result.value in {kind.value for kind in Backstop}
            status = PoliceStatus.NOT_ACCEPTED if result == Result.NOT_ACCEPTED else PoliceStatus.REFERRED if referred else PoliceStatus.RESOLVED
            await self.report_to_police(status, f"结案：{result.label}。{note}")

    async def return_visit(self) -> bool:
        """回访: satisfied → settled; unsatisfied → the case reopens."""
        self.visit = None
        self.start_clock(ClockName.RETURN_VISIT, self.clock_set().return_visit, None, lambda: self.visit is not None)
        await self.wait_for_people(lambda: self.visit is not None)
        return self.visit.satisfied

    async def reopen(self) -> None:
        self.state.result = self.state.result_note = self.state.closed_at = None
        self.state.confirmation = self.state.referral = None
        target = next_center(self.state.level, self.state.centers) if self.reopen_up else None
        reason = f"回访不满意，重新办理：{self.visit.notes}"
        if target is not None:
            await self.escalate(target, reason, self.visit.visitor)
        else:
            await self.record("reopened", None, reason)

    async def settle(self) -> None:
        self.end_clocks(final=True)
        if self.emergency is not None and not self.emergency.done():
            self.emergency.cancel()
        await asyncio.gather(*(r.task for r in self.runners))  # a reminder or breach being written finishes
        if self.answers_after:  # settled first: the visit's answer waits for it, and the run for that answer
            await self.advance(Stage.SETTLED, f"案结事了：{self.visit.notes}")
            self.taken = self.handed
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.side_tasks:  # deliveries, notices and the police feed get through first
            await asyncio.gather(*self.side_tasks)
        if not self.answers_after:
            await self.advance(Stage.SETTLED, f"案结事了：{self.visit.notes}")

    async def wait_for_people(self, condition) -> None:
        """The process waits on a person's decision: every decision handed to it so far has taken effect."""
        if not condition():
            self.taken = self.handed
        await workflow.wait_condition(condition)

    def handing(self) -> int:
        """A decision gives the process something to act on (it ends a level, answers what the process waits
        for): its number, for taken_up. Counted as it happens, so the process cannot pass it unseen."""
        self.handed += 1
        return self.handed

    async def taken_up(self, number: int | None) -> None:
        """Revision 7: the decision's answer waits until the process has acted on it and waits on people again,
        so it shows the case as it now stands (a refusal answers `referral`, not `dispatched`)."""
        if self.answers_after and number is not None:
            await workflow.wait_condition(lambda: self.taken >= number)

    async def hand_down(self, end: LevelEnd) -> None:
        """交办: the higher center sends the case down a level and keeps watching it."""
        watcher = self.state.centers[self.state.level]
        self.state.handovers.append(
            HandoverRecord(at=workflow.now(), from_level=self.state.level, to_level=end.to_level, by=end.by, reason=end.reason, watched_by=watcher)
        )
        await self.reroute(level=end.to_level)
        await self.record("handed_over", None, f"{watcher} 交办至{self.route_text()}：{end.reason}（上级跟踪督办）", by=end.by, role="supervisor")

    # ── links to outside systems: partner center, police platform, notifications ─────────

    async def find_link(self, kind: UnitKind, province_code: str | None = None) -> str | None:
        pick = await workflow.execute_local_activity(
            "find_link",
            LinkRequest(case_no=self.case.case_no, kind=kind, province_code=province_code),
            result_type=LinkPick,
            summary=f"查找{kind.label}",
            **REGISTER,
        )
        return pick.unit_code

    async def notify_partner(self) -> None:
        """跨省协作: a party living in another province brings in that province's partner center,
        which answers on its own clock; a late answer escalates the case like a late lead unit."""
        home = self.case.intake.place.township_code[:2]
        provinces = sorted({p.province_code for p in self.case.intake.parties if p.province_code and p.province_code != home})
        if not provinces:
            return
        code = await self.find_link(UnitKind.PARTNER, provinces[0])
        if code is None:
            note = f"当事人住所在外省（{provinces[0]}），目录中没有该省协作中心，请人工联系 (no partner center)"
            await self.record("partner", None, note)
            self.tell(Audience.OPERATOR, self.state.jurisdiction_code, "partner", f"案件 {self.case.case_no}：{note}")
            return
        partner = PartnerLink(partner_code=code, province_code=provinces[0], notified_at=workflow.now())
        self.state.partner = partner
        clock = self.start_clock(ClockName.PARTNER_REPLY, self.clock_set().partner_reply, code, lambda: partner.replied_at is not None)
        intake = self.case.intake
        document = PartnerNoticeDocument(
            partner_code=code, province_code=provinces[0], case_no=self.case.case_no, center_code=self.state.jurisdiction_code,
            category=intake.category, grade=self.state.grade, summary=intake.summary, place=intake.place, parties=intake.parties,
            reply_by=clock.due_at,
        )
        await self.record("partner", None, f"跨省协作：已通知 {code}（{provinces[0]}），{beijing(clock.due_at)} 前回复")
        self.beside(self.deliver_partner_notice(partner, DispatchOrder(idempotency_key=f"{self.case.case_no}:partner:{clock.id}:{code}", document=document)))

    async def deliver_partner_notice(self, partner: PartnerLink, order: DispatchOrder) -> None:
        partner.delivery = await self.deliver(order, workflow.now())

    async def report_to_police(self, status: PoliceStatus, note: str, unit_code: str | None = None, incident_id: str | None = None) -> None:
        """警情流转 back: every status of a case goes to the platform for each incident behind it (the one it
        came from, and from revision 7 each one joined to it), in order (one sender, one document at a time),
        retried until the platform acknowledges it; `incident_id`: to that incident only."""
        if self.supervised:
            incidents = [incident_id] if incident_id else [i for i in (self.state.incident_id, *self.state.linked_incidents) if i]
        else:
            incidents = [incident_id or self.state.incident_id] if self.state.incident_id else []
        if not incidents:
            return
        if self.police_platform is None:
            self.police_platform = await self.find_link(UnitKind.POLICE) or ""
            if not self.police_platform:
                await self.record("police", None, "目录中没有公安警情平台，警情状态无法回传 (no police platform in the directory)")
        if not self.police_platform:
            return
        self.police_feed += [
            PoliceStatusDocument(platform_code=self.police_platform, incident_id=incident, case_no=self.case.case_no,
                                 seq=len(self.police_feed) + 1 + n, status=status, at=workflow.now(), note=note, unit_code=unit_code)
            for n, incident in enumerate(incidents)
        ]
        if self.police_sender is None or self.police_sender.done():
            self.police_sender = self.beside(self.send_police_feed())

    async def send_police_feed(self) -> None:
        while self.police_sent < len(self.police_feed):
            document = self.police_feed[self.police_sent]
            try:
                await workflow.execute_activity(
                    "dispatch_to_unit",
                    DispatchOrder(idempotency_key=f"{self.case.case_no}:police:{document.seq}", document=document),
                    result_type=DispatchReceipt,
                    summary=f"警情回传 {document.seq}：{document.status.label}",
                    start_to_close_timeout=DELIVERY_ATTEMPT,
                    retry_policy=RetryPolicy(initial_interval=self.case.policy.delivery.first_retry, maximum_interval=self.case.policy.delivery.longest_retry),
                )
            except ActivityError as failure:  # refused (4xx): retrying cannot help, the operators follow up
                note = f"警情平台拒收状态 {document.seq}（{document.status.label}）：{failure.cause or failure}"
                await self.record("police", None, note)
                self.tell(Audience.OPERATOR, self.state.jurisdiction_code or self.state.township_code, "rejected", f"案件 {self.case.case_no}：{note}")
            self.police_sent += 1

    def beside(self, work) -> asyncio.Task:
        """Run work beside the process (a delivery, a notice, the police feed): settle() waits for it."""
        task = asyncio.create_task(work)
        self.side_tasks.append(task)
        return task

    def tell(self, audience: Audience, recipient: str | None, kind: str, text: str, phone: str | None = None) -> None:
        """A notification through the notification port (revision 2), sent beside the process."""
        if not self.background or not recipient:
            return
        self.notices += 1
        notice = Notice(key=f"{self.case.case_no}:notice:{self.notices}", case_no=self.case.case_no, audience=audience,
                        recipient=recipient, phone=phone, kind=kind, text=text)
        quiet = self.case.policy.notices
        # Revision 9: quiet hours hold a notice to a person until they end, unless the case is red.
        held = quiet.held_until(workflow.now()) if self.case.revision >= 9 and audience in quiet.quiet_for and self.state.grade != RiskGrade.RED else None
        self.beside(self.hold(held, notice) if held else send_notice(notice, case_no=self.case.case_no))

    async def hold(self, until: datetime, notice: Notice) -> None:
        """Held to the end of quiet hours; at once if the case turns red meanwhile (one told at intake is not graded yet)."""
        await wait_until(until, lambda: self.state.grade == RiskGrade.RED, f"免打扰：{notice.audience.label}通知留至 {beijing(until)}", Arming.of(self.case.revision))
        await send_notice(notice, case_no=self.case.case_no)

    def tell_parties(self, kind: str, text: str) -> None:
        for party in self.case.intake.parties:
            if party.phone:
                self.tell(Audience.PARTY, party.name, kind, text, phone=party.phone)

    # ── emergency handling (red) ─────────────────────────────────────────────────────────

    def start_emergency(self) -> None:
        if self.emergency is None:
            self.emergency = asyncio.create_task(self.alert_leaders())

    async def alert_leaders(self) -> None:
        """应急处置: alert the command center and the handling level's duty leader; unacknowledged
        within the window, the alert goes one leader up (the center's list, then the level above)."""
        window = self.clock_set().emergency_ack.length
        state = self.state
        chain = [(level, state.centers[level], leader) for level in LADDER[LADDER.index(state.level):] if level in state.centers
                 for leader in state.leaders.get(state.centers[level], [])]
        for level, center, leader in chain:
            alert = Alert(center_code=center, level=level, leader=leader, at=workflow.now(), due_at=workflow.now() + window)
            state.alerts.append(alert)
            text = f"红色预警：{self.case.intake.category}纠纷（{'；'.join(state.grade_reasons)}），请{level.label}级综治中心 {leader} 于 {beijing(alert.due_at)} 前确认"
            await workflow.execute_local_activity(
                "record_alert",
                AlertNotice(case_no=self.case.case_no, center_code=center, leader=leader, level=level, at=alert.at, due_at=alert.due_at, text=text),
                summary=f"应急处置：通知指挥中心和 {leader}",
                **REGISTER,
            )
            self.publish(f"红色预警：已通知{level.label}级 {self.named(center)} {leader}")
            self.tell(Audience.LEADER, leader, "alert", text)
            if await wait_until(alert.due_at, lambda: alert.acknowledged_at is not None, f"{leader} 确认时限 {beijing(alert.due_at)}",
                                Arming.of(self.case.revision)):
                return
            workflow.logger.warning("alert not acknowledged, going one leader up", extra={"case_no": self.case.case_no, "center": center})

    # ── clocks ───────────────────────────────────────────────────────────────────────────

    def clock_set(self) -> ClockSet:
        return self.case.policy.clocks.for_grade(self.state.grade)

    def calendar(self, level: Level | None) -> WorkCalendar:
        """The calendar a clock at this level counts on: its handling center's (revision 9)."""
        return self.calendars.of(self.state.centers.get(level or self.state.level)) if self.calendars else self.office

    def start_clock(self, name: ClockName, rule: ClockRule, unit_code: str | None, done, rota: list[int] | None = None) -> Clock:
        calendar = self.calendar(self.state.level)
        due = deadline(workflow.now(), rule, calendar, rota)
        clock = Clock(
            id=len(self.state.clocks), name=name, unit_code=unit_code, level=self.state.level, basis=rule.basis,
            started_at=due.started_at, due_at=due.due_at, remind_at=due.remind_at, later_reminders=due.later_reminders, calendar_note=due.calendar_note,
        )
        if due.calendar_note:
            workflow.logger.warning(due.calendar_note, extra={"case_no": self.case.case_no, "clock": name.value})
        self.state.clocks.append(clock)
        self.runners.append(ClockRunner(clock, done, calendar, self.remind, self.breach, Arming.of(self.case.revision), self.named))
        return clock

    def end_clocks(self, level: Level | None = None, final: bool = False) -> None:
        for runner in self.runners:
            if level is None or runner.clock.level == level:
                runner.end(final)

    def runner(self, name: ClockName, unit_code: str | None) -> ClockRunner | None:
        clock = self.state.clock(name, unit_code)
        return next((r for r in self.runners if r.clock is clock), None)

    async def remind(self, runner: ClockRunner) -> None:
        clock = runner.clock
        who = clock.unit_code or (self.state.mediation.mediator_name if clock.name == ClockName.MEDIATION else "当事人")
        text = f"催办：{who} 的{clock.name.label}将于 {beijing(clock.due_at)} 到期"
        await self.notify_clock("reminder", clock, None, text, runner.reminded)

    async def breach(self, runner: ClockRunner) -> None:
        """A clock ran out: a supervision order (督办) to the level above; a lead unit's or the
        mediation's breach also ends the handling at this level, which escalates the case."""
        clock = runner.clock
        if clock.name == ClockName.CONFIRMATION:
            await self.notify_clock("lapse", clock, None, "当事人未在30日内申请司法确认")
            return
        above = next_center(clock.level, self.state.centers) if clock.level else None
        who = clock.unit_code or (self.state.mediation.mediator_name if clock.name == ClockName.MEDIATION else "本级综治中心")
        late = f"{who} 未在{clock.name.label}内完成（应于 {beijing(clock.due_at)} 前），"
        ends_level = self.ends_level(clock)
        # Revision 7: lateness is not a verdict — only a level above (and the policy) lifts the case; at the top,
        # or where policy keeps it in place, the case stays with its unit under the order and a new clock.
        climbs = ends_level and (not self.supervised or (above is not None and self.case.policy.ladder.breach_escalates))
        if self.supervised and ends_level and not climbs:
            renewed = self.start_clock(clock.name, getattr(self.clock_set(), clock.name.value), clock.unit_code, runner.done)
            order = late + f"由{(above or clock.level).label}级综治中心督办，限 {beijing(renewed.due_at)} 前完成"
        else:
            order = late + (f"提请{above.label}级综治中心督办" if above else "由本级综治中心督办")
        self.state.supervision_orders.append(SupervisionOrder(at=workflow.now(), clock=clock.name, unit_code=clock.unit_code, to_level=above, order=order))
        number = len(self.state.supervision_orders)
        await self.notify_clock("breach", clock, above, order)  # the breach is on record before the case moves
        if self.supervised and clock.name in (ClockName.RESPONSE, ClockName.FEEDBACK):
            level = above or clock.level  # the late unit's own system receives the order, as it would a supervisor's
            self.send_supervision(number, clock.unit_code, order, f"{level.label}级综治中心（{self.state.centers[level]}）")
        if climbs and self.level_end is None:
            self.level_end = LevelEnd("breach", order, SYSTEM)

    def ends_level(self, clock: Clock) -> bool:
        if self.level_end is not None or clock.level != self.state.level or self.state.stage not in (Stage.DISPATCHED, Stage.HANDLING):
            return False
        if clock.name in (ClockName.MEDIATION, ClockName.PARTNER_REPLY):
            return True
        assignment = self.state.assignment(clock.unit_code) if clock.unit_code else None
        return clock.name in (ClockName.RESPONSE, ClockName.FEEDBACK) and assignment is not None and assignment.lead

    async def notify_clock(self, kind: str, clock: Clock, to_level: Level | None, text: str, nth: int = 1) -> None:
        # A search-attribute upsert costs the server a visibility write, which in a storm of
        # deadlines every breach waited for: from revision 6 a breach's follows with its notices.
        quiet = kind == "breach" and self.quiet_breach
        shown = f"{NoticeKind(kind).label}：{clock.name.label}" + (f" · {self.named(clock.unit_code)}" if clock.unit_code else "")
        self.publish(shown, search=not quiet)
        if not self.breach_first:
            self.tell_clock(kind, clock, to_level, text)
        workflow.logger.warning(text, extra={"case_no": self.case.case_no, "clock": clock.name.value, "kind": kind})
        await workflow.execute_local_activity(
            "record_clock_notice",
            ClockNotice(case_no=self.case.case_no, kind=kind, clock_id=clock.id, clock=clock, to_level=to_level, text=text, nth=nth),
            summary={"reminder": "催办 ", "breach": "超时督办 ", "lapse": "期限届满 "}[kind] + clock.name.label,
            **REGISTER,
        )
        if self.breach_first:
            if kind == "breach":
                # A task holds its worker slot until its last local activity: ending it here lets the
                # other deadlines due now be recorded before this case's notices and escalation.
                await workflow.sleep(HANDOFF, summary="交接：超时已登记，随后通知并升级")
                if quiet:
                    self.publish(shown)
            self.tell_clock(kind, clock, to_level, text)

    def tell_clock(self, kind: str, clock: Clock, to_level: Level | None, text: str) -> None:
        """The unit hears of its reminder or breach; a breach also goes to the leader it goes up to."""
        self.tell(Audience.UNIT, clock.unit_code, kind, f"案件 {self.case.case_no}：{text}")
        if kind == "breach":
            center = self.state.centers.get(to_level or clock.level)
            self.tell(Audience.LEADER, next(iter(self.state.leaders.get(center, [])), None), kind, f"案件 {self.case.case_no}：{text}")

    # ── decisions (updates) ──────────────────────────────────────────────────────────────

    @workflow.update
    async def respond(self, answer: UnitResponse) -> CaseState:
        assignment = self.state.assignment(answer.unit_code)
        assignment.response = answer
        note, actor = f"{answer.unit_code} 已响应，承办人 {answer.handler}", f"{answer.unit_code}/{answer.handler}"
        if assignment.lead and self.state.stage == Stage.DISPATCHED and assignment.level == self.state.level:
            await self.advance(Stage.HANDLING, note, by=actor, role="unit", user=answer.signed_in)
        else:
            await self.record("responded", None, note, by=actor, role="unit", user=answer.signed_in)
        return self.status()

    @respond.validator
    def check_response(self, answer: UnitResponse) -> None:
        assignment = self.unit_assignment(answer.unit_code)
        if assignment.response is not None:
            raise OutOfTurn("本单位已响应，不能重复响应 (already responded)")

    @workflow.update
    async def give_feedback(self, report: UnitFeedback) -> CaseState:
        self.state.assignment(report.unit_code).feedback = report
        await self.record("fed_back", None, f"{report.unit_code} 已反馈：{report.summary}", by=f"{report.unit_code}/{report.handler}", role="unit", user=report.signed_in)
        return self.status()

    @give_feedback.validator
    def check_feedback(self, report: UnitFeedback) -> None:
        assignment = self.unit_assignment(report.unit_code)
        if assignment.response is None:
            raise OutOfTurn("本单位尚未响应，不能先反馈 (feedback before response)")
        if assignment.feedback is not None:
            raise OutOfTurn("本单位已反馈，不能重复反馈 (feedback already given)")

    def unit_assignment(self, unit_code: str) -> Assignment:
        assignment = self.state.assignment(unit_code)
        if assignment is None:
            raise WrongActor(f"单位 {unit_code} 不是本案承办或协办单位 (not a unit this case was dispatched to)")
        self.check_open()
        return assignment

    @workflow.update
    async def override_grade(self, override: GradeOverride) -> CaseState:
        await self.taken_up(await self.regrade(override.grade, [f"人工调整：{override.reason}"], override.operator, role="operator", user=override.signed_in,
                                               shown=["人工调整"]))
        return self.status()

    @override_grade.validator
    def check_override(self, override: GradeOverride) -> None:
        self.check_open()
        if self.state.grade is None:
            raise OutOfTurn("本案尚未研判分级 (not triaged yet)")

    @workflow.update
    async def report_facts(self, facts: NewFacts) -> CaseState:
        self.factors.police_calls_30d += facts.police_calls
        self.factors.prior_mediation_failed |= facts.mediation_failed
        self.factors.high_social_impact |= facts.high_social_impact
        grading = grade(self.factors, self.case.policy.grading)
        await self.taken_up(await self.regrade(grading.grade, grading.reasons, facts.reporter, role="operator", note=facts.note, user=facts.signed_in))
        return self.status()

    @report_facts.validator
    def check_facts(self, facts: NewFacts) -> None:
        self.check_open()
        if self.state.grade is None:
            raise OutOfTurn("本案尚未研判分级 (not triaged yet)")

    def stops(self, clock: Clock) -> bool:
        """Whether a pause stops this clock: from revision 9 only those the policy names (a unit's
        first response keeps running); before, every clock."""
        return self.case.revision < 9 or clock.name in self.case.policy.clocks.pause_stops

    @workflow.update
    async def pause(self, request: PauseRequest) -> CaseState:
        running = [r for r in self.runners if r.clock.status == ClockStatus.RUNNING and self.stops(r.clock)]
        for runner in running:
            runner.pause(request.actor, request.reason)
        self.state.paused = pause = Pause(at=workflow.now(), by=request.actor, reason=request.reason)
        note = f"{request.actor} 暂停计时（等待当事人）：{request.reason}"
        if self.case.revision >= 9:  # revision 9: what it stopped, and when it resumes by itself
            pause.stopped, pause.until = [r.clock.id for r in running], request.until or workflow.now() + self.case.policy.clocks.longest_pause
            kept = [c for c in self.state.clocks if c.status == ClockStatus.RUNNING]
            note += f"；暂停{'、'.join(self.clock_label(r.clock) for r in running)}，{beijing(pause.until)} 自动恢复" + (
                f"；{'、'.join(self.clock_label(c) for c in kept)}照常计时" if kept else "")
            asyncio.create_task(self.resume_by_itself(pause))
        await self.record("paused", None, note, by=request.actor, role="operator", user=request.signed_in)
        return self.status()

    @staticmethod
    def clock_label(clock: Clock) -> str:
        return clock.name.label + (f"（{clock.unit_code}）" if clock.unit_code else "")

    async def resume_by_itself(self, pause: Pause) -> None:
        """Revision 9: at the pause's end, unless resumed before, the clocks resume and the parties are told."""
        if await wait_until(pause.until, lambda: self.state.paused is not pause or not self.state.stage.is_open, f"暂停期满 {beijing(pause.until)}", Arming.of(self.case.revision)):
            return
        text = f"暂停期满（{beijing(pause.until)}），自动恢复计时"
        await self.resume_clocks(SYSTEM, text, role="system", user=None)
        self.tell_parties("resumed", f"案件 {self.case.case_no}：{text}")

    @pause.validator
    def check_pause(self, request: PauseRequest) -> None:
        self.check_open()
        if self.state.paused is not None:
            raise OutOfTurn("计时已暂停 (clocks already paused)")
        if not any(c.status == ClockStatus.RUNNING and self.stops(c) for c in self.state.clocks):
            raise OutOfTurn("没有可暂停的时限 (no clock the pause stops is running)")
        if request.until is not None:
            longest = self.case.policy.clocks.longest_pause
            if self.case.revision < 9:
                raise OutOfTurn("until: 本案受理时尚不支持定时恢复 (the case's revision has no timed resume)")
            if not workflow.now() < request.until <= workflow.now() + longest:
                raise OutOfTurn(f"until: 须在现在之后、{longest.days} 日之内 (within the longest pause)")

    @workflow.update
    async def resume(self, request: ResumeRequest) -> CaseState:
        await self.resume_clocks(request.actor, f"{request.actor} 恢复计时" + (f"：{request.note}" if request.note else ""), "operator", request.signed_in)
        return self.status()

    async def resume_clocks(self, actor: str, note: str, role: str, user: SignedIn | None) -> None:
        for runner in self.runners:
            runner.resume()
        self.state.paused = None
        await self.record("resumed", None, note, by=actor, role=role, user=user)

    @resume.validator
    def check_resume(self, request: ResumeRequest) -> None:
        if self.state.paused is None:
            raise OutOfTurn("计时未暂停 (clocks are not paused)")

    @workflow.update
    async def extend(self, request: Extension) -> CaseState:
        runner = self.runner(request.clock, request.unit_code)
        runner.extend(request.by, request.supervisor, request.reason)
        await self.record("extended", None, f"{request.supervisor} 延长{request.clock.label}至 {beijing(runner.clock.extensions[-1].new_due)}：{request.reason}", by=request.supervisor, role="supervisor",
                          user=request.signed_in)
        return self.status()

    @extend.validator
    def check_extension(self, request: Extension) -> None:
        clock = self.state.clock(request.clock, request.unit_code)
        if clock is None or not clock.is_open:
            raise OutOfTurn(f"没有可延长的{request.clock.label}" + (f"（{request.unit_code}）" if request.unit_code else "") + " (no such open clock)")
        if request.clock == ClockName.MEDIATION:
            raise OutOfTurn("调解期限只能经双方当事人同意延长 (mediation needs both parties' consent)")
        self.check_handling_center(request.signed_in, "延长时限")

    @workflow.update
    async def record_session(self, session: MediationSession) -> CaseState:
        self.state.mediation.sessions.append(Session(held_on=session.held_on, mode=session.mode, notes=session.notes))
        await self.record("session", None, f"{session.mode.label}调解（{session.held_on}）：{session.notes}", by=self.state.mediation.mediator_name, role="mediator",
                          user=session.signed_in)
        return self.status()

    @record_session.validator
    def check_session(self, session: MediationSession) -> None:
        self.check_mediator(session.mediator_id)
        today, received = as_shanghai(workflow.now()).date(), as_shanghai(self.state.received_at).date()
        if session.held_on > today:
            raise BadField(f"held_on: 调解日期 {session.held_on} 晚于今天（{today}）(a session cannot be in the future)")
        if session.held_on < received:
            raise BadField(f"held_on: 调解日期 {session.held_on} 早于案件受理日期（{received}）(before the case was received)")

    @workflow.update
    async def conclude_mediation(self, result: MediationResult) -> CaseState:
        mediation = self.state.mediation
        mediation.outcome, mediation.terms, mediation.performance_due = result.outcome, result.terms, result.performance_due
        mediation.reason, mediation.concluded_at = result.reason, workflow.now()
        self.seek_confirmation = result.seek_confirmation
        kind = {MediationOutcome.AGREEMENT: "agreement", MediationOutcome.FAILED: "failed",
                MediationOutcome.REFUSED: "refused", MediationOutcome.WITHDRAWN: "withdrawn"}[result.outcome]
        self.level_end = LevelEnd(kind, result.reason or result.terms, mediation.mediator_name, backstop=result.backstop)
        handed = self.handing()
        if result.outcome == MediationOutcome.FAILED:
            self.factors.prior_mediation_failed = True
        agreed = StepParts(terms=result.terms, performance_due=result.performance_due) if result.outcome == MediationOutcome.AGREEMENT else None
        await self.record("mediation", None, f"{mediation.mediator_name}：{result.outcome.label}。{result.terms or result.reason}", by=mediation.mediator_name,
                          role="mediator", user=result.signed_in, parts=agreed)
        await self.taken_up(handed)
        return self.status()

    @conclude_mediation.validator
    def check_conclusion(self, result: MediationResult) -> None:
        self.check_mediator(result.mediator_id)

    @workflow.update
    async def extend_mediation(self, request: ConsentedExtension) -> CaseState:
        runner = self.runner(ClockName.MEDIATION, None)
        runner.extend(request.by, self.state.mediation.mediator_name, f"双方当事人同意：{request.reason}")
        await self.record("extended", None, f"经双方同意，调解期限延至 {beijing(runner.clock.extensions[-1].new_due)}：{request.reason}", by=self.state.mediation.mediator_name, role="mediator",
                          user=request.signed_in)
        return self.status()

    @extend_mediation.validator
    def check_mediation_extension(self, request: ConsentedExtension) -> None:
        self.check_mediator(request.mediator_id)
        if not (request.applicant_consents and request.respondent_consents):
            raise OutOfTurn("延长调解期限须经双方当事人同意 (both parties must consent)")
        clock = self.state.clock(ClockName.MEDIATION)
        if clock is None or not clock.is_open:
            raise OutOfTurn("调解期限已结束 (mediation clock is not open)")

    def check_mediator(self, mediator_id: str) -> None:
        mediation = self.state.mediation
        if mediation is None or mediation.outcome is not None or self.level_end is not None or self.state.stage not in (Stage.DISPATCHED, Stage.HANDLING):
            raise OutOfTurn("本案当前不在调解中 (no mediation in progress)")
        if mediation.mediator_id != mediator_id:
            raise WrongActor(f"调解员 {mediator_id} 不是本案调解员 (not this case's mediator)")

    @workflow.update
    async def decline(self, request: Decline) -> CaseState:
        self.level_end = LevelEnd("declined", request.reason, request.operator)
        handed = self.handing()
        await self.record("declined", None, f"{request.operator} 决定不予受理：{request.reason}", by=request.operator, role="operator", user=request.signed_in,
                          parts=StepParts(reason=request.reason))
        await self.taken_up(handed)
        return self.status()

    @decline.validator
    def check_decline(self, request: Decline) -> None:
        if self.state.stage not in (Stage.TRIAGED, Stage.DISPATCHED, Stage.HANDLING) or self.level_end is not None:
            raise OutOfTurn("本案已进入调处结果阶段，不能不予受理 (too late to decline)")
        if self.state.mediation is not None and self.state.mediation.sessions:
            raise OutOfTurn("已开始调解，不能不予受理 (mediation has started)")

    @workflow.update
    async def acknowledge_alert(self, ack: AlertAcknowledgement) -> CaseState:
        alert = self.state.alerts[-1]
        alert.acknowledged_by, alert.acknowledged_at = ack.leader, workflow.now()
        await self.record("alert_ack", None, f"{alert.center_code} 领导 {ack.leader} 已确认红色预警", by=ack.leader, role="leader", user=ack.signed_in)
        return self.status()

    @acknowledge_alert.validator
    def check_ack(self, ack: AlertAcknowledgement) -> None:
        if not self.state.alerts or self.state.alerts[-1].acknowledged_at is not None:
            raise OutOfTurn("没有待确认的预警 (no alert waiting)")
        alert = self.state.alerts[-1]
        if (alert.center_code, alert.leader) != (ack.center_code, ack.leader):
            raise WrongActor(f"预警发给 {alert.center_code} 的 {alert.leader} (alert is for another leader)")
        self.check_authority(ack.signed_in, [alert.center_code], f"预警发给 {alert.center_code} 的 {alert.leader}，只能由该中心确认")

    def check_authority(self, user: SignedIn | None, centers: list[str], rule: str) -> None:
        """The signed-in user belongs to one of these centers (an admin may act for any; a decision from a
        history before users were bound carries none)."""
        if user is not None and user.role != Role.ADMIN and user.jurisdiction_code not in centers:
            raise WrongActor(f"{rule}，您属于 {user.jurisdiction_code or '无辖区'} (not your center's decision)")

    def check_handling_center(self, user: SignedIn | None, what: str) -> None:
        """A decision for the center handling the case, or a center above it."""
        rule = f"{what}须由办理本案的{self.state.level.label}级综治中心（{self.state.jurisdiction_code}）或其上级作出"
        self.check_authority(user, centers_from(self.state.level, self.state.centers), rule)

    @workflow.update
    async def answer_referral(self, answer: ReferralAnswer) -> CaseState:
        referral = self.state.referral
        referral.reference, referral.accepted_at = answer.reference, workflow.now()
        handed = self.handing()
        await self.record("referral_accepted", None, f"{answer.body_code} 已受理，文号 {answer.reference}", by=answer.body_code, role="body", user=answer.signed_in)
        await self.taken_up(handed)
        return self.status()

    @answer_referral.validator
    def check_referral(self, answer: ReferralAnswer) -> None:
        referral = self.state.referral
        if self.state.stage != Stage.REFERRAL or referral is None or referral.accepted_at is not None:
            raise OutOfTurn("没有待受理的转介 (no referral waiting)")
        if referral.body_code != answer.body_code:
            raise WrongActor(f"本案转介至 {referral.body_code}，不是 {answer.body_code} (referred elsewhere)")

    @workflow.update
    async def apply_confirmation(self, application: ConfirmationApplication) -> CaseState:
        confirmation = self.state.confirmation
        confirmation.applicant, confirmation.court_code, confirmation.applied_at = application.applicant, application.court_code, workflow.now()
        handed = self.handing()
        await self.record("confirmation_applied", None, f"{application.applicant} {applied_to(application.court_code)}", by=application.applicant, role="party",
                          user=application.signed_in, body=application.court_code)
        await self.taken_up(handed)
        return self.status()

    @apply_confirmation.validator
    def check_application(self, application: ConfirmationApplication) -> None:
        confirmation, clock = self.state.confirmation, self.state.clock(ClockName.CONFIRMATION)
        if self.state.stage != Stage.CONFIRMATION or confirmation.applied_at is not None or clock.status != ClockStatus.RUNNING:
            raise OutOfTurn("不在司法确认申请期限内 (not within the application period)")

    @workflow.update
    async def court_decision(self, decision: CourtDecision) -> CaseState:
        confirmation = self.state.confirmation
        confirmation.confirmed, confirmation.reference, confirmation.decided_at = decision.confirmed, decision.reference, workflow.now()
        handed = self.handing()
        verdict = "确认有效" if decision.confirmed else f"驳回申请：{decision.reason or ''}"
        await self.record("court_decision", None, f"{decision.court_code} 裁定{verdict}（{decision.reference}）", by=decision.court_code, role="court", user=decision.signed_in)
        await self.taken_up(handed)
        return self.status()

    @court_decision.validator
    def check_court(self, decision: CourtDecision) -> None:
        confirmation = self.state.confirmation
        if self.state.stage != Stage.CONFIRMATION or confirmation.applied_at is None or confirmation.decided_at is not None:
            raise OutOfTurn("没有待裁定的司法确认申请 (no application waiting)")
        if confirmation.court_code != decision.court_code:
            raise WrongActor(f"申请提交至 {confirmation.court_code}，不是 {decision.court_code} (another court)")

    @workflow.update
    async def record_visit(self, visit: ReturnVisit) -> CaseState:
        self.visit = Visit(at=workflow.now(), visitor=visit.visitor, satisfied=visit.satisfied, notes=visit.notes)
        self.reopen_up = visit.escalate
        self.state.visits.append(self.visit)
        handed = self.handing()
        verdict = "满意" if visit.satisfied else "不满意"
        await self.record("visit", None, f"{visit.visitor} 回访：当事人{verdict}。{visit.notes}", by=visit.visitor, role="visitor", user=visit.signed_in)
        await self.taken_up(handed)
        return self.status()

    @record_visit.validator
    def check_visit(self, visit: ReturnVisit) -> None:
        if self.state.stage != Stage.CLOSED or self.visit is not None:
            raise OutOfTurn("本案不在待回访阶段 (no return visit due)")

    @workflow.update
    async def partner_reply(self, reply: PartnerReply) -> CaseState:
        partner = self.state.partner
        partner.replied_at, partner.joint_mediation, partner.mediator, partner.note = workflow.now(), reply.joint_mediation, reply.mediator, reply.note
        joint = f"参加联合调解（调解员 {reply.mediator or '待定'}）" if reply.joint_mediation else "不参加联合调解"
        await self.record("partner_reply", None, f"跨省协作中心 {reply.partner_code} 回复：{joint}。{reply.note}", by=reply.partner_code, role="partner", user=reply.signed_in)
        return self.status()

    @partner_reply.validator
    def check_partner_reply(self, reply: PartnerReply) -> None:
        self.check_open()
        partner = self.state.partner
        if partner is None:
            raise OutOfTurn("本案没有跨省协作 (no partner center on this case)")
        if partner.partner_code != reply.partner_code:
            raise WrongActor(f"本案协作中心是 {partner.partner_code}，不是 {reply.partner_code} (another partner)")
        if partner.replied_at is not None:
            raise OutOfTurn("协作中心已回复 (already replied)")

    @workflow.signal
    async def recalendar(self, calendars: CaseCalendars) -> None:
        """Revision 9: a calendar edited after intake (a holiday entered later) reaches the clocks not yet due: each running
        one keeps the working days or office time it had left on the old calendar, laid on the new one (domain.clocks.relaid);
        natural clocks do not move. The signal carries the whole snapshot, so the history replays."""
        if self.calendars is None or not self.state.stage.is_open:
            return
        self.calendars, now, moved = calendars, workflow.now(), []
        for runner in self.runners:
            clock, new = runner.clock, self.calendar(runner.clock.level)
            if clock.status == ClockStatus.RUNNING and clock.due_at > now:
                old = clock.due_at
                runner.move_due(relaid(now, clock.started_at, old, clock.basis, runner.calendar, new))
                if clock.due_at != old:
                    moved.append(f"{self.clock_label(clock)}由 {beijing(old)} 改至 {beijing(clock.due_at)}")
            runner.calendar = new
        if moved:
            await self.record("recalendared", None, f"工作日历更新：{'；'.join(moved)}")

    @workflow.signal
    async def supervise(self, request: SupervisionRequest) -> None:
        """督办 from a higher center: on the case's record, and a supervision document to the unit.
        A signal (the API checks the case first): the order stands whatever the case is doing."""
        unit = request.unit_code or self.state.lead_unit
        if not self.state.stage.is_open or unit is None:
            workflow.logger.warning("supervision order for a closed or undispatched case ignored", extra={"case_no": self.case.case_no})
            return
        self.state.supervision_orders.append(SupervisionOrder(at=workflow.now(), unit_code=unit, to_level=self.state.level, order=request.order, by=request.supervisor))
        number = len(self.state.supervision_orders)
        await self.record("supervised", None, f"{request.supervisor} 督办 {unit}：{request.order}", by=request.supervisor, role="supervisor", user=request.signed_in,
                          body=unit, parts=StepParts(order=request.order))
        self.send_supervision(number, unit, request.order, request.supervisor)
        self.tell(Audience.UNIT, unit, "supervision", f"案件 {self.case.case_no} 督办：{request.order}（{request.supervisor}）")

    def send_supervision(self, number: int, unit: str, order: str, by: str) -> None:
        """督办 to the unit's system (onedoor.supervision/v1), the case's `number`th order, beside the process."""
        now = workflow.now()
        document = SupervisionDocument(case_no=self.case.case_no, unit_code=unit, order=order, by=by, at=now)
        dispatch = DispatchOrder(idempotency_key=f"{self.case.case_no}:supervision:{number}:{unit}", document=document)
        self.beside(self.deliver(dispatch, now + self.case.policy.delivery.outage_window))

    @workflow.update
    async def hand_over(self, request: Handover) -> CaseState:
        note = f"{request.supervisor} 决定交办至{request.to_level.label}级：{request.reason}"
        return await self.move_level(LevelEnd("handover", request.reason, request.supervisor, to_level=request.to_level), note, request.signed_in)

    @hand_over.validator
    def check_handover(self, request: Handover) -> None:
        self.check_being_handled("交办", request.signed_in)
        if LADDER.index(request.to_level) >= LADDER.index(self.state.level) or request.to_level not in self.state.centers:
            raise OutOfTurn(f"只能交办给下级综治中心（现由{self.state.level.label}级办理）(hand over to a lower level with a center)")

    @workflow.update
    async def lift(self, request: LevelUp) -> CaseState:
        above = next_center(self.state.level, self.state.centers)
        end = LevelEnd("lifted", f"{request.supervisor} 决定提级：{request.reason}", request.supervisor, to_level=above)
        return await self.move_level(end, f"{request.supervisor} 决定提级至{above.label}级：{request.reason}", request.signed_in)

    @lift.validator
    def check_lift(self, request: LevelUp) -> None:
        self.check_being_handled("提级", request.signed_in)
        if next_center(self.state.level, self.state.centers) is None:
            raise OutOfTurn(f"本案已由最高一级（{self.state.level.label}级）办理，不能再提级 (already at the top)")

    async def move_level(self, end: LevelEnd, note: str, user: SignedIn | None) -> CaseState:
        """A supervisor's decision that ends the handling at this level (交办 down, 提级 up)."""
        self.level_end = end
        handed = self.handing()
        await self.record(end.kind, None, note, by=end.by, role="supervisor", user=user)
        await self.taken_up(handed)
        return self.status()

    def check_being_handled(self, what: str, user: SignedIn | None) -> None:
        """A supervisor's decision on the handling itself: while a level handles the case, by its center or one above."""
        self.check_open()
        if self.state.stage not in (Stage.DISPATCHED, Stage.HANDLING) or self.level_end is not None:
            raise OutOfTurn(f"本案当前不在办理中，不能{what} (not being handled)")
        self.check_handling_center(user, what)

    @workflow.update
    async def link_incident(self, link: IncidentLink) -> CaseState:
        self.state.linked_incidents.append(link.incident_id)
        self.factors.police_calls_30d += 1
        handed = await self.count_again("incident_linked", f"关联警情 {link.incident_id}：{link.summary}", "警情流转", role="police", user=link.signed_in)
        await self.report_to_police(PoliceStatus.RECEIVED, f"警情 {link.incident_id} 已并入案件 {self.case.case_no} 办理" + self.now_handled_by(), incident_id=link.incident_id)
        await self.taken_up(handed)
        return self.status()

    @link_incident.validator
    def check_incident(self, link: IncidentLink) -> None:
        self.check_open()
        if link.incident_id in self.state.linked_incidents or link.incident_id == self.state.incident_id:
            raise OutOfTurn(f"警情 {link.incident_id} 已关联本案 (incident already linked)")

    @workflow.update
    async def join_registration(self, visit: RepeatVisit) -> CaseState:
        self.state.joined_registrations.append(visit.request_id)
        self.factors.prior_visits += 1
        handed = await self.count_again("visit_joined", f"重复来访：{visit.source.label}登记“{visit.summary}”，并入本案", visit.operator, role="operator",
                                        user=visit.signed_in)
        await self.taken_up(handed)
        return self.status()

    @join_registration.validator
    def check_registration(self, visit: RepeatVisit) -> None:
        self.check_open()
        if visit.request_id in self.state.joined_registrations:
            raise OutOfTurn(f"登记 {visit.request_id} 已并入本案 (registration already joined)")

    async def count_again(self, kind: str, note: str, by: str, role: str, user: SignedIn | None) -> int | None:
        """A further police call or visit about the parties, already counted in the factors: the case is
        re-graded with it (what the process acts on, for taken_up), or, when it came before triage, triage grades with it."""
        if self.state.grade is None:
            await self.record(kind, None, f"{note}（研判时计入）", by=by, role=role, user=user)
            return None
        grading = grade(self.factors, self.case.policy.grading)
        return await self.regrade(grading.grade, grading.reasons, by, role=role, note=note, user=user)

    def check_open(self) -> None:
        if not self.state.stage.is_open:
            raise OutOfTurn("本案已办结 (case is closed)")

    @workflow.query
    def status(self) -> CaseState:
        """The case as it stands, with what remains of each open clock."""
        return self.state.model_copy(update={"clocks": self.clocks_now()})

    def clocks_now(self) -> list[Clock]:
        now = workflow.now()
        return [
            clock.model_copy(update={"remaining": time_left(now, clock.due_at, clock.basis, self.calendar(clock.level), clock.started_at)}) if clock.status == ClockStatus.RUNNING else clock
            for clock in self.state.clocks
        ]

    # ── grading and routing ──────────────────────────────────────────────────────────────

    def set_grade(self, new: RiskGrade, reasons: list[str], by: str, shown: list[str] | None = None) -> None:
        self.state.grade, self.state.grade_reasons = new, reasons
        self.reasons_shown = shown or reasons
        self.state.grade_history.append(GradeChange(at=workflow.now(), grade=new, reasons=reasons, by=by))

    async def regrade(self, new: RiskGrade, reasons: list[str], by: str, role: str, note: str | None = None, user: SignedIn | None = None,
                      shown: list[str] | None = None) -> int | None:
        """Grade the case again; when the new grade belongs to a higher level, the handling here ends
        (the number the process acts on, for taken_up)."""
        old = self.state.grade
        self.set_grade(new, reasons, by, shown)
        await self.keep_priority()
        await self.record("graded", None, f"{by} {'调整' if new != old else '复核'}等级：{old.label}→{new.label}（{'；'.join(reasons)}）" + (f"。{note}" if note else ""),
                          by=by, role=role, user=user)
        wanted = handling_level(new, self.state.centers)
        moves = LADDER.index(wanted) > LADDER.index(self.state.level) and self.level_end is None and self.state.stage in (Stage.DISPATCHED, Stage.HANDLING)
        if new == RiskGrade.RED and not (moves and self.supervised):  # moving, the level it moves to is alerted (escalate)
            self.start_emergency()
        if moves:
            self.level_end = LevelEnd("regraded", f"等级升为{new.label}色，改由{wanted.label}级办理", by, to_level=wanted)
            return self.handing()
        return None

    async def keep_priority(self) -> None:
        """The case's tasks and activities queue at its grade's priority from now on. Only a
        scheduling hint: when Temporal refuses, the case goes on and the next regrade asks again."""
        wanted = QUEUE_PRIORITY[self.state.grade]
        if not self.requeues or wanted == self.queue_priority:
            return
        try:
            changed = await workflow.execute_local_activity(
                "keep_priority", PriorityChange(case_no=self.case.case_no, priority_key=wanted), result_type=bool,
                summary=f"排队优先级 {wanted}（{self.state.grade.label}色）",
                start_to_close_timeout=timedelta(seconds=10), retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except ActivityError as error:
            workflow.logger.warning("queue priority not kept", extra={"case_no": self.case.case_no, "error": str(error.cause)})
            return
        if changed:
            self.queue_priority = wanted

    async def reroute(self, level: Level | None) -> None:
        routing = await workflow.execute_local_activity(
            "route_case",
            RouteRequest(case_no=self.case.case_no, grade=self.state.grade, category=self.case.intake.category, place=self.case.intake.place, level=level),
            result_type=Routing,
            summary=f"按职责清单分流（{self.state.grade.label}色）",
            **REGISTER,
        )
        self.route = routing.route
        self.state.centers, self.state.leaders = routing.centers, routing.leaders
        self.names |= routing.names
        self.state.level, self.state.jurisdiction_code, self.state.lead_unit = self.route.level, self.route.jurisdiction_code, self.route.lead_unit

    def now_handled_by(self) -> str:
        """Where the case stands, for a police incident that joins it after dispatch."""
        if self.state.lead_unit is None or self.state.stage in (Stage.RECEIVED, Stage.TRIAGED):
            return ""
        return f"（{self.state.stage.label}，{self.state.level.label}级 {self.state.lead_unit} 承办）"

    def route_text(self) -> str:
        co = f"，协办 {'、'.join(self.route.co_units)}" if self.route.co_units else ""
        return f"{self.route.level.label}级（{self.route.jurisdiction_code}）{self.route.lead_unit}{co}"

    # ── bookkeeping ──────────────────────────────────────────────────────────────────────

    async def advance(self, stage: Stage, note: str, by: str = SYSTEM, role: str = "system", user: SignedIn | None = None, parts: StepParts | None = None) -> None:
        self.settle_answered_clocks()
        self.state.stage = stage
        self.note_step(stage, note, workflow.now())
        self.publish(StepKind(stage.value).label)
        await self.record(stage.value, stage, note, by, role, user, parts=parts)

    async def record(self, kind: str, stage: Stage | None, note: str, by: str = SYSTEM, role: str = "system", user: SignedIn | None = None,
                     body: str | None = None, parts: StepParts | None = None) -> None:
        """Write the step to the register, keyed by case and step number so a retry writes once,
        with its audit entry: who did it (the name they gave, and the signed-in user the API bound the
        decision to), in which role, and the fields it changed; `body`, the body or unit it was
        addressed to (a confirmation's court: the register's scope for that body); `parts`, the words
        the case's papers print apart from the note. A local activity's input is not compared on
        replay: a new field changes no recorded history."""
        self.recorded += 1
        state = self.state
        step = StepKind(kind)
        if stage is None:
            self.settle_answered_clocks()
            self.publish(step.label)
        now = self.audit_fields()
        changed = [name for name, value in now.items() if self.audited[name] != value]
        before, self.audited = self.audited, now
        await workflow.execute_local_activity(
            "record_step",
            StepRecord(
                case_no=state.case_no, seq=self.recorded, kind=kind, stage=stage, at=workflow.now(), note=note,
                grade=state.grade, level=state.level, jurisdiction_code=state.jurisdiction_code, lead_unit=state.lead_unit,
                mediator_id=state.mediation.mediator_id if state.mediation else None, result=state.result,
                next_deadline=state.next_deadline, overdue=state.overdue, escalation_count=len(state.escalations),
                satisfied=now["satisfied"], clocks=self.clocks_now(), actor=by, role=role, signed_in=user,
                before={name: before[name] for name in changed}, after={name: now[name] for name in changed}, body_code=body, parts=parts,
            ),
            summary=f"登记步骤：{step.label}",  # never the note: it may hold a person's words
            **REGISTER,
        )

    def settle_answered_clocks(self) -> None:
        """A clock answered by this very step is met in what the step records, not one step later
        (its runner would only notice after the handler yields). Replay-safe without a patch: it
        changes values (the register record, search attribute values), never a command — the
        histories recorded before it replay (tests/test_replay.py)."""
        for runner in self.runners:
            runner.settle()

    def audit_fields(self) -> dict:
        """The case's fields an audit entry compares, as plain JSON values."""
        state = self.state
        return {
            "stage": state.stage.value, "grade": state.grade and state.grade.value, "level": state.level and state.level.value,
            "jurisdiction_code": state.jurisdiction_code, "lead_unit": state.lead_unit,
            "mediator_id": state.mediation and state.mediation.mediator_id, "result": state.result and state.result.value,
            "overdue": state.overdue, "paused": state.paused is not None, "satisfied": self.visit and self.visit.satisfied,
        }

    def note_step(self, stage: Stage, note: str, at: datetime) -> None:
        self.state.steps.append(Step(at=at, stage=stage, note=note))
        # The stage, never the note: it may hold a person's words, and logs keep none (docs/security.md).
        workflow.logger.info("case step", extra={"case_no": self.case.case_no, "stage": stage.value})

    def publish(self, last: str, search: bool = True) -> None:
        """Search attributes and current details: what the Temporal UI shows a supervisor
        (without `search`, the details only). `last`: the step just taken, in fixed words."""
        state = self.state
        self.last_step = f"{last}（{beijing(workflow.now())}）"
        workflow.set_current_details(self.details())
        if not search:
            return
        updates = [
            sa.CASE_STAGE.value_set(state.stage.value),
            sa.CATEGORY.value_set(state.category.value),
            sa.SOURCE.value_set(state.source.value),
            sa.TOWNSHIP.value_set(state.township_code),
            sa.OVERDUE.value_set(state.overdue),
            sa.ESCALATION_COUNT.value_set(len(state.escalations)),
            sa.NEXT_DEADLINE.value_set(state.next_deadline) if state.next_deadline else sa.NEXT_DEADLINE.value_unset(),
        ]
        if state.grade is not None and state.level is not None:
            updates += [
                sa.RISK_GRADE.value_set(state.grade.value),
                sa.CASE_LEVEL.value_set(state.level.value),
                sa.JURISDICTION.value_set(state.jurisdiction_code),
                sa.LEAD_UNIT.value_set(state.lead_unit),
            ]
        workflow.upsert_search_attributes(updates)

    def named(self, code: str) -> str:
        """A center's or unit's name beside its code, when routing brought it from the directory."""
        return f"{self.names[code]}（{code}）" if code in self.names else code

    def details(self) -> str:
        """The current details the Temporal UI shows, plain (no codec needed): codes with their names,
        labels and times (Asia/Shanghai), never a party's data nor a person's own words. Markdown: the case's
        facts as a list, then each open clock on a line of its own, then the last step."""
        state, named = self.state, self.named
        lines = [
            f"- **阶段**：{state.stage.label}" + ("（计时暂停）" if state.paused else ""),
            f"- **等级**：{state.grade.label + '色 — ' + '；'.join(self.reasons_shown) if state.grade else '待研判'}",
        ]
        if state.level:
            lines.append(f"- **办理**：{state.level.label}级综治中心 {named(state.jurisdiction_code)}")
        lines.append(f"- **承办单位**：{named(state.lead_unit) if state.lead_unit else '待分流'}")
        co = [a.unit_code for a in state.assignments if not a.lead and a.level == state.level]
        if co:
            lines.append(f"- **协办单位**：{'、'.join(named(code) for code in co)}")
        if state.mediation:
            mediation = state.mediation
            lines.append(f"- **调解员**：{mediation.mediator_name}（{mediation.mediator_id}{'，金牌' if mediation.gold else ''}）")
        for alert in state.alerts:
            answer = (f"{alert.acknowledged_by} 已于 {beijing(alert.acknowledged_at)} 确认" if alert.acknowledged_at
                      else f"待确认，限 {beijing(alert.due_at)} 前" if alert.due_at > workflow.now() else f"未在 {beijing(alert.due_at)} 前确认")
            lines.append(f"- **红色预警**：{beijing(alert.at)} 通知{alert.level.label}级 {named(alert.center_code)} {alert.leader}，{answer}")
        for order in state.supervision_orders:
            why = f"{order.clock.label}超时" if order.clock else "上级综治中心"
            lines.append(f"- **督办**：{beijing(order.at)} {why}，督办 {named(order.unit_code) if order.unit_code else '本级'}")
        if state.incident_id:
            linked = f"，另关联 {'、'.join(state.linked_incidents)}" if state.linked_incidents else ""
            lines.append(f"- **警情**：{state.incident_id}{linked}（状态回传 {self.police_sent}/{len(self.police_feed)}）")
        if state.handovers:
            handover = state.handovers[-1]
            lines.append(f"- **交办**：{named(handover.watched_by)} 交办至{handover.to_level.label}级，跟踪督办")
        if state.partner:
            partner = state.partner
            answer = ("参加联合调解" if partner.joint_mediation else "已回复") if partner.replied_at else "待回复"
            lines.append(f"- **跨省协作**：{partner.partner_code}（省级代码 {partner.province_code}）{answer}")
        if state.referral:
            referral = state.referral
            lines.append(f"- **转介**：{referral.kind.label} {referral.body_code}，{'已于 ' + beijing(referral.accepted_at) + ' 受理' if referral.accepted_at else '待受理'}")
        if state.result:
            lines.append(f"- **结果**：{state.result.label}")
        open_clocks = [c for c in state.clocks if c.is_open or c.status == ClockStatus.BREACHED]
        if open_clocks:
            lines += ["", "**时限**（北京时间）：", ""]
            lines += [f"- {c.name.label} · {named(c.unit_code) if c.unit_code else '本案'} · {beijing(c.due_at)} 到期 · {c.status.label}" for c in open_clocks]
        lines += ["", f"**最近一步**：{self.last_step}"]
        return "\n".join(lines)
