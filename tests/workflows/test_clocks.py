"""Each clock of a case running out, and what follows: the reminder (催办), the breach and its supervision
order (督办) to the level above, told to the late unit's system, the unit and the leader; the case going
up the ladder, or staying under supervision at the top or where policy keeps it; the parties' own
deadline lapsing; a red alert going from leader to leader up to the top; a pause holding the clocks
it stops until it ends by itself. Clocks last seconds; each point is a Temporal timer (about a second)."""

from datetime import UTC, datetime, time, timedelta

import pytest

from onedoor.domain.case import Party, RiskFactors
from onedoor.domain.decisions import (
    AlertAcknowledgement, ConfirmationApplication, Extension, LevelUp, MediationResult, PartnerReply, PauseRequest, ReferralAnswer, ReturnVisit, UnitFeedback,
    UnitResponse,
)
from onedoor.domain.labels import Audience, Category, ClockName, ClockStatus, Level, MediationOutcome, Result, Stage
from onedoor.domain.policy import ClockRule
from onedoor.domain.state import CaseState, Clock
from onedoor.domain.timezone import SHANGHAI, as_shanghai
from tests.workflows.conftest import CITY, COUNTY, eventually, in_the_village, policy, refused, until, violent, wage_arrears
from workflows.clock import beijing
from workflows.dispute_case import DisputeCaseWorkflow as Case

SUPERVISION = "onedoor.supervision/v1"


async def listed(client, query: str) -> bool:
    return bool([w async for w in client.list_workflows(query)])


def clocks(case: CaseState, name: ClockName, unit: str | None = None, level: Level | None = None) -> list[Clock]:
    return [c for c in case.clocks if c.name == name and (unit is None or c.unit_code == unit) and (level is None or c.level == level)]


def late(clock: Clock, who: str | None = None) -> str:
    """The words every breach's order starts with."""
    return f"{who or clock.unit_code} 未在{clock.name.label}内完成（应于 {beijing(clock.due_at)} 前），"


async def answer(handle, *units: str, feedback: bool = True) -> None:
    for unit in units:
        await handle.execute_update(Case.respond, UnitResponse(unit_code=unit, handler=f"{unit}承办人"))
        if feedback:
            await handle.execute_update(Case.give_feedback, UnitFeedback(unit_code=unit, handler=f"{unit}承办人", summary="已按职责处理"))


