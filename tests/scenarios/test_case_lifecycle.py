"""Everyday cases from the API to 案结事了, on a real Temporal server, the simulator and the register."""

from datetime import datetime

from onedoor.domain.case_number import is_case_number
from tests.cases import clock, decide, mediate, register_case, today, units_answer, visit, wait_for, wait_for_delivery, wage_arrears
from tests.conftest import keep_history


async def test_wage_case_three_migrant_workers_joint_units_agreement_and_visit(api, simulator, handle):
    """Scenario 2: yellow (vulnerable party) → the labour unit leads, the justice office assists,
    both respond, a gold mediator brokers an agreement, wages paid, the visit is satisfied."""
    case_no = await register_case(api)
    assert is_case_number(case_no) and case_no.startswith("139001-")  # county code - year - sequence

    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    assert case["grade"] == "yellow" and "农民工欠薪" in case["grade_reasons"][0]
    assert (case["level"], case["lead_unit"]) == ("township", "T101-LDS")  # 城关镇劳动保障所, by the duty list
    assert [(a["unit_code"], a["lead"]) for a in case["assignments"]] == [("T101-LDS", True), ("T101-SFS", False)]
    assert {(c["name"], c["unit_code"]) for c in case["clocks"]} >= {("response", "T101-LDS"), ("response", "T101-SFS"), ("feedback", "T101-SFS"), ("mediation", None)}
    assert case["mediations"][0]["gold"] is True  # yellow: gold mediators first
    assert clock(case, "response")["status"] == "running" and clock(case, "response")["remaining"]

    # Each unit's own system received the dispatch document once, under its idempotency key.
    for unit in ("T101-LDS", "T101-SFS"):
        received = await wait_for_delivery(simulator, unit, case_no)
        assert received["accepted"] == 1 and received["document"]["schema_version"] == "onedoor.dispatch/v1"
    assert received["document"]["lead"] is False and received["idempotency_key"].endswith(":T101-SFS")
    # Each document says who leads and who assists: the co-unit's names the lead, and does not list itself.
    lead = (await wait_for_delivery(simulator, "T101-LDS", case_no))["document"]
    assert (lead["lead_unit"], lead["co_units"]) == ("T101-LDS", ["T101-SFS"])
    assert (received["document"]["lead_unit"], received["document"]["co_units"]) == ("T101-LDS", [])

    case = await units_answer(api, case)
    assert case["stage"] == "handling"
    assert {c["status"] for c in case["clocks"] if c["name"] in ("response", "feedback")} == {"met"}

    mediator = case["mediations"][0]["mediator_id"]
    await decide(api, case_no, "mediation/sessions", {"mediator_id": mediator, "held_on": today(), "mode": "outreach", "notes": "到工地与项目负责人面谈"})
    await mediate(api, case_no, "agreement", terms="建筑公司于 12 月 5 日前支付 3 人工资 2.4 万元", performance_due="2026-12-05")
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert closed["result"] == "mediated" and "2.4 万元" in closed["result_note"]
    assert clock(closed, "return_visit")["status"] == "running"

    settled = await visit(api, case_no, satisfied=True)
    settled = await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    assert settled["visits"][0]["satisfied"] is True

    # The register row shows each step with its time, in order, in Beijing time at the edge.
    record = await wait_for(api, case_no, lambda r: r["stage"] == "settled", view="/register")
    steps = ["received_at", "triaged_at", "dispatched_at", "responded_at", "closed_at", "settled_at"]
    times = [datetime.fromisoformat(record[s]) for s in steps]
    assert times == sorted(times) and all(t.utcoffset().total_seconds() == 8 * 3600 for t in times)
    kinds = [e["kind"] for e in record["timeline"]]
    for kind in ("received", "triaged", "dispatched", "delivered", "mediator", "handling", "fed_back", "session", "mediation", "closed", "visit", "settled"):
        assert kind in kinds, kind
    assert (record["result"], record["mediator_id"], record["escalation_count"]) == ("mediated", mediator, 0)
    assert {c["status"] for c in record["clocks"]} <= {"met", "ended"} and len(record["clocks"]) == 6

    await keep_history(handle(case_no), "wage_case_settled_read_in_chinese")  # revision 8; wage_case_settled: 1


async def test_blue_neighbour_dispute_settled_by_the_village_mediator(api, simulator, handle):
    """Scenario 1: a blue neighbour dispute in 东关社区 goes to the community's own mediation
    committee, whose system answers by itself; the village mediator settles it."""
    await simulator.put("/units/V201-TWH/script", json={"answer": "auto", "respond_after": 0.2, "feedback_after": 0.4})
    form = wage_arrears(category="邻里", summary="邻居加盖院墙遮挡采光", place={"township_code": "139001101", "village_code": "139001101201"}, factors={})
    case_no = await register_case(api, form)
    case = await wait_for(api, case_no, lambda c: all(a["feedback"] for a in c["assignments"]) and c["assignments"])
    assert (case["grade"], case["level"], case["lead_unit"]) == ("blue", "village", "V201-TWH")
    assert case["assignments"][0]["response"]["handler"] == "模拟承办人"
    assert case["mediations"][0]["mediator_id"].startswith("M-V201")
    await mediate(api, case_no, "agreement", terms="拆除加盖部分 50 厘米")
    await visit(api, case_no)
    settled = await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    assert settled["result"] == "mediated" and settled["escalations"] == []
    await keep_history(handle(case_no), "blue_case_settled_in_village")


async def test_village_without_a_center_sends_blue_cases_to_the_township(api, simulator):
    form = wage_arrears(category="邻里", place={"township_code": "139001102", "village_code": "139001102202"}, factors={})
    case = await wait_for(api, await register_case(api, form), lambda c: c["stage"] == "dispatched")
    assert (case["grade"], case["level"], case["lead_unit"]) == ("blue", "township", "T102-SFS")


async def test_failing_unit_system_gets_the_dispatch_once_it_recovers(api, simulator, handle):
    await simulator.put("/units/T102-SFS/script", json={"fail_first": 2})
    form = wage_arrears(category="婚姻家庭", place={"township_code": "139001102"}, factors={})
    case_no = await register_case(api, form)
    received = await wait_for_delivery(simulator, "T102-SFS", case_no, timeout=30)
    assert (received["attempts"], received["accepted"]) == (3, 1)
    record = await wait_for(api, case_no, lambda r: "delivered" in [e["kind"] for e in r.get("timeline", [])], view="/register")
    assert record["lead_unit"] == "T102-SFS" and record["level"] == "township"
    await keep_history(handle(case_no), "township_case_open_after_delivery_retries")  # still open: timers pending
