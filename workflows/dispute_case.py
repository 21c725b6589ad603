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
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.backstop import choose_backstop
    from onedoor.domain.calendar import WorkCalendar
    from onedoor.domain.case import CaseFile
    from onedoor.domain.documents import PoliceStatusDocument, ReferralDocument
    from onedoor.domain.grading import UNSET_PRIORITY, grade
    from onedoor.domain.household import HouseholdLink
    from onedoor.domain.labels import Backstop, ClockName, ClockStatus, Level, PoliceStatus, Result, RiskGrade, Stage, StepKind
    from onedoor.domain.messages import BackstopRequest, DispatchOrder, MediatorPick, MediatorRequest
    from onedoor.domain.routing import Route, next_center
    from onedoor.domain.state import Assignment, CaseState, Confirmation, Escalation, HandoverRecord, Mediation, Referral, Visit
    from workflows.clock import ClockRunner, beijing

from workflows.calls import REGISTER, send_notice
from workflows.case.oversight import CaseOversight
from workflows.case.register import SYSTEM
from workflows.case.state import LevelEnd
from workflows.refusals import OutOfTurn

# workflows/household.py takes the shared parts from here.
__all__ = ["DisputeCaseWorkflow", "REGISTER", "OutOfTurn", "send_notice"]


@workflow.defn
class DisputeCaseWorkflow(CaseOversight):
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
        for assignment in new:
            self.state.assignments.append(assignment)
            rota = route.rotas.get(assignment.unit_code) if self.duty_clocks else None
            response = self.start_clock(ClockName.RESPONSE, clocks.response, assignment.unit_code, lambda a=assignment: a.response is not None, rota)
            self.start_clock(ClockName.FEEDBACK, clocks.feedback, assignment.unit_code, lambda a=assignment: a.feedback is not None, rota)
            if response.started_at > now:
                waiting.append(f"{assignment.unit_code} 轮驻，时限自 {beijing(response.started_at)} 值班起算")
        lead = self.state.clock(ClockName.RESPONSE, route.lead_unit)
        co = f"，协办 {'、'.join(route.co_units)}" if route.co_units else ""
        note = f"一键派单至 {route.lead_unit}{co}，{beijing(lead.due_at)} 前响应" + (f"（{'；'.join(waiting)}）" if waiting else "")
        await self.advance(Stage.DISPATCHED, note)
        if not self.background:
            await asyncio.gather(self.assign_mediator(), *(self.deliver_dispatch(a) for a in new))
            return
        for assignment in new:
            self.beside(self.deliver_dispatch(assignment))
        self.tell_parties("dispatched", f"案件 {self.case.case_no} 已派至 {route.lead_unit} 办理，承办单位将在 {beijing(lead.due_at)} 前与您联系。")
        await self.report_to_police(PoliceStatus.DISPATCHED, note, unit_code=route.lead_unit)
        await self.assign_mediator()

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
