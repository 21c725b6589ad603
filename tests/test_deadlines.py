"""Deadlines are durable timers: a unit that never answers is breached, supervised and escalated."""

import time
from datetime import datetime

from sqlalchemy import select

from store.tables import SupervisionOrder
from tests.cases import clock, register_case, wait_for
from tests.conftest import keep_history


async def test_unit_never_responds_is_breached_and_escalated(api, clocks, sessions, handle):
    clocks(response=2, feedback=4)
    case_no = await register_case(api)
    dispatched = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    due = datetime.fromisoformat(clock(dispatched, "response")["due_at"])

    breached = await wait_for(api, case_no, lambda c: clock(c, "response")["status"] == "breached", timeout=15)
    seen_at = time.time()
    response_clock = clock(breached, "response")
    # The breach fires at its due time (the timer's own lateness is what the benchmark measures).
    assert 0 <= datetime.fromisoformat(response_clock["breached_at"]).timestamp() - due.timestamp() < 3
    assert seen_at - due.timestamp() < 5
    assert breached["overdue"] is True

    escalation = breached["escalations"][0]
    assert (escalation["clock"], escalation["unit_code"]) == ("response", "T101-LDS")
    assert (escalation["from_level"], escalation["to_level"]) == ("township", "county")
    assert "督办" in escalation["order"]

    # The register holds the supervision order and counts the escalation on the case row.
    record = await wait_for(api, case_no, lambda r: r["escalation_count"] == 1, view="/register")
    assert record["overdue"] is True and "breach" in [e["kind"] for e in record["timeline"]]
    with sessions() as session:
        orders = session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_no == case_no)).all()
    assert [(o.clock, o.unit_code, o.to_level) for o in orders] == [("response", "T101-LDS", "county")]

    # The late answer is still taken, and marked late; the feedback clock breaches in its turn.
    late = await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘干事"})
    assert late.status_code == 200, late.text
    assert clock(late.json(), "response")["status"] == "met_late"
    both = await wait_for(api, case_no, lambda c: clock(c, "feedback")["status"] == "breached", timeout=15)
    assert [e["clock"] for e in both["escalations"]] == ["response", "feedback"]

    await api.post(f"/cases/{case_no}/feedback", json={"unit_code": "T101-LDS", "handler": "刘干事", "summary": "已处理"})
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert [c["status"] for c in closed["clocks"]] == ["met_late", "met_late"]
    await keep_history(handle(case_no), "unit_late_twice")
