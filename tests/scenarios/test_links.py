"""Links to the outside world as a case lives them: a unit's system down for a while or for good,
the partner center across the provincial border, and supervision and handover from above."""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from onedoor.domain.policy import DeliveryPolicy
from onedoor.store.tables import Notice
from tests.cases import clock, decide, register_case, wage_arrears, wait_for, wait_for_delivery, without_codec
from tests.conftest import keep_history


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def delivery(stack):
    """Set the delivery policy for the cases this test registers (call after `clocks`)."""
    original = stack.state.settings

    def set_delivery(outage_window: float) -> None:
        policy = DeliveryPolicy(outage_window=timedelta(seconds=outage_window), first_retry=timedelta(seconds=0.5), longest_retry=timedelta(seconds=1))
        stack.state.settings = stack.state.settings.model_copy(update={"delivery": policy})

    yield set_delivery
    stack.state.settings = original


def deliveries_of(received: list[dict], case_no: str) -> list[dict]:
    """The case's deliveries, accepted or not, by their idempotency keys (case number first)."""
    return [d for d in received if d["idempotency_key"].startswith(f"{case_no}:")]


async def test_a_unit_system_that_fails_for_a_while_gets_the_dispatch_once_and_the_clocks_do_not_move(api, simulator, clocks, delivery, handle):
    clocks()
    delivery(outage_window=60)
    await simulator.put("/units/T101-LDS/script", json={"fail_first": 3})
    try:
        case_no = await register_case(api)
        dispatched = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
        due = clock(dispatched, "response")["due_at"]
        # The mediator is assigned while the delivery is still being retried: nothing waits on it.
        await wait_for(api, case_no, lambda c: c["mediations"], timeout=5)
        received = await wait_for_delivery(simulator, "T101-LDS", case_no)
        case = await wait_for(api, case_no, lambda c: c["assignments"][0]["delivery"] is not None, timeout=15)
    finally:
        await simulator.put("/units/T101-LDS/script", json={})
    ours = deliveries_of((await simulator.get("/units/T101-LDS/dispatches")).json(), case_no)
    assert len(ours) == 1 and ours[0]["attempts"] == 4 and ours[0]["accepted"] == 1  # one key, three 503s, one acceptance
    assert received["idempotency_key"] == ours[0]["idempotency_key"]
    assert "系统已接收" in case["assignments"][0]["delivery"]
    assert clock(case, "response")["due_at"] == due and clock(case, "response")["status"] == "running"
    await keep_history(handle(case_no), "delivery_retried_then_accepted")


