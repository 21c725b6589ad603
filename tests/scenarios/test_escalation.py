"""Red cases, the escalation ladder, the judicial backstop, judicial confirmation, regrading,
declining and reopening: the scenarios a center runs every week."""

import asyncio
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import text, update

from temporalio.testing import ActivityEnvironment

from activities.queue import keep_priority
from onedoor.domain.grading import QUEUE_PRIORITY
from onedoor.domain.labels import RiskGrade
from onedoor.domain.messages import PriorityChange
from onedoor.domain.policy import LadderPolicy
from onedoor.store.tables import CaseSequence
from tests.cases import clock, current_details, decide, supervision_documents, mediate, mediator_of, queue_priority, register_case, visit, wait_for, wait_for_delivery, wage_arrears
from tests.conftest import keep_history
from workflows.clock import beijing

@contextmanager
def register_held(sessions):
    """Another writer holds the register: the case's own writes wait until it lets go."""
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE case_events IN EXCLUSIVE MODE"))
        else:  # SQLite: one write in an open transaction holds the whole file
            session.execute(update(CaseSequence).values(last=CaseSequence.last))
        yield
        session.commit()


def land() -> dict:
    return wage_arrears(category="征地拆迁", summary="40 户村民对征地补偿标准有异议，聚集表达诉求", factors={"people_involved": 40, "amount_at_stake": 3_000_000})


def contract() -> dict:
    return wage_arrears(category="合同", summary="装修合同尾款纠纷", factors={"amount_at_stake": 8000, "people_involved": 2})


async def test_red_land_requisition_alerts_the_county_and_its_leader_acknowledges(api, simulator, clocks, handle, temporal):
    """Scenario 3: 40 people → red → county level; the duty leader does not answer in time, so
    the alert goes one leader up, who acknowledges."""
    clocks(emergency_ack=2)
    case_no = await register_case(api, land())
    case = await wait_for(api, case_no, lambda c: c["alerts"])
    assert (case["grade"], case["level"], case["lead_unit"]) == ("red", "county", "C-ZRZYJ")
    assert "涉及 40 人（≥30）" in case["grade_reasons"][0]
    first = case["alerts"][0]
    assert (first["center_code"], first["leader"]) == ("139001", "县综治中心值班领导 刘志强")

    up = await wait_for(api, case_no, lambda c: len(c["alerts"]) == 2, timeout=10)
    second = up["alerts"][1]
    assert second["leader"] == "县委政法委副书记 高建军" and up["alerts"][0]["acknowledged_at"] is None
    late = datetime.fromisoformat(second["at"]) - datetime.fromisoformat(up["alerts"][0]["due_at"])
    assert 0 <= late.total_seconds() < 1.5  # the window armed exactly (revisions 3 and 8), not late by its task's writes
    wrong = await decide(api, case_no, "alert/ack", {"center_code": "139001", "leader": "县综治中心值班领导 刘志强"}, expect=403)
    assert "高建军" in wrong["detail"]
    acked = await decide(api, case_no, "alert/ack", {"center_code": "139001", "leader": "县委政法委副书记 高建军"})
    assert acked["alerts"][1]["acknowledged_by"] == "县委政法委副书记 高建军"
    record = await wait_for(api, case_no, lambda r: "alert_ack" in [e["kind"] for e in r["timeline"]], view="/register")
    assert [e["kind"] for e in record["timeline"]].count("alert") == 2
    # The Temporal UI's details say whom each alert went to, who acknowledged it and when.
    details = await current_details(temporal.client, case_no)
    alerts = [line for line in details.splitlines() if line.startswith("- **红色预警**：")]
    assert len(alerts) == 2 and "县/区级 示范县（139001） 县综治中心值班领导 刘志强，未在" in alerts[0]
    acked_at = beijing(datetime.fromisoformat(acked["alerts"][1]["acknowledged_at"]))
    assert alerts[1].endswith(f"县委政法委副书记 高建军，县委政法委副书记 高建军 已于 {acked_at} 确认")
    await keep_history(handle(case_no), "red_alert_window_after_a_handoff")  # revision 8; red_alert_window_in_two_steps 3, red_case_alert_acknowledged 2