async def test_units_that_never_respond_are_reminded_then_supervised_and_the_case_goes_up(cases, departments):
    handle = await cases.start(case_policy=policy(response=2))
    case = await until(handle, lambda c: c.level == Level.COUNTY and len(c.mediations) == 2, timeout=20)
    lead, co = clocks(case, ClockName.RESPONSE, "T101-LDS")[0], clocks(case, ClockName.RESPONSE, "T101-SFS")[0]
    for clock in (lead, co):
        assert clock.status == ClockStatus.BREACHED and clock.moved_on  # late, and behind the case now
        # Temporal fires timers on its second's tick: a 2 s clock's reminder may come as late as its deadline, never early.
        assert clock.remind_at <= clock.reminded_at and clock.due_at <= clock.breached_at
    # Each late unit gets its order from the county; the lead's breach also lifts the case there.
    orders = [(o.clock, o.unit_code, o.to_level, o.order) for o in case.supervision_orders]
    assert sorted(orders) == [(ClockName.RESPONSE, c.unit_code, Level.COUNTY, late(c) + "提请县/区级综治中心督办") for c in (lead, co)]
    [escalation] = case.escalations
    assert (escalation.from_level, escalation.to_level, escalation.by, escalation.reason) == (
        Level.TOWNSHIP, Level.COUNTY, "系统", late(lead) + "提请县/区级综治中心督办")
    assert (case.lead_unit, case.jurisdiction_code, case.stage, case.overdue) == ("C-RSJ", COUNTY, Stage.DISPATCHED, False)
    assert case.mediations[-1].mediator_id != case.mediations[0].mediator_id
    assert departments.calls["assign_mediator"][-1].exclude == [case.mediations[0].mediator_id]
    # On record: a reminder and a breach for each; the late units' systems get the order as a supervisor's.
    notices = departments.clock_notices(handle.id)
    assert [n.kind for n in notices if n.clock.unit_code == "T101-LDS"][:2] == ["reminder", "breach"]
    assert sorted((n.kind, n.clock.unit_code, n.to_level) for n in notices if n.clock.level == Level.TOWNSHIP and n.clock.name == ClockName.RESPONSE) == [
        ("breach", "T101-LDS", Level.COUNTY), ("breach", "T101-SFS", Level.COUNTY), ("reminder", "T101-LDS", None), ("reminder", "T101-SFS", None)]
    documents = await eventually(lambda: len(departments.documents(handle.id, SUPERVISION)) == 2 and departments.documents(handle.id, SUPERVISION))
    assert {(d.unit_code, d.by, d.order) for d in documents} == {(c.unit_code, f"县/区级综治中心（{COUNTY}）", late(c) + "提请县/区级综治中心督办") for c in (lead, co)}
    told = await eventually(lambda: {(n.audience, n.recipient, n.kind) for n in departments.notices(handle.id) if n.kind in ("reminder", "breach")})
    assert told >= {(Audience.UNIT, "T101-LDS", "reminder"), (Audience.UNIT, "T101-LDS", "breach"), (Audience.UNIT, "T101-SFS", "breach"),
                    (Audience.LEADER, "县综治中心主任 李强", "breach")}
    # The township unit's late answer is still taken, and counted late; the case stays at the county.
    answered = await handle.execute_update(Case.respond, UnitResponse(unit_code="T101-LDS", handler="刘干事"))
    assert clocks(answered, ClockName.RESPONSE, "T101-LDS")[0].status == ClockStatus.MET_LATE
    assert (answered.level, answered.stage) == (Level.COUNTY, Stage.DISPATCHED)


async def test_a_lead_unit_that_responds_but_never_reports_is_supervised_and_the_case_goes_up(cases, departments):
    handle = await cases.start(case_policy=policy(feedback=3, reminders=False))
    await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    await answer(handle, "T101-LDS", feedback=False)
    await answer(handle, "T101-SFS")
    case = await until(handle, lambda c: c.level == Level.COUNTY, timeout=20)
    feedback = clocks(case, ClockName.FEEDBACK, "T101-LDS")[0]
    assert feedback.status == ClockStatus.BREACHED
    assert {c.status for c in clocks(case, ClockName.RESPONSE, level=Level.TOWNSHIP)} == {ClockStatus.MET}
    assert [(o.clock, o.unit_code) for o in case.supervision_orders] == [(ClockName.FEEDBACK, "T101-LDS")]
    assert case.escalations[0].reason == late(feedback) + "提请县/区级综治中心督办"
    [document] = await eventually(lambda: departments.documents(handle.id, SUPERVISION))
    assert document.unit_code == "T101-LDS"


async def test_a_co_units_breach_is_supervised_but_leaves_the_case_where_it_is(cases, departments):
    handle = await cases.start(case_policy=policy(response=2, reminders=False))
    await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    await answer(handle, "T101-LDS")
    case = await until(handle, lambda c: bool(c.supervision_orders), timeout=15)
    co = clocks(case, ClockName.RESPONSE, "T101-SFS")[0]
    assert [(o.unit_code, o.to_level, o.order) for o in case.supervision_orders] == [("T101-SFS", Level.COUNTY, late(co) + "提请县/区级综治中心督办")]
    assert (case.level, case.stage, case.escalations, case.overdue) == (Level.TOWNSHIP, Stage.HANDLING, [], True)
    [document] = await eventually(lambda: departments.documents(handle.id, SUPERVISION))
    assert document.unit_code == "T101-SFS"
    # The supervisors' Overdue filter in the Temporal UI lists it (revision 6: published in the task after the breach's).
    await eventually(lambda: listed(cases.client, f'Overdue=true AND WorkflowId="{handle.id}"'))
    answered = await handle.execute_update(Case.respond, UnitResponse(unit_code="T101-SFS", handler="司法所 陈干事"))
    assert clocks(answered, ClockName.RESPONSE, "T101-SFS")[0].status == ClockStatus.MET_LATE and answered.overdue is False


