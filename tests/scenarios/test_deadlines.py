"""Clocks are durable timers: reminders, breaches and supervision orders, escalation, pause and
resume, extensions, working time, and the policy in force at intake."""

import asyncio
import json
import sqlite3
import time
from collections import Counter
from datetime import datetime, timedelta

import psycopg
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import EventType
from sqlalchemy import select
from sqlalchemy.engine import make_url

from onedoor.domain.calendar import OfficeHours, WorkCalendar, add_working_time
from onedoor.domain.labels import ClockBasis
from onedoor.domain.policy import ClockRule
from onedoor.store.tables import SupervisionOrder
from tests.cases import clock, decide, register_case, supervision_documents, wait_for
from tests.conftest import keep_history, sized_clocks
from workflows.clock import beijing


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_unit_never_responds_is_reminded_then_supervised_and_the_case_escalates(api, simulator, clocks, sessions, handle):
    """Scenario 4: reminder at 75% → breach → supervision order → escalation to the county."""
    clocks(response=4)
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    lead = clock(case, "response")
    assert at(lead["remind_at"]) - at(lead["started_at"]) == timedelta(seconds=3)

    reminded = await wait_for(api, case_no, lambda c: clock(c, "response")["reminded_at"] is not None, timeout=10)
    assert abs((at(clock(reminded, "response")["reminded_at"]) - at(lead["remind_at"])).total_seconds()) < 2

    escalated = await wait_for(api, case_no, lambda c: c["mediations"][-1]["level"] == "county", timeout=15)
    first = next(c for c in escalated["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS")
    assert first["status"] == "breached"
    assert 0 <= (at(first["breached_at"]) - at(lead["due_at"])).total_seconds() < 3
    # Both the lead and the co-unit breached: each gets its supervision order to the county.
    orders = {(o["clock"], o["unit_code"], o["to_level"]) for o in escalated["supervision_orders"]}
    assert orders == {("response", "T101-LDS", "county"), ("response", "T101-SFS", "county")}
    assert all("督办" in o["order"] for o in escalated["supervision_orders"])
    assert (escalated["escalations"][0]["from_level"], escalated["escalations"][0]["to_level"]) == ("township", "county")
    # At the county: the labour bureau leads, the justice bureau assists, a new (gold) mediator.
    assert escalated["lead_unit"] == "C-RSJ" and escalated["mediations"][-1]["mediator_id"].startswith("M-C")
    # Overdue means a clock is late now: the township's breaches are behind the case, the county's clocks run.
    assert escalated["overdue"] is False

    # The register holds the reminder, the supervision order and the escalation.
    record = await wait_for(api, case_no, lambda r: r["escalation_count"] == 1 and r["level"] == "county", view="/register")
    kinds = [e["kind"] for e in record["timeline"]]
    assert "reminder" in kinds and "breach" in kinds and "escalated" in kinds
    with sessions() as session:
        orders = session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_no == case_no)).all()
    assert sorted((o.clock, o.unit_code, o.from_level, o.to_level) for o in orders) == [
        ("response", "T101-LDS", "township", "county"), ("response", "T101-SFS", "township", "county")]

    # The late unit's own system receives the breach's supervision order, as it would a supervisor's.
    document = (await supervision_documents(simulator, "T101-LDS", case_no))[0]
    assert document["by"] == "县/区级综治中心（139001）" and "提请县/区级综治中心督办" in document["order"]

    # The late answer of the township unit is still taken, and counted late.
    late = await decide(api, case_no, "response", {"unit_code": "T101-LDS", "handler": "刘干事"})
    assert next(c for c in late["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS")["status"] == "met_late"
    await keep_history(handle(case_no), "breach_ordered_to_the_units_system")  # revision 7; unit_never_responds_escalated: an earlier one


def summary_of(event) -> str:
    data = event.user_metadata.summary.data
    return json.loads(data) if data else ""


async def test_a_breach_is_on_record_before_its_notices_and_the_escalation(api, clocks, handle):
    """Many deadlines due together: the task that wakes on a deadline writes only the breach
    (revision 4), not even the search attributes (revision 6), and ends, so the other cases'
    breaches are recorded before any escalation runs."""
    clocks(response=3)
    case_no = await register_case(api)
    escalated = await wait_for(api, case_no, lambda c: c["escalations"] and c["mediations"][-1]["level"] == "county", timeout=20)
    lead = clock(escalated, "response")
    assert 0 <= (at(lead["breached_at"]) - at(lead["due_at"])).total_seconds() < 1.5
    events = (await handle(case_no).fetch_history()).events
    markers = [(e.marker_recorded_event_attributes.workflow_task_completed_event_id, summary_of(e)) for e in events if e.marker_recorded_event_attributes.marker_name]
    breach_tasks = {task for task, summary in markers if summary == "超时督办 响应时限"}
    # Lead and co-unit breached together: both records, alone in the one task that woke on them.
    assert len(breach_tasks) == 1
    assert sorted(summary for task, summary in markers if task in breach_tasks) == ["超时督办 响应时限"] * 2
    breach_task = breach_tasks.pop()
    upserts = [e.upsert_workflow_search_attributes_event_attributes.workflow_task_completed_event_id for e in events if e.HasField("upsert_workflow_search_attributes_event_attributes")]
    assert breach_task not in upserts and max(upserts) > breach_task  # published a task later (test_a_co_units_breach_reaches_the_supervisors_overdue_filter)
    handoffs = [e for e in events if e.timer_started_event_attributes.timer_id and summary_of(e).startswith("交接：超时已登记")]
    assert len(handoffs) == 2 and all(e.timer_started_event_attributes.workflow_task_completed_event_id == breach_task for e in handoffs)
    # Then, in later tasks: the unit and the leader told, the case routed up to the county.
    later = [summary for task, summary in markers if task > breach_task]
    assert later.count("通知承办单位：超时督办") == 2 and "通知领导：超时督办" in later
    assert any(summary.startswith("按职责清单分流") for summary in later)
    await keep_history(handle(case_no), "breach_recorded_alone_after_handoffs")  # revision 8; breach_task_writes_the_register_only: 6



def hold_register(database_url: str, seconds: float) -> None:
    """Another writer holds the register's timeline for a while: every step written meanwhile waits."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database, isolation_level=None) as conn:
            conn.execute("BEGIN IMMEDIATE")
            time.sleep(seconds)
            conn.execute("ROLLBACK")
        return
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        conn.execute("LOCK TABLE case_events IN EXCLUSIVE MODE")  # reads go on, writes wait
        time.sleep(seconds)


async def test_a_deadline_set_while_the_register_is_slow_still_falls_due_on_time(api, clocks, database_url, handle):
    """Temporal starts a timer when the workflow task that set it completes. An extension whose
    register write waits 5 s would fire that much late; the clock ends that task with a hand-off
    timer and arms the deadline in a task of its own (revision 8; revision 3 armed it in two steps),
    so the reminder and the breach come on their new times."""
    clocks(response=16)
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    held = asyncio.create_task(asyncio.to_thread(hold_register, database_url, 5))
    await asyncio.sleep(0.5)
    extended = await decide(api, case_no, "extensions", {"supervisor": "城关镇综治中心 王主任", "clock": "response", "unit_code": "T101-LDS", "by": 4, "reason": "等待单位核实"})
    await held
    lead = clock(extended, "response")
    breached = await wait_for(api, case_no, lambda c: c["escalations"], timeout=40)
    first = next(c for c in breached["clocks"] if c["name"] == "response" and c["unit_code"] == "T101-LDS")
    assert 0 <= (at(first["reminded_at"]) - at(lead["remind_at"])).total_seconds() < 1.5
    assert 0 <= (at(first["breached_at"]) - at(lead["due_at"])).total_seconds() < 1.5
    # One timer for the deadline, armed by the task that woke from a hand-off timer named as such (the
    # slow task only armed the hand-off).
    events = (await handle(case_no).fetch_history()).events
    timers = {e.timer_started_event_attributes.timer_id: (e.timer_started_event_attributes.workflow_task_completed_event_id, summary_of(e))
              for e in events if e.timer_started_event_attributes.timer_id}
    summary = f"响应时限到期 {beijing(at(lead['due_at']))} · 城关镇劳动保障所（T101-LDS）"
    [armed] = [task for task, name in timers.values() if name == summary]
    [handoff] = [timer for timer, (_, name) in timers.items() if name == f"交接：随后计时至 {summary}"]
    [fired] = [e.event_id for e in events if e.timer_fired_event_attributes.timer_id == handoff]
    woke = min(e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and e.event_id > fired)
    assert armed == woke
    # Each arming of a point is one hand-off and at most one timer to the point (none when the clock was
    # answered, ended or changed meanwhile); revision 3 armed two per point, `临近…` and the rest.
    names = [name for _, name in timers.values()]
    points = Counter(name for name in names if not name.startswith("交接："))
    assert not points - Counter(name.removeprefix("交接：随后计时至 ") for name in names if name.startswith("交接：随后计时至 "))
    await keep_history(handle(case_no), "deadline_armed_after_a_handoff")  # revision 8; deadline_armed_in_two_steps: 3


async def test_pause_keeps_the_remaining_time_exactly_and_an_extension_moves_the_deadline(api, clocks, handle):
    """Scenario 8."""
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    paused = await decide(api, case_no, "pause", {"actor": "窗口 张敏", "reason": "等待申请人补交劳动合同"})
    feedback = clock(paused, "feedback")  # revision 9: the feedback clock stops, the first response runs on (tests/scenarios/test_pauses.py)
    assert feedback["status"] == "paused" and paused["paused"]["reason"].startswith("等待")
    remaining = TypeAdapter(timedelta).validate_python(feedback["remaining"])
    assert await decide(api, case_no, "pause", {"actor": "x", "reason": "y"}, expect=409)

    resumed = await decide(api, case_no, "resume", {"actor": "窗口 张敏"})
    feedback = clock(resumed, "feedback")
    resumed_at = at(feedback["pauses"][0]["resumed_at"])
    assert feedback["status"] == "running"
    assert at(feedback["due_at"]) - resumed_at == remaining  # exactly what was left, re-armed

    extended = await decide(api, case_no, "extensions", {"supervisor": "城关镇综治中心 王主任", "clock": "feedback", "unit_code": "T101-LDS", "by": 3600, "reason": "涉及多方核实"})
    feedback = clock(extended, "feedback")
    change = feedback["extensions"][0]
    assert at(change["new_due"]) - at(change["old_due"]) == timedelta(hours=1) and at(feedback["due_at"]) == at(change["new_due"])
    refused = await decide(api, case_no, "extensions", {"supervisor": "x", "clock": "mediation", "by": 60, "reason": "y"}, expect=409)
    assert "双方当事人同意" in refused["detail"]
    await keep_history(handle(case_no), "paused_resumed_extended_rearmed_after_handoffs")  # revision 8; paused_resumed_extended: 1


async def test_working_time_clock_uses_the_holiday_calendar(api, clocks):
    """Scenario 9 (in a case): a working-time clock's due is the calendar's answer to the minute."""
    policy = sized_clocks()
    policy.yellow.feedback = ClockRule(length=timedelta(hours=24), basis=ClockBasis.WORKING)
    clocks(policy)
    case = await wait_for(api, await register_case(api), lambda c: c["stage"] == "dispatched")
    feedback = clock(case, "feedback")
    assert feedback["basis"] == "working"
    assert at(feedback["due_at"]) == add_working_time(at(feedback["started_at"]), timedelta(hours=24), WorkCalendar.legacy(OfficeHours())).due


async def test_changing_the_policy_mid_flight_leaves_open_cases_alone(api, clocks):
    """Scenario 11: the policy in force at intake travels with the case."""
    clocks(response=600)
    before = await wait_for(api, await register_case(api), lambda c: c["stage"] == "dispatched")
    clocks(response=5)  # the county shortens its response clock
    after = await wait_for(api, await register_case(api), lambda c: c["stage"] == "dispatched")
    old, new = clock(before, "response"), clock(after, "response")
    assert at(old["due_at"]) - at(old["started_at"]) == timedelta(seconds=600)
    assert at(new["due_at"]) - at(new["started_at"]) == timedelta(seconds=5)
    still = (await api.get(f"/cases/{before['case_no']}")).json()
    assert clock(still, "response")["due_at"] == old["due_at"] and clock(still, "response")["status"] == "running"
