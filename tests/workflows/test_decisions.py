"""Every refusal of the case's update validators, by the case's stage: each decision out of turn,
from the wrong party or with a value the case cannot take is refused with its typed reason, in
Chinese (OutOfTurn → 409, WrongActor → 403, BadField → 422 at the API), and never enters the history."""

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType

from onedoor.domain.decisions import (
    AlertAcknowledgement, ConfirmationApplication, ConsentedExtension, CourtDecision, Decline, Extension, GradeOverride, Handover, IncidentLink,
    LevelUp, MediationResult, MediationSession, NewFacts, PartnerReply, PauseRequest, ReferralAnswer, RepeatVisit, ResumeRequest, ReturnVisit,
    SignedIn, UnitFeedback, UnitResponse,
)
from onedoor.domain.labels import Category, ClockName, ClockStatus, HandlingMode, Level, MediationOutcome, Result, RiskGrade, Role, Source, Stage
from onedoor.domain.case import IncidentRef, Party, RiskFactors
from onedoor.domain.timezone import as_shanghai
from tests.workflows.conftest import COUNTY, TOWNSHIP, VILLAGE, policy, refused, until, violent, wage_arrears
from workflows.dispute_case import DisputeCaseWorkflow as Case

NOT_TRIAGED = ("OutOfTurn", "本案尚未研判分级 (not triaged yet)")
CLOSED = ("OutOfTurn", "本案已办结 (case is closed)")
NO_MEDIATION = ("OutOfTurn", "本案当前不在调解中 (no mediation in progress)")
TOO_LATE_TO_DECLINE = ("OutOfTurn", "本案已进入调处结果阶段，不能不予受理 (too late to decline)")
NOTHING_TO_PAUSE = ("OutOfTurn", "没有可暂停的时限 (no clock the pause stops is running)")
NO_VISIT_DUE = ("OutOfTurn", "本案不在待回访阶段 (no return visit due)")
NOT_IN_THE_PERIOD = ("OutOfTurn", "不在司法确认申请期限内 (not within the application period)")


def supervisor(center: str) -> SignedIn:
    return SignedIn(user_id=f"supervisor-{center}", role=Role.SUPERVISOR, jurisdiction_code=center)


def response(unit: str) -> UnitResponse:
    return UnitResponse(unit_code=unit, handler=f"{unit}承办人")


def feedback(unit: str) -> UnitFeedback:
    return UnitFeedback(unit_code=unit, handler=f"{unit}承办人", summary="已按职责处理")


def session(mediator: str, held_on=None) -> MediationSession:
    return MediationSession(mediator_id=mediator, held_on=held_on or as_shanghai(datetime.now(UTC)).date(), mode=HandlingMode.DESK, notes="双方到场")


def agreement(mediator: str, seek_confirmation: bool = False) -> MediationResult:
    return MediationResult(mediator_id=mediator, outcome=MediationOutcome.AGREEMENT, terms="七日内付清", seek_confirmation=seek_confirmation)


def consented(mediator: str, applicant: bool = True, respondent: bool = True) -> ConsentedExtension:
    return ConsentedExtension(mediator_id=mediator, applicant_consents=applicant, respondent_consents=respondent, by=timedelta(seconds=60), reason="需补充材料")


PAUSE = PauseRequest(actor="窗口 张敏", reason="等待当事人补充材料")
DECLINE = Decline(operator="县综治中心 李科长", reason="已进入诉讼程序")
VISIT = ReturnVisit(visitor="回访员 李娜", satisfied=True, notes="当事人表示满意")
LIFT = LevelUp(supervisor="县综治中心 刘志强", reason="多次督办未果")


async def dispatched(cases, intake=None, **start):
    handle = await cases.start(intake, **start)
    return handle, await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))


async def accepted_updates(handle) -> int:
    history = await handle.fetch_history()
    return sum(event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for event in history.events)