@pytest.mark.parametrize("revision", [6, 7])
async def test_a_rotating_units_clocks_start_when_it_is_next_on_duty(cases, departments, revision):
    """Revision 7: a unit on a rota (轮驻) that is off today starts its response and feedback clocks at the opening of its
    next duty day; a resident unit's start at dispatch, as every unit's did before."""
    today = as_shanghai(datetime.now(UTC)).date()
    departments.rotas["T101-LDS"] = [day for day in range(1, 8) if day != today.isoweekday()]
    case_policy = policy()
    case_policy.clocks.follow_rota = True
    handle = await cases.start(case_policy=case_policy, revision=revision)
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    dispatched = case.assignments[0].dispatched_at
    for name in (ClockName.RESPONSE, ClockName.FEEDBACK):
        lead, co = clocks(case, name, "T101-LDS")[0], clocks(case, name, "T101-SFS")[0]
        assert co.started_at == dispatched
        if revision >= 7:
            assert as_shanghai(lead.started_at) == datetime.combine(today + timedelta(days=1), time(8, 30), tzinfo=SHANGHAI)
        else:
            assert lead.started_at == dispatched
    assert ("T101-LDS 轮驻，时限自" in case.steps[-1].note) == (revision >= 7)


async def test_a_clock_reminds_at_each_of_its_thresholds(cases, departments):
    """Several reminders per clock (revision 9): at 50 % and 90 % of a 4 s response clock."""
    case_policy = policy()
    case_policy.clocks.yellow.response = ClockRule(length=timedelta(seconds=4), remind_at=[0.5, 0.9])
    handle = await cases.start(case_policy=case_policy)
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    lead = clocks(case, ClockName.RESPONSE, "T101-LDS")[0]
    assert (lead.remind_at - lead.started_at, [at - lead.started_at for at in lead.later_reminders]) == (timedelta(seconds=2), [timedelta(seconds=3.6)])
    reminders = await eventually(lambda: [n for n in departments.clock_notices(handle.id, "reminder") if n.clock.unit_code == "T101-LDS"][1:] and
                                 [n for n in departments.clock_notices(handle.id, "reminder") if n.clock.unit_code == "T101-LDS"])
    assert [n.nth for n in reminders] == [1, 2]


async def test_an_extension_moves_a_units_breach_to_its_new_deadline(cases):
    handle = await cases.start(case_policy=policy(response=2, reminders=False))
    await until(handle, lambda c: c.stage == Stage.DISPATCHED)
    extended = await handle.execute_update(Case.extend, Extension(supervisor="镇综治中心 钱明", clock=ClockName.RESPONSE, unit_code="T101-LDS",
                                                                  by=timedelta(seconds=3), reason="单位核实中"))
    lead = clocks(extended, ClockName.RESPONSE, "T101-LDS")[0]
    assert lead.due_at - lead.started_at == timedelta(seconds=5) and lead.extensions[0].by == "镇综治中心 钱明"
    co_breached = await until(handle, lambda c: bool(c.supervision_orders), timeout=15)
    assert [o.unit_code for o in co_breached.supervision_orders] == ["T101-SFS"] and co_breached.level == Level.TOWNSHIP
    case = await until(handle, lambda c: bool(c.escalations), timeout=15)
    assert clocks(case, ClockName.RESPONSE, "T101-LDS")[0].breached_at >= lead.due_at