async def test_a_unit_system_down_past_the_outage_window_falls_back_to_the_inbox_and_the_deadline_still_escalates(
    api, simulator, clocks, delivery, sessions, handle
):
    clocks(response=8)
    delivery(outage_window=2)
    await simulator.put("/units/T101-LDS/script", json={"fail_always": True})
    try:
        case_no = await register_case(api)
        fell_back = await wait_for(api, case_no, lambda c: c["assignments"] and "收件箱" in (c["assignments"][0]["delivery"] or ""), timeout=10)
        assert fell_back["stage"] == "dispatched" and clock(fell_back, "response")["status"] == "running"
        due = at(clock(fell_back, "response")["due_at"])
        escalated = await wait_for(api, case_no, lambda c: c["level"] == "county", timeout=15)
    finally:
        await simulator.put("/units/T101-LDS/script", json={})
    breached = next(c for c in escalated["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS")
    assert breached["status"] == "breached" and 0 <= (at(breached["breached_at"]) - due).total_seconds() < 3
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "fallback" for e in r["timeline"]), view="/register")
    assert any("T101-LDS" in e["note"] and "收件箱" in e["note"] for e in record["timeline"] if e["kind"] == "fallback")
    # The handling center's operators are told, through the notification port.
    with sessions() as session:
        told = session.scalars(select(Notice).where(Notice.case_no == case_no, Notice.kind == "fallback")).all()
    assert [(n.audience, n.recipient) for n in told] == [("operator", "139001101")] and "T101-LDS" in told[0].text
    # The unit's staff still answer from the inbox, late, and it counts.
    late = await decide(api, case_no, "response", {"unit_code": "T101-LDS", "handler": "刘干事"})
    assert next(c for c in late["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS")["status"] == "met_late"
    await keep_history(handle(case_no), "delivery_outage_inbox_fallback")


async def test_a_unit_that_refuses_the_document_is_not_retried_and_the_operator_is_told(api, simulator, clocks, delivery, sessions, temporal):
    clocks()
    delivery(outage_window=60)
    await simulator.put("/units/T101-LDS/script", json={"reject": 422})
    try:
        case_no = await register_case(api)
        case = await wait_for(api, case_no, lambda c: c["assignments"] and "收件箱" in (c["assignments"][0]["delivery"] or ""), timeout=10)
    finally:
        await simulator.put("/units/T101-LDS/script", json={})
    assert "拒收" in case["assignments"][0]["delivery"] and "422" in case["assignments"][0]["delivery"]
    ours = deliveries_of((await simulator.get("/units/T101-LDS/dispatches")).json(), case_no)
    assert [d["attempts"] for d in ours] == [1]
    with sessions() as session:
        assert session.scalars(select(Notice.audience).where(Notice.case_no == case_no, Notice.kind == "fallback")).all() == ["operator"]
    # The refusal's words (a unit's system may echo the document, a party's name in it) are sealed in the
    # history's failure like any payload: read without the codec, the failure says nothing of them.
    failures = [event.activity_task_failed_event_attributes.failure async for event in without_codec(temporal.client).get_workflow_handle(case_no).fetch_history_events()
                if event.HasField("activity_task_failed_event_attributes")]
    assert failures and all("拒收" not in failure.message and failure.encoded_attributes.metadata["encoding"] == b"binary/encrypted" for failure in failures)


def cross_province(**changes) -> dict:
    """A wage case whose employer sits across the border in Shandong (鲁, province 37)."""
    form = wage_arrears(**changes)
    form["parties"][1]["province_code"] = "37"
    form["parties"][1]["address"] = "山东省聊城市冠县某镇"
    return form


async def test_a_cross_province_case_notifies_the_partner_and_escalates_when_the_partner_is_late(api, simulator, clocks, handle):
    clocks(partner_reply=4)
    case_no = await register_case(api, cross_province())
    notified = await wait_for(api, case_no, lambda c: c["partner"] is not None and c["stage"] == "dispatched")
    assert (notified["partner"]["partner_code"], notified["partner"]["province_code"]) == ("SD-PARTNER", "37")
    document = (await wait_for_delivery(simulator, "SD-PARTNER", case_no))["document"]
    assert document["schema_version"] == "onedoor.partner-notice/v1" and document["province_code"] == "37"
    assert at(document["reply_by"]) == at(clock(notified, "partner_reply")["due_at"])

    escalated = await wait_for(api, case_no, lambda c: c["level"] == "county", timeout=15)
    partner_clock = clock(escalated, "partner_reply")
    assert partner_clock["status"] == "breached" and partner_clock["unit_code"] == "SD-PARTNER"
    assert any(o["unit_code"] == "SD-PARTNER" and o["clock"] == "partner_reply" for o in escalated["supervision_orders"])
    assert escalated["escalations"][0]["reason"].startswith("SD-PARTNER")
    # A late reply is still taken, and joint mediation goes on the record.
    replied = await decide(api, case_no, "partner/reply", {"partner_code": "SD-PARTNER", "joint_mediation": True, "mediator": "冠县调解员 孙立", "note": "同意联合调解"})
    assert replied["partner"]["joint_mediation"] is True and clock(replied, "partner_reply")["status"] == "met_late"
    await keep_history(handle(case_no), "cross_province_partner_late")


async def test_the_partner_answers_in_time_and_only_the_partner_may(api, simulator, clocks):
    clocks()
    case_no = await register_case(api, cross_province())
    await wait_for(api, case_no, lambda c: c["partner"] is not None)
    refused = await decide(api, case_no, "partner/reply", {"partner_code": "T101-LDS", "joint_mediation": True, "note": "冒名"}, expect=403)
    assert "SD-PARTNER" in refused["detail"]
    replied = await decide(api, case_no, "partner/reply", {"partner_code": "SD-PARTNER", "joint_mediation": True, "mediator": "孙立", "note": "派员参加联合调解"})
    assert clock(replied, "partner_reply")["status"] == "met"
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "partner_reply" for e in r["timeline"]), view="/register")
    assert any("联合调解" in e["note"] for e in record["timeline"] if e["kind"] == "partner_reply")
    await decide(api, case_no, "partner/reply", {"partner_code": "SD-PARTNER", "joint_mediation": False, "note": "again"}, expect=409)