async def test_before_triage_nothing_that_needs_a_grade_a_clock_or_a_unit_is_taken(cases, departments):
    """While intake is still being written the case has no grade, no units, no clocks and no alert."""
    writing = departments.hold("record_intake")
    handle = await cases.start(task_timeout=timedelta(seconds=1))
    await writing.reached.wait()
    # Together: each decision reaches the case only as the held task reports progress (about a second apart).
    refusals = await asyncio.gather(
        refused(handle, Case.override_grade, GradeOverride(operator="窗口 张敏", grade=RiskGrade.RED, reason="当事人情绪激动")),
        refused(handle, Case.report_facts, NewFacts(reporter="城关派出所", police_calls=1, note="又一次出警")),
        refused(handle, Case.pause, PAUSE),
        refused(handle, Case.decline, DECLINE),
        refused(handle, Case.respond, response("T101-LDS")),
        refused(handle, Case.lift, LIFT),
        refused(handle, Case.acknowledge_alert, AlertAcknowledgement(center_code=COUNTY, leader="县综治中心主任 李强")),
    )
    assert refusals == [
        NOT_TRIAGED,
        NOT_TRIAGED,
        NOTHING_TO_PAUSE,
        TOO_LATE_TO_DECLINE,  # the words of its other refusal: a case not yet triaged is not "too late"
        ("WrongActor", "单位 T101-LDS 不是本案承办或协办单位 (not a unit this case was dispatched to)"),
        ("OutOfTurn", "本案当前不在办理中，不能提级 (not being handled)"),
        ("OutOfTurn", "没有待确认的预警 (no alert waiting)"),
    ]
    writing.release()
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    assert case.grade == RiskGrade.YELLOW and case.grade_history[-1].by == "系统"  # none of the refused decisions took effect
    assert await accepted_updates(handle) == 0


async def test_a_unit_answers_once_in_order_and_only_its_own_dispatch(cases):
    handle, case = await dispatched(cases)
    assert await refused(handle, Case.respond, response("C-RSJ")) == ("WrongActor", "单位 C-RSJ 不是本案承办或协办单位 (not a unit this case was dispatched to)")
    assert await refused(handle, Case.give_feedback, feedback("C-RSJ")) == ("WrongActor", "单位 C-RSJ 不是本案承办或协办单位 (not a unit this case was dispatched to)")
    assert await refused(handle, Case.give_feedback, feedback("T101-LDS")) == ("OutOfTurn", "本单位尚未响应，不能先反馈 (feedback before response)")
    await handle.execute_update(Case.respond, response("T101-LDS"))
    assert await refused(handle, Case.respond, response("T101-LDS")) == ("OutOfTurn", "本单位已响应，不能重复响应 (already responded)")
    await handle.execute_update(Case.give_feedback, feedback("T101-LDS"))
    assert await refused(handle, Case.give_feedback, feedback("T101-LDS")) == ("OutOfTurn", "本单位已反馈，不能重复反馈 (feedback already given)")
    # The co-unit's own order is its own: still to respond.
    assert await refused(handle, Case.give_feedback, feedback("T101-SFS")) == ("OutOfTurn", "本单位尚未响应，不能先反馈 (feedback before response)")
    assert await accepted_updates(handle) == 2


async def test_only_the_cases_mediator_mediates_on_dates_that_can_be(cases):
    handle, case = await dispatched(cases)
    mediator = case.mediations[-1].mediator_id
    not_ours = ("WrongActor", "调解员 M-OTHER 不是本案调解员 (not this case's mediator)")
    assert await refused(handle, Case.record_session, session("M-OTHER")) == not_ours
    assert await refused(handle, Case.conclude_mediation, agreement("M-OTHER")) == not_ours
    assert await refused(handle, Case.extend_mediation, consented("M-OTHER")) == not_ours
    today, received = as_shanghai(datetime.now(UTC)).date(), as_shanghai(case.received_at).date()
    tomorrow, before = today + timedelta(days=1), received - timedelta(days=1)
    assert await refused(handle, Case.record_session, session(mediator, tomorrow)) == (
        "BadField", f"held_on: 调解日期 {tomorrow} 晚于今天（{today}）(a session cannot be in the future)")
    assert await refused(handle, Case.record_session, session(mediator, before)) == (
        "BadField", f"held_on: 调解日期 {before} 早于案件受理日期（{received}）(before the case was received)")
    for one_side in (consented(mediator, respondent=False), consented(mediator, applicant=False)):
        assert await refused(handle, Case.extend_mediation, one_side) == ("OutOfTurn", "延长调解期限须经双方当事人同意 (both parties must consent)")
    await handle.execute_update(Case.record_session, session(mediator))
    assert await refused(handle, Case.decline, DECLINE) == ("OutOfTurn", "已开始调解，不能不予受理 (mediation has started)")
    await handle.execute_update(Case.conclude_mediation, agreement(mediator))
    # Concluded: the case is closed and waits for its return visit; no mediation is left to act on.
    assert await refused(handle, Case.record_session, session(mediator)) == NO_MEDIATION
    assert await refused(handle, Case.conclude_mediation, agreement(mediator)) == NO_MEDIATION
    assert await refused(handle, Case.extend_mediation, consented(mediator)) == NO_MEDIATION
    assert await accepted_updates(handle) == 2