async def test_a_mediation_not_concluded_in_its_period_goes_up_with_a_new_mediator(cases, departments):
    handle = await cases.start(case_policy=policy(mediation=2, reminders=False))
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))
    await answer(handle, "T101-LDS", "T101-SFS")
    case = await until(handle, lambda c: c.level == Level.COUNTY and len(c.mediations) == 2, timeout=20)
    mediation = clocks(case, ClockName.MEDIATION, level=Level.TOWNSHIP)[0]
    order = late(mediation, "调解员1号") + "提请县/区级综治中心督办"
    assert mediation.status == ClockStatus.BREACHED
    assert [(o.clock, o.unit_code, o.order) for o in case.supervision_orders] == [(ClockName.MEDIATION, None, order)]
    assert case.escalations[0].reason == order and case.mediations[0].outcome is None
    assert case.mediations[1].mediator_id != case.mediations[0].mediator_id
    # No unit is late: no unit's system is sent an order; the county's leader hears of it.
    leaders = await eventually(lambda: [n.recipient for n in departments.notices(handle.id, "breach") if n.audience == Audience.LEADER])
    assert leaders == ["县综治中心主任 李强"] and departments.documents(handle.id, SUPERVISION) == []


async def test_nobody_answers_at_any_level_so_the_case_climbs_to_the_city_and_stays_there_under_its_supervision(cases, departments):
    """Lateness is supervised, not a verdict (revision 7): at the top the case stays with the city's unit under the
    city center's order and a new clock each time, and is never referred to the judicial backstop for it."""
    handle = await cases.start(in_the_village(), case_policy=policy(response=1, reminders=False))

    def supervised_at_the_top(case: CaseState) -> list:
        return [o for o in case.supervision_orders if o.to_level is None and o.unit_code == "S-RSJ"]

    case = await until(handle, lambda c: c.level == Level.CITY and len(supervised_at_the_top(c)) >= 2, timeout=40)
    assert [(e.from_level, e.to_level) for e in case.escalations] == [(Level.VILLAGE, Level.TOWNSHIP), (Level.TOWNSHIP, Level.COUNTY), (Level.COUNTY, Level.CITY)]
    assert (case.stage, case.referral, case.result, case.overdue) == (Stage.DISPATCHED, None, None, True)
    responses = clocks(case, ClockName.RESPONSE, "S-RSJ")
    assert [c.status for c in responses[:2]] == [ClockStatus.BREACHED] * 2 and len(responses) >= 3  # a new clock after each order
    first = supervised_at_the_top(case)[0]
    assert first.order == late(responses[0]) + f"由市级综治中心督办，限 {beijing(responses[1].due_at)} 前完成"
    # Every level's late lead unit had the order in its own system; at the top, from the city center.
    documents = await eventually(lambda: len(departments.documents(handle.id, SUPERVISION)) >= 8 and departments.documents(handle.id, SUPERVISION))
    assert {"V201-TWH", "T101-LDS", "T101-SFS", "C-RSJ", "C-SFJ", "S-RSJ", "S-SFJ"} <= {d.unit_code for d in documents}
    assert {d.by for d in documents if d.unit_code == "S-RSJ"} == {f"市级综治中心（{CITY}）"}
    leaders = await eventually(lambda: {n.recipient for n in departments.notices(handle.id, "breach") if n.audience == Audience.LEADER} >= {
        "镇综治中心主任 钱明", "县综治中心主任 李强", "市综治中心值班领导 孙卫东"})
    assert leaders
    assert departments.calls["find_backstop_body"] == []
    answered = await handle.execute_update(Case.respond, UnitResponse(unit_code="S-RSJ", handler="市人社局 周干事"))
    responses = clocks(answered, ClockName.RESPONSE, "S-RSJ")
    assert {c.status for c in responses[:-1]} == {ClockStatus.MET_LATE} and responses[-1].status == ClockStatus.MET
    assert answered.stage == Stage.HANDLING


async def test_before_revision_7_a_breach_at_the_top_sends_the_case_to_the_judicial_backstop(cases, departments):
    handle = await cases.start(violent(), case_policy=policy(response=1, reminders=False), revision=6)
    case = await until(handle, lambda c: c.stage == Stage.REFERRAL, timeout=30)
    assert [(e.from_level, e.to_level) for e in case.escalations] == [(Level.COUNTY, Level.CITY)]
    city_lead = clocks(case, ClockName.RESPONSE, "S-RSJ")[0]
    assert (case.referral.kind, case.referral.body_code) == ("litigation", "C-FY")  # a neighbours' quarrel: the court's litigation service
    assert case.steps[-1].note.startswith(late(city_lead) + "由本级综治中心督办；转诉讼服务（诉调对接）（C-FY）")
    [referral] = await eventually(lambda: departments.documents(handle.id, "onedoor.referral/v1"))
    assert referral.body_code == "C-FY" and len(referral.mediation_history) == 2
    assert departments.documents(handle.id, SUPERVISION) == []  # before revision 7 no order went to a unit's system


