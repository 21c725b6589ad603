"""The case's paths that turn on what the departments answer and on people's decisions, other than a
refusal (test_decisions.py) or a clock running out (test_clocks.py): a unit's system refusing its
document, mediation failing up the ladder to the backstop, reopening, regrading, handing down,
supervision from above, a calendar edited after intake."""

from datetime import UTC, datetime, time, timedelta

import pytest

from onedoor.domain.calendar import CaseCalendars
from onedoor.domain.case import Category, RiskFactors
from onedoor.domain.decisions import Decline, Handover, MediationResult, NewFacts, ReferralAnswer, ReturnVisit, SupervisionRequest
from onedoor.domain.labels import Audience, Backstop, ClockBasis, ClockName, Level, MediationOutcome, Result, RiskGrade, Stage
from onedoor.domain.policy import ClockRule, NoticePolicy
from onedoor.domain.timezone import as_shanghai
from tests.workflows.conftest import CALENDARS, COUNTY, TOWNSHIP, eventually, in_the_village, policy, until, violent, wage_arrears
from workflows.clock import beijing
from workflows.dispute_case import DisputeCaseWorkflow as Case


def failed(mediator: str, reason: str) -> MediationResult:
    return MediationResult(mediator_id=mediator, outcome=MediationOutcome.FAILED, reason=reason)


async def test_a_unit_whose_system_refuses_its_document_works_from_its_inbox_and_the_operators_are_told(cases, departments):
    departments.refusing["T101-SFS"] = "案件类别不在本单位受理范围"
    handle = await cases.start()
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and all(a.delivery for a in c.assignments))
    deliveries = {a.unit_code: a.delivery for a in case.assignments}
    assert deliveries["T101-LDS"].startswith("系统已接收（回执 T101-LDS-")
    assert deliveries["T101-SFS"] == ("T101-SFS 系统拒收：单位 T101-SFS 系统拒收 (unit system rejected the document, HTTP 422): 案件类别不在本单位受理范围，"
                                      "已转入其收件箱办理，时限照常计算 (fell back to the inbox)")
    assert [o.recipient for o in departments.calls["dispatch_to_unit"]].count("T101-SFS") == 1  # a refusal is not retried
    [told] = await eventually(lambda: departments.notices(handle.id, "fallback"))
    assert (told.audience, told.recipient, told.text) == (Audience.OPERATOR, TOWNSHIP, f"案件 {handle.id}：{deliveries['T101-SFS']}")
    assert "fallback" in departments.steps(handle.id)
    assert all(c.status == "running" for c in case.clocks if c.unit_code == "T101-SFS")  # the clocks keep running


async def test_at_revision_1_a_refused_dispatch_is_recorded_and_nobody_is_told(cases, departments):
    departments.refusing["T101-SFS"] = "拒收"
    handle = await cases.start(revision=1)
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and all(a.delivery for a in c.assignments))
    delivery = next(a.delivery for a in case.assignments if a.unit_code == "T101-SFS")
    assert delivery.startswith("T101-SFS 系统投递失败：") and delivery.endswith("可在收件箱办理，时限照常计算")
    assert "delivered" in departments.steps(handle.id) and departments.notices(handle.id) == []


async def test_mediation_failing_at_every_level_goes_to_labour_arbitration_with_its_history(cases, departments):
    handle = await cases.start(in_the_village())
    for level in (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY):
        case = await until(handle, lambda c: c.level == level and bool(c.mediations) and c.mediations[-1].level == level)
        await handle.execute_update(Case.conclude_mediation, failed(case.mediations[-1].mediator_id, f"{level.label}级调解不成：双方对金额分歧较大"))
    referred = await until(handle, lambda c: c.stage == Stage.REFERRAL)
    assert [(e.from_level, e.to_level) for e in referred.escalations] == [(Level.VILLAGE, Level.TOWNSHIP), (Level.TOWNSHIP, Level.COUNTY), (Level.COUNTY, Level.CITY)]
    assert (referred.referral.kind, referred.referral.body_code) == (Backstop.ARBITRATION, "C-LDZC")  # a labour dispute: arbitration first
    [document] = await eventually(lambda: departments.documents(handle.id, "onedoor.referral/v1"))
    assert len(document.mediation_history) == 4 and document.mediation_history[0].startswith("村/社区：调解不成")
    # Each level's mediator is another: the ones who tried are excluded.
    assert [len(r.exclude) for r in departments.calls["assign_mediator"]] == [0, 1, 2, 3]
    closed = await handle.execute_update(Case.answer_referral, ReferralAnswer(body_code="C-LDZC", reference="示劳人仲案字〔2026〕第 118 号"))
    assert (closed.stage, closed.result) == (Stage.CLOSED, Result.ARBITRATION) and "第 118 号" in closed.result_note
    settled = await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=True, notes="当事人表示满意"))
    assert settled.stage == Stage.SETTLED