async def test_mediation_fails_up_the_ladder_then_labour_arbitration_accepts(api, simulator, handle):
    """Scenario 5: village → township → county → city all fail → labour arbitration accepts the referral."""
    form = wage_arrears(summary="社区超市拖欠店员工资 3000 元", place={"township_code": "139001101", "village_code": "139001101201"}, factors={"amount_at_stake": 3000})
    case_no = await register_case(api, form)
    for level in ("village", "township", "county", "city"):
        await wait_for(api, case_no, lambda c: c["level"] == level and c["mediations"] and c["mediations"][-1]["level"] == level and c["mediations"][-1]["outcome"] is None)
        await mediate(api, case_no, "failed", reason=f"{level} 调解不成：双方对金额分歧较大")
    referred = await wait_for(api, case_no, lambda c: c["stage"] == "referral")
    assert [(e["from_level"], e["to_level"]) for e in referred["escalations"]] == [("village", "township"), ("township", "county"), ("county", "city")]
    assert (referred["referral"]["kind"], referred["referral"]["body_code"]) == ("arbitration", "C-LDZC")
    delivery = await wait_for_delivery(simulator, "C-LDZC", case_no)
    assert delivery["document"]["schema_version"] == "onedoor.referral/v1" and len(delivery["document"]["mediation_history"]) == 4

    await decide(api, case_no, "referral/acceptance", {"body_code": "C-LDZC", "reference": "示劳人仲案字〔2026〕第 118 号"})
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["result"] == "arbitration" and "第 118 号" in closed["result_note"]
    await visit(api, case_no)
    await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    await keep_history(handle(case_no), "ladder_to_arbitration")


async def test_a_case_nobody_answers_climbs_to_the_city_and_stays_there_under_supervision(api, simulator, clocks, handle):
    """Lateness is supervised, it is not a verdict: no unit answers at any level, the case climbs
    village → township → county → city, and at the top it stays with the city's unit under the city
    center's supervision — an order, a new clock, the city's duty leader told — and is never referred
    (it went to labour arbitration without a single mediation session)."""
    clocks(response=2)
    for unit in ("V201-TWH", "T101-LDS", "T101-SFS", "C-RSJ", "C-SFJ", "S-RSJ", "S-SFJ"):  # no unit's system answers by itself
        await simulator.put(f"/units/{unit}/script", json={})
    form = wage_arrears(summary="社区超市拖欠店员工资 3000 元", place={"township_code": "139001101", "village_code": "139001101201"}, factors={"amount_at_stake": 3000})
    case_no = await register_case(api, form)

    def supervised_at_the_top(case: dict) -> list[dict]:
        return [o for o in case["supervision_orders"] if case["level"] == "city" and o["to_level"] is None and o["unit_code"] == case["lead_unit"]]

    case = await wait_for(api, case_no, lambda c: len(supervised_at_the_top(c)) >= 2, timeout=60)
    assert [(e["from_level"], e["to_level"]) for e in case["escalations"]] == [("village", "township"), ("township", "county"), ("county", "city")]
    assert case["stage"] == "dispatched" and case["referral"] is None and case["result"] is None
    assert all("由市级综治中心督办，限" in o["order"] for o in supervised_at_the_top(case))
    lead = case["lead_unit"]
    responses = [c for c in case["clocks"] if c["name"] == "response" and c["unit_code"] == lead]
    assert [c["status"] for c in responses[:2]] == ["breached", "breached"] and len(responses) >= 3  # a new clock after each order
    assert case["overdue"] is True
    documents = await supervision_documents(simulator, lead, case_no, count=2)
    assert documents[0]["by"] == "市级综治中心（139000）" and "督办" in documents[0]["order"]
    notices = (await api.get("/notices", params={"case_no": case_no, "kind": "breach", "audience": "leader"})).json()["rows"]
    assert "市综治中心值班领导 孙卫东" in {n["recipient"] for n in notices}

    answered = await decide(api, case_no, "response", {"unit_code": lead, "handler": "市人社局 周干事"})
    responses = [c for c in answered["clocks"] if c["name"] == "response" and c["unit_code"] == lead]
    assert {c["status"] for c in responses[:-1]} == {"met_late"} and responses[-1]["status"] == "met"
    assert answered["stage"] == "handling"
    await keep_history(handle(case_no), "top_of_the_ladder_supervised")