async def test_where_policy_keeps_breaches_in_place_the_late_unit_is_supervised_under_a_new_clock_until_a_supervisor_lifts_the_case(cases, departments):
    handle = await cases.start(case_policy=policy(response=2, reminders=False, breach_escalates=False))
    case = await until(handle, lambda c: any(o.unit_code == "T101-LDS" for o in c.supervision_orders), timeout=15)
    responses = clocks(case, ClockName.RESPONSE, "T101-LDS")
    order = next(o for o in case.supervision_orders if o.unit_code == "T101-LDS")
    assert (case.level, case.stage, case.escalations) == (Level.TOWNSHIP, Stage.DISPATCHED, [])
    assert order.to_level == Level.COUNTY and order.order == late(responses[0]) + f"由县/区级综治中心督办，限 {beijing(responses[1].due_at)} 前完成"
    document = await eventually(lambda: next((d for d in departments.documents(handle.id, SUPERVISION) if d.unit_code == "T101-LDS"), None))
    assert (document.by, document.order) == (f"县/区级综治中心（{COUNTY}）", order.order)
    await eventually(lambda: any(d.unit_code == "T101-SFS" for d in departments.documents(handle.id, SUPERVISION)))  # the co-unit's too
    answered = await handle.execute_update(Case.respond, UnitResponse(unit_code="T101-LDS", handler="刘干事"))
    responses = clocks(answered, ClockName.RESPONSE, "T101-LDS")
    assert {c.status for c in responses[:-1]} == {ClockStatus.MET_LATE} and responses[-1].status == ClockStatus.MET
    assert (answered.level, answered.stage) == (Level.TOWNSHIP, Stage.HANDLING)
    lifted = await handle.execute_update(Case.lift, LevelUp(supervisor="县综治中心 刘志强", reason="镇级多次督办未果，提级办理"))
    assert (lifted.level, lifted.stage, lifted.lead_unit) == (Level.COUNTY, Stage.DISPATCHED, "C-RSJ")
    assert lifted.escalations[-1].reason == "县综治中心 刘志强 决定提级：镇级多次督办未果，提级办理"


async def test_a_partner_center_that_never_replies_lifts_the_case_like_a_late_lead_unit(cases, departments):
    other_province = wage_arrears(parties=[*wage_arrears().parties, Party(name="张三", role="other", province_code="37")])
    handle = await cases.start(other_province, case_policy=policy(partner_reply=2, reminders=False))
    case = await until(handle, lambda c: c.level == Level.COUNTY, timeout=15)
    partner = clocks(case, ClockName.PARTNER_REPLY, "P37-XZZX")[0]
    assert partner.status == ClockStatus.BREACHED and case.partner.replied_at is None
    assert case.escalations[0].reason == late(partner) + "提请县/区级综治中心督办"
    [notice] = await eventually(lambda: departments.documents(handle.id, "onedoor.partner-notice/v1"))
    assert notice.partner_code == "P37-XZZX" and notice.reply_by == partner.due_at
    await eventually(lambda: [n for n in departments.notices(handle.id, "breach") if n.recipient == "P37-XZZX"])
    # A late reply is still taken, and joint mediation goes on the record.
    replied = await handle.execute_update(Case.partner_reply, PartnerReply(partner_code="P37-XZZX", joint_mediation=True, mediator="冠县调解员 孙立",
                                                                          note="同意联合调解"))
    assert replied.partner.joint_mediation is True and clocks(replied, ClockName.PARTNER_REPLY)[0].status == ClockStatus.MET_LATE