async def test_a_mediation_whose_clock_ran_out_cannot_be_extended(cases, departments):
    """Between the mediation clock's breach and the case leaving the level (the breach being written),
    the mediator is still the case's but the period is over."""
    writing = departments.hold("record_clock_notice", lambda notice: notice.kind == "breach")
    handle, case = await dispatched(cases, case_policy=policy(mediation=1), task_timeout=timedelta(seconds=1))
    await writing.reached.wait()
    mediator = case.mediations[-1].mediator_id
    assert await refused(handle, Case.extend_mediation, consented(mediator)) == ("OutOfTurn", "调解期限已结束 (mediation clock is not open)")


async def test_a_deadline_is_moved_only_by_the_handling_center_or_above_and_never_the_mediations(cases):
    handle, case = await dispatched(cases)
    extension = Extension(supervisor="镇综治中心 钱明", clock=ClockName.FEEDBACK, unit_code="T101-LDS", by=timedelta(seconds=60), reason="单位人手不足")
    assert await refused(handle, Case.extend, extension.model_copy(update={"clock": ClockName.MEDIATION, "unit_code": None})) == (
        "OutOfTurn", "调解期限只能经双方当事人同意延长 (mediation needs both parties' consent)")
    assert await refused(handle, Case.extend, extension.model_copy(update={"clock": ClockName.CONFIRMATION, "unit_code": None})) == (
        "OutOfTurn", "没有可延长的司法确认申请期限 (no such open clock)")
    assert await refused(handle, Case.extend, extension.model_copy(update={"unit_code": "C-RSJ"})) == (
        "OutOfTurn", "没有可延长的反馈时限（C-RSJ） (no such open clock)")
    assert await refused(handle, Case.extend, extension.model_copy(update={"signed_in": supervisor(VILLAGE)})) == (
        "WrongActor", f"延长时限须由办理本案的乡镇/街道级综治中心（{TOWNSHIP}）或其上级作出，您属于 {VILLAGE} (not your center's decision)")
    for allowed in (supervisor(TOWNSHIP), supervisor(COUNTY), SignedIn(user_id="admin", role=Role.ADMIN)):
        await handle.execute_update(Case.extend, extension.model_copy(update={"signed_in": allowed}))
    assert await accepted_updates(handle) == 3


async def test_clocks_are_paused_once_resumed_once_and_until_a_time_within_the_longest_pause(cases):
    handle, case = await dispatched(cases)
    assert await refused(handle, Case.resume, ResumeRequest(actor="窗口 张敏")) == ("OutOfTurn", "计时未暂停 (clocks are not paused)")
    within = ("OutOfTurn", "until: 须在现在之后、30 日之内 (within the longest pause)")
    now = datetime.now(UTC)
    assert await refused(handle, Case.pause, PAUSE.model_copy(update={"until": now - timedelta(minutes=1)})) == within
    assert await refused(handle, Case.pause, PAUSE.model_copy(update={"until": now + timedelta(days=31)})) == within
    await handle.execute_update(Case.pause, PAUSE)
    assert await refused(handle, Case.pause, PAUSE) == ("OutOfTurn", "计时已暂停 (clocks already paused)")
    await handle.execute_update(Case.resume, ResumeRequest(actor="窗口 张敏"))
    assert await refused(handle, Case.resume, ResumeRequest(actor="窗口 张敏")) == ("OutOfTurn", "计时未暂停 (clocks are not paused)")