async def test_a_refusal_goes_straight_to_the_backstop_the_mediator_chose(cases):
    handle = await cases.start(wage_arrears(category=Category.CONTRACT, factors=RiskFactors(amount_at_stake=8000), legal_aid_eligible=True))
    case = await until(handle, lambda c: bool(c.mediations))
    refusal = MediationResult(mediator_id=case.mediations[-1].mediator_id, outcome=MediationOutcome.REFUSED, reason="被申请人拒绝调解",
                              backstop=Backstop.NOTARY)
    referred = await handle.execute_update(Case.conclude_mediation, refusal)
    assert (referred.stage, referred.referral.kind, referred.referral.body_code, referred.escalations) == (Stage.REFERRAL, Backstop.NOTARY, "C-GZC", [])


async def test_an_unsatisfied_visit_reopens_the_case_where_it_was_handled_or_one_level_up(cases, departments):
    handle = await cases.start()
    case = await until(handle, lambda c: bool(c.mediations))
    await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=case.mediations[-1].mediator_id, outcome=MediationOutcome.AGREEMENT,
                                                                       terms="三日内付清"))
    again = await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=False, notes="款项仍未到账"))
    assert (again.stage, again.level, again.result, len(again.mediations)) == (Stage.DISPATCHED, Level.TOWNSHIP, None, 2)
    assert again.mediations[1].mediator_id != again.mediations[0].mediator_id and "reopened" in departments.steps(handle.id)
    await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=again.mediations[-1].mediator_id, outcome=MediationOutcome.AGREEMENT,
                                                                       terms="当场付清"))
    up = await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=False, notes="仍不满意", escalate=True))
    assert (up.stage, up.level, up.escalations[-1].reason) == (Stage.DISPATCHED, Level.COUNTY, "回访不满意，重新办理：仍不满意")
    await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=up.mediations[-1].mediator_id, outcome=MediationOutcome.AGREEMENT,
                                                                       terms="县人社局监督支付"))
    settled = await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=True, notes="当事人表示满意"))
    assert settled.stage == Stage.SETTLED and [v.satisfied for v in settled.visits] == [False, False, True]


@pytest.mark.parametrize("revision", [6, 7])
async def test_new_facts_that_make_a_case_red_move_it_up_and_alert_the_level_it_goes_to(cases, departments, revision):
    """Revision 7: the alert goes to the leaders of the level that will handle the case; before, of the level it left."""
    handle = await cases.start(revision=revision)
    await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    answer = await handle.execute_update(Case.report_facts, NewFacts(reporter="城关派出所", police_calls=3, note="一周内三次出警"))
    if revision >= 7:
        assert (answer.grade, answer.level) == (RiskGrade.RED, Level.COUNTY)
    moved = await until(handle, lambda c: c.level == Level.COUNTY and bool(c.alerts))
    assert moved.escalations[-1].reason == "等级升为红色，改由县/区级办理" and moved.escalations[-1].by == "城关派出所"
    assert "30 日内警情 3 次（≥3）" in moved.grade_reasons
    assert [(a.level, a.center_code) for a in moved.alerts] == [(Level.COUNTY, COUNTY) if revision >= 7 else (Level.TOWNSHIP, TOWNSHIP)]
    assert [c.priority_key for c in departments.calls["keep_priority"]] == [2, 1]  # yellow at triage, red now


async def test_a_county_hands_a_red_case_down_to_the_township_and_keeps_watching(cases):
    handle = await cases.start(violent())
    await until(handle, lambda c: c.stage == Stage.DISPATCHED and c.level == Level.COUNTY)
    moved = await handle.execute_update(Case.hand_over, Handover(supervisor="县综治中心 刘志强", to_level=Level.TOWNSHIP, reason="属地化解，镇里更了解情况"))
    assert (moved.level, moved.lead_unit, moved.stage, moved.escalations) == (Level.TOWNSHIP, "T101-LDS", Stage.DISPATCHED, [])
    handover = moved.handovers[0]
    assert (handover.from_level, handover.to_level, handover.watched_by, handover.by) == (Level.COUNTY, Level.TOWNSHIP, COUNTY, "县综治中心 刘志强")


