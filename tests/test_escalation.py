"""Red cases, the escalation ladder, the judicial backstop, judicial confirmation, regrading,
declining and reopening: the scenarios a center runs every week."""

from datetime import datetime

from temporalio.testing import ActivityEnvironment

from activities.queue import keep_priority
from domain.grading import QUEUE_PRIORITY
from domain.labels import RiskGrade
from domain.messages import PriorityChange
from tests.cases import clock, decide, mediate, mediator_of, queue_priority, register_case, visit, wait_for, wait_for_delivery, wage_arrears
from tests.conftest import keep_history

def land() -> dict:
    return wage_arrears(category="征地拆迁", summary="40 户村民对征地补偿标准有异议，聚集表达诉求", factors={"people_involved": 40, "amount_at_stake": 3_000_000})


def contract() -> dict:
    return wage_arrears(category="合同", summary="装修合同尾款纠纷", factors={"amount_at_stake": 8000, "people_involved": 2})


async def test_red_land_requisition_alerts_the_county_and_its_leader_acknowledges(api, simulator, clocks, handle):
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
    assert 0 <= late.total_seconds() < 1.5  # the window armed exactly (revision 3), not late by its task's writes
    wrong = await decide(api, case_no, "alert/ack", {"center_code": "139001", "leader": "县综治中心值班领导 刘志强"}, expect=403)
    assert "高建军" in wrong["detail"]
    acked = await decide(api, case_no, "alert/ack", {"center_code": "139001", "leader": "县委政法委副书记 高建军"})
    assert acked["alerts"][1]["acknowledged_by"] == "县委政法委副书记 高建军"
    record = await wait_for(api, case_no, lambda r: "alert_ack" in [e["kind"] for e in r["timeline"]], view="/register")
    assert [e["kind"] for e in record["timeline"]].count("alert") == 2
    await keep_history(handle(case_no), "red_alert_window_in_two_steps")  # revision 3; red_case_alert_acknowledged is revision 2


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


async def test_a_party_refuses_mediation_and_the_court_takes_the_case(api, simulator, handle):
    """Scenario 6: refusal ends mediation (人民调解法 §17) → the court's litigation service."""
    await simulator.put("/units/C-FY/script", json={"answer": "auto", "respond_after": 0.3})
    case_no = await register_case(api, contract())
    await mediate(api, case_no, "refused", reason="被申请人明确拒绝调解")
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["escalations"] == []  # refusal goes straight to the backstop
    assert (closed["referral"]["kind"], closed["result"]) == ("litigation", "litigation")
    assert closed["referral"]["reference"].startswith("C-FY-")  # the court's system answered
    await keep_history(handle(case_no), "refused_to_litigation")


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
    await mediate(api, case_no, "agreement", terms="三日内付清")
    await visit(api, case_no, satisfied=False)
    reopened = await wait_for(api, case_no, lambda c: c["stage"] in ("dispatched", "handling") and len(c["mediations"]) == 2)
    assert reopened["result"] is None and reopened["level"] == "township"  # reopened where it was handled
    assert reopened["mediations"][1]["mediator_id"] != first_mediator
    await mediate(api, case_no, "agreement", terms="当场付清 8000 元")
    await visit(api, case_no, satisfied=True)
    settled = await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    assert [v["satisfied"] for v in settled["visits"]] == [False, True]
    await keep_history(handle(case_no), "reopened_after_visit")


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

    await decide(api, case_no, "facts", {"reporter": "城关派出所", "police_calls": 3, "note": "一周内三次出警"})
    moved = await wait_for(api, case_no, lambda c: c["level"] == "county" and c["alerts"])
    assert moved["grade"] == "red" and "警情 3 次" in moved["grade_reasons"][0]
    assert moved["escalations"][-1]["reason"].startswith("等级升为红色")
    assert await queue_priority(handle(case_no)) == 1
    await keep_history(handle(case_no), "regraded_red_requeued")  # revision 5; regraded_red_moves_up is revision 4


async def test_a_queue_priority_temporal_refuses_is_answered_false_not_raised(temporal):
    refused = PriorityChange(case_no="139001-2026-999999", priority_key=QUEUE_PRIORITY[RiskGrade.RED])  # no such workflow
    assert await ActivityEnvironment(client=temporal.client).run(keep_priority, refused) is False


async def test_declined_case_is_closed_as_not_accepted(api, handle):
    case_no = await register_case(api, contract())
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    await decide(api, case_no, "decline", {"operator": "县综治中心 李科长", "reason": "已进入诉讼程序，不属于调解受理范围"})
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["result"] == "not_accepted" and "诉讼程序" in closed["result_note"]
    assert {c["status"] for c in closed["clocks"] if c["name"] != "return_visit"} == {"ended"}
    await keep_history(handle(case_no), "declined")
