"""DisputeCaseWorkflow: one dispute from intake to 案结事了, every deadline a durable timer.

intake → triage (grade, level, units; red → emergency alert) → at each level: dispatch to the
lead and co-units (response and feedback clocks each) and mediate (mediation clock) → the level
ends in agreement, failure, refusal, withdrawal, a breach or a decline → failure or breach
escalates one level (village → township → county → city); at the top, or on refusal, the
judicial backstop takes it → agreement may go for judicial confirmation → closure with a result
→ return visit: satisfied settles the case, unsatisfied reopens it.

People's decisions arrive as updates whose validators check the actor and the stage, so a
refused decision never enters the history. Rules and numbers come from domain/ and the case's
policy snapshot; every side effect is an activity. This module holds the process, top to bottom;
what it stands on — the clocks, the register, the links to outside systems, lateness, grading, the
decisions — is in workflows/case/, one part per module (its __init__ lists them). A case runs the
revision it started with (onedoor/domain/revisions.py).
"""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.backstop import choose_backstop
    from onedoor.domain.calendar import WorkCalendar
    from onedoor.domain.case import CaseFile
    from onedoor.domain.documents import ReferralDocument
    from onedoor.domain.grading import UNSET_PRIORITY, grade
    from onedoor.domain.household import HouseholdLink
    from onedoor.domain.labels import Backstop, ClockName, ClockStatus, Level, LevelEndKind, NoticeKind, PoliceStatus, Result, RiskGrade, Stage, StepKind
    from onedoor.domain.messages import BackstopRequest, DispatchOrder, MediatorPick, MediatorRequest, StepParts
    from onedoor.domain.revisions import Revision
    from onedoor.domain.routing import next_center
    from onedoor.domain.state import Assignment, CaseState, Confirmation, Escalation, HandoverRecord, Mediation, Referral
    from workflows.clock import Arming, beijing

from workflows.calls import REGISTER
from workflows.case.oversight import CaseOversight
from workflows.case.register import SYSTEM
from workflows.case.state import Decided, LevelEnd, PoliceFeed, Shown, SideWork, Timing, Written, known