async def test_a_higher_center_supervises_a_unit_which_receives_the_order_and_a_closed_case_takes_none(cases, departments):
    handle = await cases.start()
    await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    await handle.signal(Case.supervise, SupervisionRequest(supervisor="县综治中心 刘志强", order="请于今日内联系当事人并反馈"))
    case = await until(handle, lambda c: bool(c.supervision_orders))
    order = case.supervision_orders[0]
    assert (order.unit_code, order.clock, order.by, order.to_level, order.order) == ("T101-LDS", None, "县综治中心 刘志强", Level.TOWNSHIP, "请于今日内联系当事人并反馈")
    [document] = await eventually(lambda: departments.documents(handle.id, "onedoor.supervision/v1"))
    assert (document.unit_code, document.by, document.order) == ("T101-LDS", "县综治中心 刘志强", "请于今日内联系当事人并反馈")
    [told] = await eventually(lambda: departments.notices(handle.id, "supervision"))
    assert (told.audience, told.recipient) == (Audience.UNIT, "T101-LDS")
    closed = await handle.execute_update(Case.decline, Decline(operator="窗口 张敏", reason="不属受理范围"))
    assert closed.stage == Stage.CLOSED
    await handle.signal(Case.supervise, SupervisionRequest(supervisor="县综治中心 刘志强", order="再次督办"))
    await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=True, notes="知悉"))
    settled = await handle.result()
    assert [o.order for o in settled.supervision_orders] == ["请于今日内联系当事人并反馈"]


async def test_a_holiday_entered_after_intake_moves_a_working_day_clock_not_a_natural_one(cases, departments):
    case_policy = policy()
    case_policy.clocks.yellow.feedback = ClockRule(length=timedelta(days=1), basis=ClockBasis.WORKING_DAYS)
    handle = await cases.start(case_policy=case_policy)
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    feedback = next(c for c in case.clocks if c.name == ClockName.FEEDBACK and c.unit_code == "T101-LDS")
    response = next(c for c in case.clocks if c.name == ClockName.RESPONSE and c.unit_code == "T101-LDS")
    closed_day = as_shanghai(feedback.due_at).date()
    edited = CaseCalendars(default=CALENDARS.default.model_copy(update={"holidays": {closed_day: "临时闭馆"}}))
    await handle.signal(Case.recalendar, edited)
    moved = await until(handle, lambda c: next(x for x in c.clocks if x.id == feedback.id).due_at != feedback.due_at)
    new_due = next(x for x in moved.clocks if x.id == feedback.id).due_at
    assert as_shanghai(new_due).date() > closed_day and as_shanghai(new_due).time() == time(17, 30)
    assert next(x for x in moved.clocks if x.id == response.id).due_at == response.due_at
    await eventually(lambda: "recalendared" in departments.steps(handle.id))
    recorded = next(s for s in departments.calls["record_step"] if s.kind == "recalendared")
    assert f"反馈时限（T101-LDS）由 {beijing(feedback.due_at)} 改至 {beijing(new_due)}" in recorded.note


async def test_quiet_hours_hold_a_partys_notice_until_they_end_but_not_a_red_cases(cases, departments):
    now = as_shanghai(datetime.now(UTC))
    ends = now + timedelta(seconds=3)
    quiet = policy(notices=NoticePolicy(quiet_from=(now - timedelta(minutes=1)).time(), quiet_until=ends.time()))
    held, red = await cases.start(case_policy=quiet), await cases.start(violent(), case_policy=quiet)
    await until(held, lambda c: c.stage == Stage.DISPATCHED)
    await eventually(lambda: departments.notices(red.id, "received"))  # red: told at once, quiet hours or not
    assert departments.notices(held.id) == []
    told = await eventually(lambda: {n.kind for n in departments.notices(held.id)} >= {"received", "dispatched"} and departments.notices(held.id), timeout=15)
    assert all(n.audience == Audience.PARTY for n in told) and as_shanghai(datetime.now(UTC)) >= ends
    history = (await held.fetch_history()).events
    assert any(e.timer_started_event_attributes.timer_id and "免打扰：当事人通知留至" in e.user_metadata.summary.data.decode() for e in history)