async def test_a_case_before_revision_9_has_no_timed_resume(cases):
    handle, case = await dispatched(cases, revision=8)
    later = datetime.now(UTC) + timedelta(days=1)
    assert await refused(handle, Case.pause, PAUSE.model_copy(update={"until": later})) == (
        "OutOfTurn", "until: 本案受理时尚不支持定时恢复 (the case's revision has no timed resume)")


async def test_a_red_alert_is_acknowledged_once_by_its_leader_from_its_center(cases):
    handle = await cases.start(violent())
    case = await until(handle, lambda c: bool(c.alerts))
    alert = case.alerts[-1]
    assert (alert.center_code, alert.leader) == (COUNTY, "县综治中心主任 李强")
    ack = AlertAcknowledgement(center_code=COUNTY, leader="县综治中心主任 李强")
    assert await refused(handle, Case.acknowledge_alert, ack.model_copy(update={"leader": "县委政法委副书记 周红"})) == (
        "WrongActor", f"预警发给 {COUNTY} 的 县综治中心主任 李强 (alert is for another leader)")
    assert await refused(handle, Case.acknowledge_alert, ack.model_copy(update={"signed_in": supervisor(TOWNSHIP)})) == (
        "WrongActor", f"预警发给 {COUNTY} 的 县综治中心主任 李强，只能由该中心确认，您属于 {TOWNSHIP} (not your center's decision)")
    await handle.execute_update(Case.acknowledge_alert, ack.model_copy(update={"signed_in": supervisor(COUNTY)}))
    assert await refused(handle, Case.acknowledge_alert, ack) == ("OutOfTurn", "没有待确认的预警 (no alert waiting)")


async def test_a_referral_is_answered_once_by_the_body_it_went_to(cases):
    handle, case = await dispatched(cases, wage_arrears(category=Category.CONTRACT, factors=RiskFactors(amount_at_stake=8000)))
    answer = ReferralAnswer(body_code="C-FY", reference="（2026）示 0101 民初 1 号")
    assert await refused(handle, Case.answer_referral, answer) == ("OutOfTurn", "没有待受理的转介 (no referral waiting)")
    refusal = MediationResult(mediator_id=case.mediations[-1].mediator_id, outcome=MediationOutcome.REFUSED, reason="被申请人拒绝调解")
    referred = await handle.execute_update(Case.conclude_mediation, refusal)
    assert (referred.stage, referred.referral.body_code) == (Stage.REFERRAL, "C-FY")
    # At the backstop no level handles the case, and the only clock is the body's, which no pause stops.
    assert await refused(handle, Case.decline, DECLINE) == TOO_LATE_TO_DECLINE
    assert await refused(handle, Case.lift, LIFT) == ("OutOfTurn", "本案当前不在办理中，不能提级 (not being handled)")
    assert await refused(handle, Case.hand_over, Handover(supervisor="县综治中心 刘志强", to_level=Level.TOWNSHIP, reason="交镇办理")) == (
        "OutOfTurn", "本案当前不在办理中，不能交办 (not being handled)")
    assert await refused(handle, Case.pause, PAUSE) == NOTHING_TO_PAUSE
    assert await refused(handle, Case.answer_referral, answer.model_copy(update={"body_code": "C-LDZC"})) == (
        "WrongActor", "本案转介至 C-FY，不是 C-LDZC (referred elsewhere)")
    closed = await handle.execute_update(Case.answer_referral, answer)
    assert closed.stage == Stage.CLOSED
    assert await refused(handle, Case.answer_referral, answer) == ("OutOfTurn", "没有待受理的转介 (no referral waiting)")