async def test_the_parties_let_the_confirmation_period_lapse_and_the_agreement_stands_unconfirmed(cases, departments):
    """The parties' own deadline: it lapses, nobody is supervised for it."""
    handle = await cases.start(case_policy=policy(confirmation=2))
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))
    await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=case.mediations[-1].mediator_id, outcome=MediationOutcome.AGREEMENT,
                                                                       terms="一次性支付 8000 元", seek_confirmation=True))
    closed = await until(handle, lambda c: c.stage == Stage.CLOSED, timeout=15)
    assert (closed.result, closed.result_note) == (Result.MEDIATED, "达成调解协议：一次性支付 8000 元（未在期限内申请司法确认）")
    confirmation = clocks(closed, ClockName.CONFIRMATION)[0]
    assert confirmation.status == ClockStatus.BREACHED and confirmation.reminded_at is not None
    assert closed.supervision_orders == []
    assert [n.kind for n in departments.clock_notices(handle.id) if n.clock.name == ClockName.CONFIRMATION] == ["reminder", "lapse"]
    assert await refused(handle, Case.apply_confirmation, ConfirmationApplication(applicant="王建国", court_code="C-FY")) == (
        "OutOfTurn", "不在司法确认申请期限内 (not within the application period)")


async def test_a_backstop_body_late_to_accept_is_supervised_and_its_late_acceptance_still_closes_the_case(cases, departments):
    handle = await cases.start(wage_arrears(category=Category.CONTRACT, factors=RiskFactors(amount_at_stake=8000)), case_policy=policy(referral=2, reminders=False))
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))
    await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=case.mediations[-1].mediator_id, outcome=MediationOutcome.REFUSED,
                                                                       reason="被申请人拒绝调解"))
    case = await until(handle, lambda c: bool(c.supervision_orders), timeout=15)
    referral = clocks(case, ClockName.REFERRAL, "C-FY")[0]
    assert [(o.clock, o.unit_code, o.order) for o in case.supervision_orders] == [(ClockName.REFERRAL, "C-FY", late(referral) + "提请县/区级综治中心督办")]
    assert (case.stage, case.escalations) == (Stage.REFERRAL, [])  # the referral stands
    await eventually(lambda: [n for n in departments.notices(handle.id, "breach") if n.recipient == "C-FY"])
    closed = await handle.execute_update(Case.answer_referral, ReferralAnswer(body_code="C-FY", reference="（2026）示 0101 民初 7 号"))
    assert (closed.stage, closed.result) == (Stage.CLOSED, Result.LITIGATION)
    assert clocks(closed, ClockName.REFERRAL, "C-FY")[0].status == ClockStatus.MET_LATE


async def test_a_return_visit_not_made_in_time_is_supervised_and_still_settles_the_case(cases, departments):
    handle = await cases.start(case_policy=policy(return_visit=2))
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))
    await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=case.mediations[-1].mediator_id, outcome=MediationOutcome.AGREEMENT,
                                                                       terms="七日内付清"))
    case = await until(handle, lambda c: bool(c.supervision_orders), timeout=15)
    visit = clocks(case, ClockName.RETURN_VISIT)[0]
    assert [o.order for o in case.supervision_orders] == [late(visit, "本级综治中心") + "提请县/区级综治中心督办"]
    assert case.stage == Stage.CLOSED
    settled = await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=True, notes="当事人表示满意"))
    assert settled.stage == Stage.SETTLED and clocks(settled, ClockName.RETURN_VISIT)[0].status == ClockStatus.MET_LATE


