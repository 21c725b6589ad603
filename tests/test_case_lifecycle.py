"""A dispute from the API to closure, on a real Temporal server, the simulator and the register."""

from datetime import datetime

from domain.case_number import is_case_number
from tests.cases import clock, register_case, wait_for, wait_for_delivery, wage_arrears
from tests.conftest import keep_history


async def test_wage_case_is_dispatched_answered_and_closed(api, simulator, handle):
    case_no = await register_case(api)
    assert is_case_number(case_no) and case_no.startswith("139001-")  # county code - year - sequence

    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    assert case["grade"] == "yellow" and "农民工欠薪" in case["grade_reasons"][0]
    assert (case["level"], case["lead_unit"]) == ("township", "T101-LDS")  # 城关镇劳动保障所, by the duty list
    assert clock(case, "response")["status"] == "running"

    # The unit's own system received the dispatch document, once, under the case's idempotency key.
    received = await wait_for_delivery(simulator, "T101-LDS", case_no)
    assert received["accepted"] == 1
    assert received["idempotency_key"] == f"{case_no}:dispatch:T101-LDS"
    assert received["document"]["schema_version"] == "onedoor.dispatch/v1"

    answered = await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘干事"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["stage"] == "responded"
    assert clock(answered.json(), "response")["status"] == "met"

    reported = await api.post(
        f"/cases/{case_no}/feedback",
        json={"unit_code": "T101-LDS", "handler": "刘干事", "summary": "约谈项目负责人，工资已于当日结清"},
    )
    assert reported.status_code == 200, reported.text

    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert [c["status"] for c in closed["clocks"]] == ["met", "met"]
    assert closed["next_deadline"] is None and closed["overdue"] is False

    # The register row shows each step with its time, in order, in Beijing time at the edge.
    record = await wait_for(api, case_no, lambda r: r["stage"] == "closed", view="/register")
    steps = ["received_at", "triaged_at", "dispatched_at", "responded_at", "feedback_at", "closed_at"]
    times = [datetime.fromisoformat(record[s]) for s in steps]
    assert times == sorted(times)
    assert all(t.utcoffset().total_seconds() == 8 * 3600 for t in times)
    assert [e["kind"] for e in record["timeline"]] == ["received", "triaged", "dispatched", "delivered", "responded", "fed_back", "closed"]
    assert record["stage"] == "closed" and record["escalation_count"] == 0

    await keep_history(handle(case_no), "wage_case_closed")


async def test_simulated_unit_answers_by_itself(api, simulator, handle):
    """A unit whose system answers automatically closes the case with no operator at all."""
    await simulator.put("/units/T102-SFS/script", json={"answer": "auto", "respond_after": 0.2, "feedback_after": 0.5})
    case_no = await register_case(api, wage_arrears(category="邻里", place={"township_code": "139001102", "village_code": "139001102202"}, factors={}))
    # A blue case in 李庄村, which has no center of its own: the township's justice office takes it.
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert (closed["grade"], closed["level"], closed["lead_unit"]) == ("blue", "township", "T102-SFS")
    assert closed["response"]["handler"] == "模拟承办人"
    await keep_history(handle(case_no), "blue_case_answered_by_unit_system")


async def test_failing_unit_system_gets_the_dispatch_once_it_recovers(api, simulator, handle):
    await simulator.put("/units/V201-TWH/script", json={"fail_first": 2})
    form = wage_arrears(category="邻里", place={"township_code": "139001101", "village_code": "139001101201"}, factors={})
    case_no = await register_case(api, form)
    received = await wait_for_delivery(simulator, "V201-TWH", case_no, timeout=30)
    assert (received["attempts"], received["accepted"]) == (3, 1)
    record = (await api.get(f"/cases/{case_no}/register")).json()
    assert record["lead_unit"] == "V201-TWH" and record["level"] == "village"
    await keep_history(handle(case_no), "village_case_open_after_delivery_retries")  # still open: timers pending