async def test_judicial_confirmation_is_applied_for_in_its_period_and_decided_by_that_court(cases):
    handle, case = await dispatched(cases)
    mediator = case.mediations[-1].mediator_id
    application = ConfirmationApplication(applicant="王建国", court_code="C-FY")
    decision = CourtDecision(court_code="C-FY", confirmed=True, reference="（2026）示 0101 民特 52 号")
    assert await refused(handle, Case.apply_confirmation, application) == NOT_IN_THE_PERIOD
    assert await refused(handle, Case.court_decision, decision) == ("OutOfTurn", "没有待裁定的司法确认申请 (no application waiting)")
    confirming = await handle.execute_update(Case.conclude_mediation, agreement(mediator, seek_confirmation=True))
    assert confirming.stage == Stage.CONFIRMATION
    assert await refused(handle, Case.court_decision, decision) == ("OutOfTurn", "没有待裁定的司法确认申请 (no application waiting)")
    assert await refused(handle, Case.record_visit, VISIT) == NO_VISIT_DUE
    await handle.execute_update(Case.apply_confirmation, application)
    assert await refused(handle, Case.apply_confirmation, application) == NOT_IN_THE_PERIOD
    assert await refused(handle, Case.court_decision, decision.model_copy(update={"court_code": "C-GZC"})) == (
        "WrongActor", "申请提交至 C-FY，不是 C-GZC (another court)")
    closed = await handle.execute_update(Case.court_decision, decision)
    assert (closed.stage, closed.result) == (Stage.CLOSED, Result.CONFIRMED) and "民特 52 号" in closed.result_note
    assert next(c for c in closed.clocks if c.name == ClockName.CONFIRMATION).status == ClockStatus.MET
    assert await refused(handle, Case.court_decision, decision) == ("OutOfTurn", "没有待裁定的司法确认申请 (no application waiting)")


async def test_a_return_visit_is_recorded_once_and_only_when_one_is_due(cases):
    handle, case = await dispatched(cases)
    assert await refused(handle, Case.record_visit, VISIT) == NO_VISIT_DUE
    await handle.execute_update(Case.conclude_mediation, agreement(case.mediations[-1].mediator_id))
    reopened = await handle.execute_update(Case.record_visit, VISIT.model_copy(update={"satisfied": False, "notes": "款项仍未到账"}))
    assert reopened.stage == Stage.DISPATCHED  # reopened: no visit is due until it closes again
    assert await refused(handle, Case.record_visit, VISIT) == NO_VISIT_DUE


async def test_a_closed_case_takes_no_decision_on_its_handling(cases):
    handle, case = await dispatched(cases, wage_arrears(parties=[*wage_arrears().parties, Party(name="张三", role="other", province_code="37")]))
    closed = await handle.execute_update(Case.decline, DECLINE)
    assert (closed.stage, closed.result, closed.result_note) == (Stage.CLOSED, Result.NOT_ACCEPTED, "已进入诉讼程序")
    assert {c.status for c in closed.clocks if c.name != ClockName.RETURN_VISIT} == {ClockStatus.ENDED}
    assert await refused(handle, Case.respond, response("T101-LDS")) == CLOSED
    assert await refused(handle, Case.give_feedback, feedback("T101-LDS")) == CLOSED
    assert await refused(handle, Case.override_grade, GradeOverride(operator="窗口 张敏", grade=RiskGrade.RED, reason="复核")) == CLOSED
    assert await refused(handle, Case.report_facts, NewFacts(reporter="城关派出所", note="又一次出警")) == CLOSED
    assert await refused(handle, Case.pause, PAUSE) == CLOSED
    assert await refused(handle, Case.partner_reply, PartnerReply(partner_code="P37-XZZX", joint_mediation=False, note="不参加")) == CLOSED
    assert await refused(handle, Case.link_incident, IncidentLink(incident_id="JQ2", reported_at=datetime.now(UTC), summary="又一次出警")) == CLOSED
    assert await refused(handle, Case.join_registration, RepeatVisit(request_id="req-2", source=Source.HOTLINE, summary="再次反映", operator="热线 王芳")) == CLOSED
    assert await refused(handle, Case.lift, LIFT) == CLOSED
    assert await refused(handle, Case.hand_over, Handover(supervisor="县综治中心 刘志强", to_level=Level.VILLAGE, reason="交村办理")) == CLOSED
    assert await refused(handle, Case.decline, DECLINE) == TOO_LATE_TO_DECLINE
    assert await refused(handle, Case.extend, Extension(supervisor="镇综治中心 钱明", clock=ClockName.RESPONSE, unit_code="T101-LDS",
                                                        by=timedelta(seconds=60), reason="延长")) == ("OutOfTurn", "没有可延长的响应时限（T101-LDS） (no such open clock)")
    assert await accepted_updates(handle) == 1