async def test_a_case_in_province_has_no_partner(api, clocks):
    clocks()
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: c["mediations"])
    assert case["partner"] is None and all(c["name"] != "partner_reply" for c in case["clocks"])


async def test_a_higher_center_supervises_a_unit_by_signal_and_the_unit_receives_the_order(api, simulator, clocks, sessions, handle):
    clocks()
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    response = await api.post(f"/cases/{case_no}/supervision", json={"supervisor": "县综治中心 刘志强", "order": "请于今日内联系当事人并反馈"})
    assert response.status_code == 202, response.text
    assert response.json()["unit_code"] == "T101-LDS"  # the lead unit when none is named
    case = await wait_for(api, case_no, lambda c: any(o["by"] for o in c["supervision_orders"]))
    order = next(o for o in case["supervision_orders"] if o["by"])
    assert (order["unit_code"], order["clock"], order["order"]) == ("T101-LDS", None, "请于今日内联系当事人并反馈")
    deliveries = []
    for _ in range(100):
        deliveries = [d for d in deliveries_of((await simulator.get("/units/T101-LDS/dispatches")).json(), case_no)
                      if (d["document"] or {}).get("schema_version") == "onedoor.supervision/v1"]  # a refused attempt has none
        if deliveries:
            break
        await asyncio.sleep(0.1)
    assert deliveries and deliveries[0]["document"]["order"] == "请于今日内联系当事人并反馈"
    archive = await wait_for(api, case_no, lambda r: any(e["kind"] == "supervised" for e in r["timeline"]), view="/archive")
    assert any(a["action"] == "supervised" and (a["actor"], a["role"]) == ("县综治中心 刘志强", "supervisor") for a in archive["audit"])
    # Only a unit of the case can be ordered; a closed case cannot.
    wrong = await api.post(f"/cases/{case_no}/supervision", json={"supervisor": "县综治中心 刘志强", "unit_code": "C-FY", "order": "x"})
    assert wrong.status_code == 422 and "unit_code" in wrong.json()["detail"]
    await keep_history(handle(case_no), "supervised_from_above")


async def test_a_county_hands_a_red_case_down_to_the_township_and_keeps_watching(api, clocks, handle):
    clocks()
    case_no = await register_case(api, wage_arrears(factors={"people_involved": 40}))
    red = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    assert (red["grade"], red["level"]) == ("red", "county")
    refused = await decide(api, case_no, "handover", {"supervisor": "县综治中心 刘志强", "to_level": "city", "reason": "上交"}, expect=409)
    assert "下级" in refused["detail"]
    await decide(api, case_no, "handover", {"supervisor": "县综治中心 刘志强", "to_level": "township", "reason": "属地化解，镇里更了解情况"})
    moved = await wait_for(api, case_no, lambda c: c["level"] == "township" and c["stage"] == "dispatched" and c["mediations"][-1]["level"] == "township")
    assert moved["handovers"][0]["watched_by"] == "139001" and moved["handovers"][0]["from_level"] == "county"
    assert moved["lead_unit"] == "T101-LDS" and moved["escalations"] == []
    await keep_history(handle(case_no), "handed_down_by_the_county")
