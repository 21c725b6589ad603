"""People's decisions on the case, as updates: the units', the mediator's, the operators', the bodies' and courts',
the parties' at the return visit, the partner center's, the leaders'. Each has a validator that refuses it out of
turn or from the wrong person, so a refused decision never enters the history."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.decisions import (
        AlertAcknowledgement, ConfirmationApplication, ConsentedExtension, CourtDecision, Decline, GradeOverride, IncidentLink, MediationResult,
        MediationSession, NewFacts, PartnerReply, ReferralAnswer, RepeatVisit, ReturnVisit, SignedIn, UnitFeedback, UnitResponse, applied_to,
    )
    from onedoor.domain.grading import grade
    from onedoor.domain.labels import ClockName, ClockStatus, LevelEndKind, MediationOutcome, PoliceStatus, Role, Stage, StepKind
    from onedoor.domain.messages import StepParts
    from onedoor.domain.state import Assignment, CaseState, Session, Visit
    from onedoor.domain.timezone import as_shanghai
    from workflows.clock import beijing

from workflows.case.grading import CaseGrading
from workflows.case.state import LevelEnd, known
from workflows.refusals import BadField, OutOfTurn, WrongActor


class CaseDecisions(CaseGrading):
    @workflow.update
    async def respond(self, answer: UnitResponse) -> CaseState:
        assignment = known(self.state.assignment(answer.unit_code))
        assignment.response = answer
        note, actor = f"{answer.unit_code} 已响应，承办人 {answer.handler}", f"{answer.unit_code}/{answer.handler}"
        if assignment.lead and self.state.stage == Stage.DISPATCHED and assignment.level == self.state.level:
            await self.advance(Stage.HANDLING, note, by=actor, role="unit", user=answer.signed_in)
        else:
            await self.record(StepKind.RESPONDED, note, by=actor, role="unit", user=answer.signed_in)
        return self.status()

    @respond.validator
    def check_response(self, answer: UnitResponse) -> None:
        assignment = self.unit_assignment(answer.unit_code)
        if assignment.response is not None:
            raise OutOfTurn("本单位已响应，不能重复响应 (already responded)")

    @workflow.update
    async def give_feedback(self, report: UnitFeedback) -> CaseState:
        known(self.state.assignment(report.unit_code)).feedback = report
        await self.record(StepKind.FED_BACK, f"{report.unit_code} 已反馈：{report.summary}", by=f"{report.unit_code}/{report.handler}", role="unit", user=report.signed_in)
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
        await self.decided.taken_up(await self.regrade(override.grade, [f"人工调整：{override.reason}"], override.operator, role="operator", user=override.signed_in,
                                                       shown=["人工调整"]))
        return self.status()

    @override_grade.validator
    def check_override(self, override: GradeOverride) -> None:
        self.check_graded()

    @workflow.update
    async def report_facts(self, facts: NewFacts) -> CaseState:
        self.factors.police_calls_30d += facts.police_calls
        self.factors.prior_mediation_failed |= facts.mediation_failed
        self.factors.high_social_impact |= facts.high_social_impact
        grading = grade(self.factors, self.case.policy.grading)
        await self.decided.taken_up(await self.regrade(grading.grade, grading.reasons, facts.reporter, role="operator", note=facts.note, user=facts.signed_in))
        return self.status()

    @report_facts.validator
    def check_facts(self, facts: NewFacts) -> None:
        self.check_graded()

    def check_graded(self) -> None:
        """A grade to change: the case is open and triage has graded it."""
        self.check_open()
        if self.state.grade is None:
            raise OutOfTurn("本案尚未研判分级 (not triaged yet)")

    @workflow.update
    async def record_session(self, session: MediationSession) -> CaseState:
        mediation = known(self.state.mediation)
        mediation.sessions.append(Session(held_on=session.held_on, mode=session.mode, notes=session.notes))
        await self.record(StepKind.SESSION, f"{session.mode.label}调解（{session.held_on}）：{session.notes}", by=mediation.mediator_name, role="mediator",
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
        mediation = known(self.state.mediation)
        mediation.outcome, mediation.terms, mediation.performance_due = result.outcome, result.terms, result.performance_due
        mediation.reason, mediation.concluded_at = result.reason, workflow.now()
        self.decided.seek_confirmation = result.seek_confirmation
        kind = {MediationOutcome.AGREEMENT: LevelEndKind.AGREEMENT, MediationOutcome.FAILED: LevelEndKind.FAILED,
                MediationOutcome.REFUSED: LevelEndKind.REFUSED, MediationOutcome.WITHDRAWN: LevelEndKind.WITHDRAWN}[result.outcome]
        self.decided.level_end = LevelEnd(kind, result.reason or result.terms or "", mediation.mediator_name, backstop=result.backstop)
        if result.outcome == MediationOutcome.FAILED:
            self.factors.prior_mediation_failed = True
        agreed = StepParts(terms=result.terms, performance_due=result.performance_due) if result.outcome == MediationOutcome.AGREEMENT else None
        return await self.hand_on(StepKind.MEDIATION, f"{mediation.mediator_name}：{result.outcome.label}。{result.terms or result.reason}", by=mediation.mediator_name,
                                 role="mediator", user=result.signed_in, parts=agreed)

    @conclude_mediation.validator
    def check_conclusion(self, result: MediationResult) -> None:
        self.check_mediator(result.mediator_id)

    @workflow.update
    async def extend_mediation(self, request: ConsentedExtension) -> CaseState:
        runner, mediator = self.runner(ClockName.MEDIATION, None), known(self.state.mediation).mediator_name
        runner.extend(request.by, mediator, f"双方当事人同意：{request.reason}")
        await self.record(StepKind.EXTENDED, f"经双方同意，调解期限延至 {beijing(runner.clock.extensions[-1].new_due)}：{request.reason}", by=mediator, role="mediator",
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
        if mediation is None or mediation.outcome is not None or self.decided.level_end is not None or self.state.stage not in (Stage.DISPATCHED, Stage.HANDLING):
            raise OutOfTurn("本案当前不在调解中 (no mediation in progress)")
        if mediation.mediator_id != mediator_id:
            raise WrongActor(f"调解员 {mediator_id} 不是本案调解员 (not this case's mediator)")

    @workflow.update
    async def decline(self, request: Decline) -> CaseState:
        self.decided.level_end = LevelEnd(LevelEndKind.DECLINED, request.reason, request.operator)
        return await self.hand_on(StepKind.DECLINED, f"{request.operator} 决定不予受理：{request.reason}", by=request.operator, role="operator", user=request.signed_in,
                                 parts=StepParts(reason=request.reason))

    @decline.validator
    def check_decline(self, request: Decline) -> None:
        if self.state.stage not in (Stage.TRIAGED, Stage.DISPATCHED, Stage.HANDLING) or self.decided.level_end is not None:
            raise OutOfTurn("本案已进入调处结果阶段，不能不予受理 (too late to decline)")
        if self.state.mediation is not None and self.state.mediation.sessions:
            raise OutOfTurn("已开始调解，不能不予受理 (mediation has started)")

    @workflow.update
    async def acknowledge_alert(self, ack: AlertAcknowledgement) -> CaseState:
        alert = self.state.alerts[-1]
        alert.acknowledged_by, alert.acknowledged_at = ack.leader, workflow.now()
        await self.record(StepKind.ALERT_ACK, f"{alert.center_code} 领导 {ack.leader} 已确认红色预警", by=ack.leader, role="leader", user=ack.signed_in)
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

    @workflow.update
    async def answer_referral(self, answer: ReferralAnswer) -> CaseState:
        referral = known(self.state.referral)
        referral.reference, referral.accepted_at = answer.reference, workflow.now()
        return await self.hand_on(StepKind.REFERRAL_ACCEPTED, f"{answer.body_code} 已受理，文号 {answer.reference}", by=answer.body_code, role="body", user=answer.signed_in)

    @answer_referral.validator
    def check_referral(self, answer: ReferralAnswer) -> None:
        referral = self.state.referral
        if self.state.stage != Stage.REFERRAL or referral is None or referral.accepted_at is not None:
            raise OutOfTurn("没有待受理的转介 (no referral waiting)")
        if referral.body_code != answer.body_code:
            raise WrongActor(f"本案转介至 {referral.body_code}，不是 {answer.body_code} (referred elsewhere)")

    @workflow.update
    async def apply_confirmation(self, application: ConfirmationApplication) -> CaseState:
        confirmation = known(self.state.confirmation)
        confirmation.applicant, confirmation.court_code, confirmation.applied_at = application.applicant, application.court_code, workflow.now()
        return await self.hand_on(StepKind.CONFIRMATION_APPLIED, f"{application.applicant} {applied_to(application.court_code)}", by=application.applicant, role="party",
                                 user=application.signed_in, body=application.court_code)

    @apply_confirmation.validator
    def check_application(self, application: ConfirmationApplication) -> None:
        confirmation, clock = self.state.confirmation, self.state.clock(ClockName.CONFIRMATION)
        if self.state.stage != Stage.CONFIRMATION or confirmation is None or confirmation.applied_at is not None or clock is None or clock.status != ClockStatus.RUNNING:
            raise OutOfTurn("不在司法确认申请期限内 (not within the application period)")

    @workflow.update
    async def court_decision(self, decision: CourtDecision) -> CaseState:
        confirmation = known(self.state.confirmation)
        confirmation.confirmed, confirmation.reference, confirmation.decided_at = decision.confirmed, decision.reference, workflow.now()
        verdict = "确认有效" if decision.confirmed else f"驳回申请：{decision.reason or ''}"
        return await self.hand_on(StepKind.COURT_DECISION, f"{decision.court_code} 裁定{verdict}（{decision.reference}）", by=decision.court_code, role="court", user=decision.signed_in)

    @court_decision.validator
    def check_court(self, decision: CourtDecision) -> None:
        confirmation = self.state.confirmation
        if self.state.stage != Stage.CONFIRMATION or confirmation is None or confirmation.applied_at is None or confirmation.decided_at is not None:
            raise OutOfTurn("没有待裁定的司法确认申请 (no application waiting)")
        if confirmation.court_code != decision.court_code:
            raise WrongActor(f"申请提交至 {confirmation.court_code}，不是 {decision.court_code} (another court)")

    @workflow.update
    async def record_visit(self, visit: ReturnVisit) -> CaseState:
        self.decided.visit = done = Visit(at=workflow.now(), visitor=visit.visitor, satisfied=visit.satisfied, notes=visit.notes)
        self.decided.reopen_up = visit.escalate
        self.state.visits.append(done)
        verdict = "满意" if visit.satisfied else "不满意"
        return await self.hand_on(StepKind.VISIT, f"{visit.visitor} 回访：当事人{verdict}。{visit.notes}", by=visit.visitor, role="visitor", user=visit.signed_in)

    @record_visit.validator
    def check_visit(self, visit: ReturnVisit) -> None:
        if self.state.stage != Stage.CLOSED or self.decided.visit is not None:
            raise OutOfTurn("本案不在待回访阶段 (no return visit due)")

    @workflow.update
    async def partner_reply(self, reply: PartnerReply) -> CaseState:
        partner = known(self.state.partner)
        partner.replied_at, partner.joint_mediation, partner.mediator, partner.note = workflow.now(), reply.joint_mediation, reply.mediator, reply.note
        joint = f"参加联合调解（调解员 {reply.mediator or '待定'}）" if reply.joint_mediation else "不参加联合调解"
        await self.record(StepKind.PARTNER_REPLY, f"跨省协作中心 {reply.partner_code} 回复：{joint}。{reply.note}", by=reply.partner_code, role="partner", user=reply.signed_in)
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

    @workflow.update
    async def link_incident(self, link: IncidentLink) -> CaseState:
        self.state.linked_incidents.append(link.incident_id)
        self.factors.police_calls_30d += 1
        handed = await self.count_again(StepKind.INCIDENT_LINKED, f"关联警情 {link.incident_id}：{link.summary}", "警情流转", role="police", user=link.signed_in)
        await self.report_to_police(PoliceStatus.RECEIVED, f"警情 {link.incident_id} 已并入案件 {self.case.case_no} 办理" + self.now_handled_by(), incident_id=link.incident_id)
        await self.decided.taken_up(handed)
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
        handed = await self.count_again(StepKind.VISIT_JOINED, f"重复来访：{visit.source.label}登记“{visit.summary}”，并入本案", visit.operator, role="operator",
                                        user=visit.signed_in)
        await self.decided.taken_up(handed)
        return self.status()

    @join_registration.validator
    def check_registration(self, visit: RepeatVisit) -> None:
        self.check_open()
        if visit.request_id in self.state.joined_registrations:
            raise OutOfTurn(f"登记 {visit.request_id} 已并入本案 (registration already joined)")

    async def hand_on(self, step: StepKind, note: str, by: str, role: str, user: SignedIn | None, body: str | None = None,
                      parts: StepParts | None = None) -> CaseState:
        """A decision the process acts on (it ends the level, or answers what the process waits for): counted as it
        happens, recorded, and answered once the process has acted on it (revision 7, Decided.taken_up)."""
        handed = self.decided.hand()
        await self.record(step, note, by=by, role=role, user=user, body=body, parts=parts)
        await self.decided.taken_up(handed)
        return self.status()

    def check_open(self) -> None:
        if not self.state.stage.is_open:
            raise OutOfTurn("本案已办结 (case is closed)")