async def test_where_policy_keeps_breaches_in_place_the_late_unit_is_supervised_and_the_case_stays(api, simulator, clocks, configure, handle):
    """提级 is policy: with breach_escalates off, the township's late lead unit gets the county's
    supervision order in its own system and a new clock, and the case stays at the township."""
    clocks(response=2)
    configure(ladder=LadderPolicy(breach_escalates=False))
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: any(o["unit_code"] == "T101-LDS" and o["clock"] == "response" for o in c["supervision_orders"]), timeout=20)
    assert (case["level"], case["stage"], case["escalations"]) == ("township", "dispatched", [])
    order = next(o for o in case["supervision_orders"] if o["unit_code"] == "T101-LDS")
    assert order["to_level"] == "county" and "由县/区级综治中心督办，限" in order["order"]
    responses = [c for c in case["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS"]
    assert responses[0]["status"] == "breached" and len(responses) >= 2
    document = (await supervision_documents(simulator, "T101-LDS", case_no))[0]
    assert (document["by"], document["order"]) == ("县/区级综治中心（139001）", order["order"])
    await supervision_documents(simulator, "T101-SFS", case_no)  # the co-unit's breach is ordered too

    answered = await decide(api, case_no, "response", {"unit_code": "T101-LDS", "handler": "刘干事"})
    responses = [c for c in answered["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS"]
    assert {c["status"] for c in responses[:-1]} == {"met_late"} and responses[-1]["status"] == "met"
    assert (answered["level"], answered["stage"]) == ("township", "handling")
    # Lifting the case (提级) is then a supervisor's decision.
    lifted = await decide(api, case_no, "escalation", {"supervisor": "县综治中心 刘志强", "reason": "镇级多次督办未果，提级办理"})
    assert (lifted["level"], lifted["stage"], lifted["lead_unit"]) == ("county", "dispatched", "C-RSJ")
    assert lifted["escalations"][-1]["reason"] == "县综治中心 刘志强 决定提级：镇级多次督办未果，提级办理"
    await keep_history(handle(case_no), "breach_supervised_in_place")


async def test_a_party_refuses_mediation_and_the_court_takes_the_case(api, simulator, handle):
    """Scenario 6: refusal ends mediation (人民调解法 §17) → the court's litigation service."""
    await simulator.put("/units/C-FY/script", json={"answer": "auto", "respond_after": 0.3})
    case_no = await register_case(api, contract())
    answer = await mediate(api, case_no, "refused", reason="被申请人明确拒绝调解")
    assert (answer["stage"], answer["referral"]["body_code"]) == ("referral", "C-FY")  # the answer shows the refusal taken effect
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["escalations"] == []  # refusal goes straight to the backstop
    assert (closed["referral"]["kind"], closed["result"]) == ("litigation", "litigation")
    assert closed["referral"]["reference"].startswith("C-FY-")  # the court's system answered
    await keep_history(handle(case_no), "refused_answered_on_referral")  # revision 7; refused_to_litigation: an earlier one


async def test_a_decision_still_taking_effect_is_answered_202_with_where_to_read_the_case(api, configure, sessions):
    """The answer waits for the case to act on a decision only so long (decision_wait): with the
    register held by another writer, the refusal is accepted at once and answered 202; it stands."""
    configure(decision_wait=timedelta(seconds=1))
    case_no = await register_case(api, contract())
    mediator = await mediator_of(api, case_no)
    with register_held(sessions):
        pending = await api.post(f"/cases/{case_no}/mediation/result", json={"mediator_id": mediator, "outcome": "refused", "reason": "被申请人拒绝调解"})
        assert pending.status_code == 202, pending.text
        assert pending.json()["url"] == f"/cases/{case_no}" and "正在生效" in pending.json()["detail"]
        again = await api.post(f"/cases/{case_no}/mediation/result", json={"mediator_id": mediator, "outcome": "refused", "reason": "再次拒绝"})
        assert again.status_code == 409  # a refusal is still answered at once
        await asyncio.sleep(1)
    await wait_for(api, case_no, lambda c: c["stage"] == "referral")  # the decision stands


async def test_agreement_confirmed_by_the_court(api, handle):
    """Scenario 7a: agreement → the 30-day application clock → applied → confirmed."""
    case_no = await register_case(api, contract())
    await mediate(api, case_no, "agreement", terms="业主于 12 月 1 日前支付尾款 8000 元", seek_confirmation=True)
    case = await wait_for(api, case_no, lambda c: c["stage"] == "confirmation")
    assert clock(case, "confirmation")["status"] == "running"
    await decide(api, case_no, "confirmation/decision", {"court_code": "C-FY", "confirmed": True, "reference": "x"}, expect=409)
    await decide(api, case_no, "confirmation/application", {"applicant": "王建国", "court_code": "C-FY"})
    await decide(api, case_no, "confirmation/decision", {"court_code": "C-GZC", "confirmed": True, "reference": "x"}, expect=403)
    await decide(api, case_no, "confirmation/decision", {"court_code": "C-FY", "confirmed": True, "reference": "（2026）示 0101 民特 52 号"})
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["result"] == "confirmed" and "民特 52 号" in closed["result_note"]
    assert clock(closed, "confirmation")["status"] == "met"
    await keep_history(handle(case_no), "agreement_confirmed")


async def test_nobody_applies_for_confirmation_in_time(api, clocks, handle):
    """Scenario 7b: the application period runs out; the agreement stands unconfirmed."""
    clocks(confirmation=3)
    case_no = await register_case(api, contract())
    await mediate(api, case_no, "agreement", terms="一次性支付 8000 元", seek_confirmation=True)
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed", timeout=15)
    assert closed["result"] == "mediated" and "未在期限内申请司法确认" in closed["result_note"]
    confirmation = clock(closed, "confirmation")
    assert confirmation["status"] == "breached" and confirmation["reminded_at"] is not None
    assert closed["supervision_orders"] == []  # the parties' own deadline: no unit is to blame
    record = await wait_for(api, case_no, lambda r: "lapse" in [e["kind"] for e in r["timeline"]], view="/register")
    assert "breach" not in [e["kind"] for e in record["timeline"]]
    await keep_history(handle(case_no), "confirmation_not_applied")


async def test_unsatisfied_return_visit_reopens_the_case(api, handle):
    """Scenario 10."""
    case_no = await register_case(api, contract())
    first_mediator = await mediator_of(api, case_no)
    concluded = await mediate(api, case_no, "agreement", terms="三日内付清")
    assert concluded["stage"] == "closed"  # each answer shows the case after the decision took effect (revision 7)
    answer = await visit(api, case_no, satisfied=False)
    assert (answer["stage"], len(answer["mediations"])) == ("dispatched", 2)
    reopened = await wait_for(api, case_no, lambda c: c["stage"] in ("dispatched", "handling") and len(c["mediations"]) == 2)
    assert reopened["result"] is None and reopened["level"] == "township"  # reopened where it was handled
    assert reopened["mediations"][1]["mediator_id"] != first_mediator
    await mediate(api, case_no, "agreement", terms="当场付清 8000 元")
    assert (await visit(api, case_no, satisfied=True))["stage"] == "settled"
    settled = await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    assert [v["satisfied"] for v in settled["visits"]] == [False, True]
    await keep_history(handle(case_no), "reopened_visits_answered_after")  # revision 7; reopened_after_visit: an earlier one


async def test_override_and_new_facts_regrade_and_move_the_case_up(api, handle):
    case_no = await register_case(api, wage_arrears(category="邻里", factors={}))
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    assert (case["grade"], case["level"]) == ("blue", "township")  # 城关镇: no village given
    assert await queue_priority(handle(case_no)) == 3
    refused = await api.post(f"/cases/{case_no}/grade", json={"operator": "窗口 张敏", "grade": "yellow"})
    assert refused.status_code == 422 and "reason" in refused.json()["detail"]
    same = await decide(api, case_no, "grade", {"operator": "窗口 张敏", "grade": "yellow", "reason": "当事人情绪激动"})
    assert same["grade"] == "yellow" and same["grade_history"][-1]["by"] == "窗口 张敏"
    assert same["level"] == "township"  # yellow is handled by the township already
    assert await queue_priority(handle(case_no)) == 2  # its tasks now pass the blue cases' in a backlog

    # The decision's answer shows the case after it took effect: already at the county (revision 7).
    answer = await decide(api, case_no, "facts", {"reporter": "城关派出所", "police_calls": 3, "note": "一周内三次出警"})
    assert (answer["grade"], answer["level"], answer["stage"]) == ("red", "county", "dispatched")
    moved = await wait_for(api, case_no, lambda c: c["level"] == "county" and c["alerts"])
    assert moved["grade"] == "red" and "警情 3 次" in moved["grade_reasons"][0]
    assert moved["escalations"][-1]["reason"].startswith("等级升为红色")
    # The alert goes to the leader of the level that now handles the case, not the township it left.
    assert [(a["center_code"], a["level"]) for a in moved["alerts"]] == [("139001", "county")]
    assert await queue_priority(handle(case_no)) == 1
    await keep_history(handle(case_no), "regraded_red_alerts_where_it_goes")  # revision 7; regraded_red_requeued 5, regraded_red_moves_up 4


async def test_a_queue_priority_temporal_refuses_is_answered_false_not_raised(temporal):
    refused = PriorityChange(case_no="139001-2026-999999", priority_key=QUEUE_PRIORITY[RiskGrade.RED])  # no such workflow
    assert await ActivityEnvironment(client=temporal.client).run(keep_priority, refused) is False


async def test_declined_case_is_closed_as_not_accepted(api, handle):
    case_no = await register_case(api, contract())
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    answer = await decide(api, case_no, "decline", {"operator": "县综治中心 李科长", "reason": "已进入诉讼程序，不属于调解受理范围"})
    assert answer["stage"] == "closed"  # the answer shows the decision taken effect (revision 7)
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["result"] == "not_accepted" and "诉讼程序" in closed["result_note"]
    assert {c["status"] for c in closed["clocks"] if c["name"] != "return_visit"} == {"ended"}
    await keep_history(handle(case_no), "declined_answered_closed")  # revision 7; declined: an earlier revision