async def test_an_unacknowledged_red_alert_goes_from_leader_to_leader_up_to_the_top(cases, departments):
    handle = await cases.start(violent(), case_policy=policy(emergency_ack=1))
    case = await until(handle, lambda c: len(c.alerts) == 3 and c.alerts[-1].due_at < datetime.now(UTC), timeout=20)
    assert [(a.level, a.center_code, a.leader) for a in case.alerts] == [
        (Level.COUNTY, COUNTY, "县综治中心主任 李强"), (Level.COUNTY, COUNTY, "县委政法委副书记 周红"), (Level.CITY, CITY, "市综治中心值班领导 孙卫东")]
    for earlier, later in zip(case.alerts, case.alerts[1:]):
        assert earlier.acknowledged_at is None and later.at >= earlier.due_at
    assert [a.leader for a in departments.calls["record_alert"] if a.case_no == handle.id] == [a.leader for a in case.alerts]
    told = await eventually(lambda: len(departments.notices(handle.id, "alert")) == 3 and departments.notices(handle.id, "alert"))
    assert [(n.audience, n.recipient) for n in told] == [(Audience.LEADER, a.leader) for a in case.alerts]
    assert "请县/区级综治中心 县综治中心主任 李强 于" in told[0].text
    # The top leader's window ends too: there is no one further to tell.
    case = await until(handle, lambda c: c.alerts[-1].due_at < datetime.now(UTC) - timedelta(seconds=1))
    assert len(case.alerts) == 3


async def test_an_acknowledged_red_alert_goes_no_further(cases, departments):
    handle = await cases.start(violent(), case_policy=policy(emergency_ack=1))
    await until(handle, lambda c: bool(c.alerts))
    acked = await handle.execute_update(Case.acknowledge_alert, AlertAcknowledgement(center_code=COUNTY, leader="县综治中心主任 李强"))
    assert acked.alerts[-1].acknowledged_by == "县综治中心主任 李强"
    case = await until(handle, lambda c: c.alerts[-1].due_at < datetime.now(UTC) - timedelta(seconds=1))
    assert len(case.alerts) == 1 and len(departments.calls["record_alert"]) == 1


async def test_a_pause_for_a_party_holds_the_clocks_it_stops_until_it_ends_by_itself_and_the_parties_are_told(cases, departments):
    handle = await cases.start(case_policy=policy(feedback=2, reminders=False))
    await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))
    until_at = datetime.now(UTC) + timedelta(seconds=3)
    paused = await handle.execute_update(Case.pause, PauseRequest(actor="窗口 张敏", reason="等待申请人补交劳动合同", until=until_at))
    stopped = {(c.name, c.unit_code) for c in paused.clocks if c.status == ClockStatus.PAUSED}
    assert stopped == {(ClockName.FEEDBACK, "T101-LDS"), (ClockName.FEEDBACK, "T101-SFS"), (ClockName.MEDIATION, None)}
    assert {c.status for c in clocks(paused, ClockName.RESPONSE)} == {ClockStatus.RUNNING}  # a unit's first response runs on
    assert paused.paused.until == until_at and paused.paused.stopped == [c.id for c in paused.clocks if c.status == ClockStatus.PAUSED]
    note = next(s.note for s in departments.calls["record_step"] if s.case_no == handle.id and s.kind == "paused")
    assert note == (f"窗口 张敏 暂停计时（等待当事人）：等待申请人补交劳动合同；暂停反馈时限（T101-LDS）、反馈时限（T101-SFS）、调解期限，"
                    f"{beijing(until_at)} 自动恢复；响应时限（T101-LDS）、响应时限（T101-SFS）照常计时")
    resumed = await until(handle, lambda c: c.paused is None, timeout=10)
    feedback = clocks(resumed, ClockName.FEEDBACK, "T101-LDS")[0]
    assert feedback.pauses[0].resumed_at >= until_at and feedback.status == ClockStatus.RUNNING
    assert feedback.due_at == feedback.pauses[0].resumed_at + paused.clocks[feedback.id].remaining  # exactly what was left
    resumed_note = next(s for s in departments.calls["record_step"] if s.case_no == handle.id and s.kind == "resumed")
    assert (resumed_note.actor, resumed_note.note) == ("系统", f"暂停期满（{beijing(until_at)}），自动恢复计时")
    told = await eventually(lambda: departments.notices(handle.id, "resumed"))
    assert told[0].audience == Audience.PARTY and told[0].text == f"案件 {handle.id}：暂停期满（{beijing(until_at)}），自动恢复计时"
    # The feedback clock ran out only on the time it had left after the pause: then the case goes up.
    case = await until(handle, lambda c: bool(c.escalations), timeout=15)
    assert clocks(case, ClockName.FEEDBACK, "T101-LDS")[0].breached_at >= feedback.due_at