async def test_only_the_partner_center_on_the_case_replies_and_once(cases):
    handle, case = await dispatched(cases)
    reply = PartnerReply(partner_code="P37-XZZX", joint_mediation=True, mediator="鲁调解员", note="参加联合调解")
    assert await refused(handle, Case.partner_reply, reply) == ("OutOfTurn", "本案没有跨省协作 (no partner center on this case)")
    other_province = wage_arrears(parties=[*wage_arrears().parties, Party(name="张三", role="other", province_code="37")])
    handle, case = await dispatched(cases, other_province)
    assert case.partner.partner_code == "P37-XZZX"
    assert await refused(handle, Case.partner_reply, reply.model_copy(update={"partner_code": "P44-XZZX"})) == (
        "WrongActor", "本案协作中心是 P37-XZZX，不是 P44-XZZX (another partner)")
    await handle.execute_update(Case.partner_reply, reply)
    assert await refused(handle, Case.partner_reply, reply) == ("OutOfTurn", "协作中心已回复 (already replied)")


async def test_a_case_is_handed_down_to_a_lower_center_and_lifted_up_to_the_top_by_centers_that_may(cases):
    handle, case = await dispatched(cases)  # the township handles it; the place has no village center
    handover = Handover(supervisor="镇综治中心 钱明", to_level=Level.VILLAGE, reason="交村办理")
    lower = ("OutOfTurn", "只能交办给下级综治中心（现由乡镇/街道级办理）(hand over to a lower level with a center)")
    for level in (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY):
        assert await refused(handle, Case.hand_over, handover.model_copy(update={"to_level": level})) == lower
    assert await refused(handle, Case.lift, LIFT.model_copy(update={"signed_in": supervisor(VILLAGE)})) == (
        "WrongActor", f"提级须由办理本案的乡镇/街道级综治中心（{TOWNSHIP}）或其上级作出，您属于 {VILLAGE} (not your center's decision)")
    county = await handle.execute_update(Case.lift, LIFT.model_copy(update={"signed_in": supervisor(TOWNSHIP)}))
    assert county.level == Level.COUNTY
    assert await refused(handle, Case.hand_over, handover.model_copy(update={"to_level": Level.TOWNSHIP, "signed_in": supervisor(TOWNSHIP)})) == (
        "WrongActor", f"交办须由办理本案的县/区级综治中心（{COUNTY}）或其上级作出，您属于 {TOWNSHIP} (not your center's decision)")
    city = await handle.execute_update(Case.lift, LIFT)
    assert city.level == Level.CITY
    assert await refused(handle, Case.lift, LIFT) == ("OutOfTurn", "本案已由最高一级（市级）办理，不能再提级 (already at the top)")


async def test_an_incident_or_a_registration_joins_a_case_once(cases):
    from_police = wage_arrears(source=Source.POLICE, incident=IncidentRef(incident_id="JQ1", reported_at=datetime.now(UTC)))
    handle, case = await dispatched(cases, from_police)
    for incident in ("JQ1", "JQ2"):  # the one it came from, then one joined to it
        link = IncidentLink(incident_id=incident, reported_at=datetime.now(UTC), summary="同一当事人再次报警")
        if incident == "JQ2":
            await handle.execute_update(Case.link_incident, link)
        assert await refused(handle, Case.link_incident, link) == ("OutOfTurn", f"警情 {incident} 已关联本案 (incident already linked)")
    visit = RepeatVisit(request_id="req-2", source=Source.HOTLINE, summary="再次反映欠薪", operator="热线 王芳")
    await handle.execute_update(Case.join_registration, visit)
    assert await refused(handle, Case.join_registration, visit) == ("OutOfTurn", "登记 req-2 已并入本案 (registration already joined)")