@workflow.defn
class DisputeCaseWorkflow(CaseOversight):
    @workflow.init
    def __init__(self, case: CaseFile) -> None:
        self.case = case
        self.revision = Revision(case.revision)  # a revision this worker does not know fails the task, retried until one that does
        intake = case.intake
        self.factors = intake.factors.model_copy(deep=True)
        self.state = CaseState(
            case_no=case.case_no, stage=Stage.RECEIVED, source=intake.source, category=intake.category, township_code=intake.place.township_code,
            received_at=case.received_at, incident_id=intake.incident and intake.incident.incident_id,
            related_open_cases=case.related_open_cases, separate_reason=intake.separate_reason,
        )
        self.queue_priority = workflow.info().priority.priority_key or UNSET_PRIORITY
        self.decided = Decided(answers_after=self.revision >= Revision.SUPERVISED)
        self.timing = Timing(
            arming=Arming.of(self.revision), office=WorkCalendar.legacy(case.policy.clocks.office_hours),
            calendars=case.calendars if self.revision >= Revision.CASE_CALENDARS else None,
            duty_clocks=self.revision >= Revision.SUPERVISED and case.policy.clocks.follow_rota,
        )
        self.shown = Shown()
        self.written = Written(audited=self.audit_fields())
        self.police = PoliceFeed()
        self.side = SideWork()

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
        if self.revision >= Revision.BACKGROUND:
            self.tell_parties(NoticeKind.RECEIVED, f"您反映的{self.case.intake.category}纠纷已登记受理，案件编号 {self.case.case_no}，可凭编号查询办理进度。")
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
        if self.revision >= Revision.BACKGROUND:
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
        await self.record(StepKind.HOUSEHOLD, f"纳入家庭和谐服务档案 {household_id}")

    async def resolve(self) -> tuple[Result, str]:
        """Handle the case level by level until it has a result."""
        while True:
            end = await self.handle_at_level()
            if end.kind == LevelEndKind.AGREEMENT:
                return await self.confirm_agreement()
            if end.kind == LevelEndKind.WITHDRAWN:
                return Result.WITHDRAWN, end.reason
            if end.kind == LevelEndKind.DECLINED:
                return Result.NOT_ACCEPTED, end.reason
            if end.kind == LevelEndKind.HANDOVER:
                await self.hand_down(end)
                continue
            target = end.to_level or next_center(self.route.level, self.state.centers)
            if end.kind in (LevelEndKind.FAILED, LevelEndKind.BREACH, LevelEndKind.REGRADED, LevelEndKind.LIFTED) and target is not None:
                await self.escalate(target, end.reason, end.by)
                continue
            return await self.refer(end.backstop, end.reason)

    async def handle_at_level(self) -> LevelEnd:
        await self.dispatch()
        await self.decided.wait_for_people(lambda: self.decided.level_end is not None)
        end, self.decided.level_end = known(self.decided.level_end), None
        self.end_clocks(level=self.state.level)
        return end

    async def dispatch(self) -> None:
        """一键派单: the lead unit and each co-unit get the case, each with its own clocks."""
        route, now = self.route, workflow.now()
        new = [
            Assignment(unit_code=unit, lead=unit == route.lead_unit, level=route.level, dispatched_at=now)
            for unit in (route.lead_unit, *route.co_units)
        ]
        waiting: list[str] = []  # rotating units off duty now: their clocks start at their next duty day's opening
        started: list[int] = []  # the clocks' ids, for the dispatch's paper (派单/转办单)
        for assignment in new:
            self.state.assignments.append(assignment)
            response, feedback = self.start_unit_clocks(assignment, route.rotas.get(assignment.unit_code) if self.timing.duty_clocks else None)
            started += [response.id, feedback.id]
            if response.started_at > now:
                waiting.append(f"{assignment.unit_code} 轮驻，时限自 {beijing(response.started_at)} 值班起算")
        lead = known(self.state.clock(ClockName.RESPONSE, route.lead_unit))
        co = f"，协办 {'、'.join(route.co_units)}" if route.co_units else ""
        note = f"一键派单至 {route.lead_unit}{co}，{beijing(lead.due_at)} 前响应" + (f"（{'；'.join(waiting)}）" if waiting else "")
        await self.advance(Stage.DISPATCHED, note, parts=StepParts(clocks=started))
        if self.revision < Revision.BACKGROUND:
            await asyncio.gather(self.assign_mediator(), *(self.deliver_dispatch(a) for a in new))
            return
        for assignment in new:
            self.beside(self.deliver_dispatch(assignment))
        self.tell_parties(NoticeKind.DISPATCHED, f"案件 {self.case.case_no} 已派至 {route.lead_unit} 办理，承办单位将在 {beijing(lead.due_at)} 前与您联系。")
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
        await self.record(StepKind.MEDIATOR, f"{gold} {pick.name}（{pick.mediator_id}）主持调解，{beijing(clock.due_at)} 前调结")

    async def escalate(self, to_level: Level, reason: str, by: str) -> None:
        """分层递进: the case goes up with a new mediator and new units."""
        self.state.escalations.append(Escalation(at=workflow.now(), from_level=self.state.level, to_level=to_level, reason=reason, by=by))
        await self.reroute(level=to_level)
        await self.record(StepKind.ESCALATED, f"升级至{self.route_text()}：{reason}")
        if self.revision >= Revision.SUPERVISED and self.state.grade == RiskGrade.RED:
            self.start_emergency()  # a case made red on its way up alerts the leaders where it now is

    async def hand_down(self, end: LevelEnd) -> None:
        """交办: the higher center sends the case down a level and keeps watching it."""
        watcher = self.state.centers[self.route.level]
        self.state.handovers.append(
            HandoverRecord(at=workflow.now(), from_level=self.route.level, to_level=end.to_level, by=end.by, reason=end.reason, watched_by=watcher)
        )
        await self.reroute(level=end.to_level)
        await self.record(StepKind.HANDED_OVER, f"{watcher} 交办至{self.route_text()}：{end.reason}（上级跟踪督办）", by=end.by, role="supervisor")

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
        if self.revision >= Revision.BACKGROUND:
            self.beside(self.deliver_referral(referral, order))
        else:
            referral.delivery = await self.deliver(order, clock.due_at + timedelta(days=30))
        await self.decided.wait_for_people(lambda: referral.accepted_at is not None)
        return Result(kind.value), f"{kind.label}已受理（{body} 文号 {referral.reference}）"

    async def confirm_agreement(self) -> tuple[Result, str]:
        """司法确认: 人民调解法 §33, the parties apply within 30 days of the agreement taking effect."""
        terms = known(self.state.mediation).terms
        if not self.decided.seek_confirmation:
            return Result.MEDIATED, f"达成调解协议：{terms}"
        confirmation = Confirmation()
        self.state.confirmation = confirmation
        clock = self.start_clock(ClockName.CONFIRMATION, self.clock_set().confirmation, None, lambda: confirmation.applied_at is not None)
        await self.advance(Stage.CONFIRMATION, f"调解协议生效，当事人可于 {beijing(clock.due_at)} 前申请司法确认")
        await self.decided.wait_for_people(lambda: confirmation.applied_at is not None or clock.status == ClockStatus.BREACHED)
        if confirmation.applied_at is None:
            return Result.MEDIATED, f"达成调解协议：{terms}（未在期限内申请司法确认）"
        await self.decided.wait_for_people(lambda: confirmation.decided_at is not None)
        if confirmation.confirmed:
            return Result.CONFIRMED, f"调解协议经 {confirmation.court_code} 司法确认（{confirmation.reference}），具有强制执行力"
        return await self.refer(Backstop.LITIGATION, f"司法确认申请被驳回（{confirmation.reference}）")

    async def close(self, result: Result, note: str) -> None:
        self.end_clocks()
        self.state.result, self.state.result_note, self.state.closed_at = result, note, workflow.now()
        await self.advance(Stage.CLOSED, f"结案：{result.label}。{note}")
        if self.revision >= Revision.BACKGROUND:
            self.tell_parties(NoticeKind.CLOSED, f"案件 {self.case.case_no} 已办结：{result.label}。{note}。工作人员将回访听取您的意见。")
            referred = result.value in {kind.value for kind in Backstop}
            status = PoliceStatus.NOT_ACCEPTED if result == Result.NOT_ACCEPTED else PoliceStatus.REFERRED if referred else PoliceStatus.RESOLVED
            await self.report_to_police(status, f"结案：{result.label}。{note}")

    async def return_visit(self) -> bool:
        """回访: satisfied → settled; unsatisfied → the case reopens."""
        self.decided.visit = None
        self.start_clock(ClockName.RETURN_VISIT, self.clock_set().return_visit, None, lambda: self.decided.visit is not None)
        await self.decided.wait_for_people(lambda: self.decided.visit is not None)
        return known(self.decided.visit).satisfied

    async def reopen(self) -> None:
        self.state.result = self.state.result_note = self.state.closed_at = None
        self.state.confirmation = self.state.referral = None
        visit = known(self.decided.visit)
        target = next_center(self.route.level, self.state.centers) if self.decided.reopen_up else None
        reason = f"回访不满意，重新办理：{visit.notes}"
        if target is not None:
            await self.escalate(target, reason, visit.visitor)
        else:
            await self.record(StepKind.REOPENED, reason)

    async def settle(self) -> None:
        self.end_clocks(final=True)
        alert, decided, settled = self.side.alert, self.decided, f"案结事了：{known(self.decided.visit).notes}"
        if alert is not None and not alert.done():
            alert.cancel()
        await asyncio.gather(*(r.task for r in self.timing.runners))  # a reminder or breach being written finishes
        if decided.answers_after:  # settled first: the visit's answer waits for it, and the run for that answer
            await self.advance(Stage.SETTLED, settled)
            decided.taken = decided.handed
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.side.tasks:  # deliveries, notices and the police feed get through first
            await asyncio.gather(*self.side.tasks)
        if not decided.answers_after:
            await self.advance(Stage.SETTLED, settled)
