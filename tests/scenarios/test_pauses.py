"""Reminders at several thresholds, and a pause that fits the practice (revision 9): it stops the feedback and mediation clocks but not a
unit's first response, carries an "until" and resumes by itself then with a notice, never longer
than the policy's longest pause; what it stopped is in the case's steps (the history and the archive)."""

from datetime import UTC, datetime, timedelta

from onedoor.domain.policy import ClockRule
from tests.cases import clock, decide, register_case, wait_for
from tests.conftest import keep_history, sized_clocks


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_pause_until_friday_resumes_by_itself(api, clocks, handle):
    clocks()
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    too_long = await decide(api, case_no, "pause", {"actor": "窗口 张敏", "reason": "等待补交材料",
                                                    "until": (datetime.now(UTC) + timedelta(days=31)).isoformat()}, expect=409)
    assert "until" in too_long["detail"]

    until = datetime.now(UTC) + timedelta(seconds=4)
    paused = await decide(api, case_no, "pause", {"actor": "窗口 张敏", "reason": "等待申请人周五前补交劳动合同", "until": until.isoformat()})
    feedback, response = clock(paused, "feedback"), clock(paused, "response")
    assert feedback["status"] == "paused" and response["status"] == "running"  # the first response keeps running
    stopped = [c["id"] for c in paused["clocks"] if c["status"] == "paused"]
    assert stopped and {c["name"] for c in paused["clocks"] if c["status"] == "paused"} <= {"feedback", "mediation"}
    assert paused["paused"]["stopped"] == stopped and at(paused["paused"]["until"]) == until
    assert all(c["status"] == "running" for c in paused["clocks"] if c["name"] == "response")
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "paused" for e in r["timeline"]), view="/register")
    note = next(e["note"] for e in record["timeline"] if e["kind"] == "paused")  # the register's timeline, as the archive prints it
    assert "暂停反馈时限（T101-LDS）" in note and "调解期限" in note and "响应时限（T101-LDS）" in note.split("自动恢复")[1] and note.endswith("照常计时")

    resumed = await wait_for(api, case_no, lambda c: c["paused"] is None, timeout=20)
    feedback = clock(resumed, "feedback")
    assert feedback["status"] == "running" and at(feedback["pauses"][0]["resumed_at"]) >= until
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "resumed" for e in r["timeline"]), view="/register")
    assert "暂停期满" in next(e["note"] for e in record["timeline"] if e["kind"] == "resumed")
    await keep_history(handle(case_no), "paused_until_resumed_by_itself")


async def test_a_clock_reminds_at_each_of_its_thresholds(api, clocks):
    """Several reminders per clock (revision 9): at 50 % and 90 % of a 10 s response clock."""
    policy = sized_clocks()
    policy.yellow.response = ClockRule(length=timedelta(seconds=10), remind_at=[0.5, 0.9])
    clocks(policy)
    case_no = await register_case(api)
    lead = clock(await wait_for(api, case_no, lambda c: c["stage"] == "dispatched"), "response")
    started = at(lead["started_at"])
    assert at(lead["remind_at"]) - started == timedelta(seconds=5) and [at(t) - started for t in lead["later_reminders"]] == [timedelta(seconds=9)]
    record = await wait_for(api, case_no, lambda r: sum(e["kind"] == "reminder" for e in r["timeline"]) >= 4, view="/register", timeout=20)
    lead_reminders = [e for e in record["timeline"] if e["kind"] == "reminder" and "T101-LDS" in e["note"]]
    assert len(lead_reminders) == 2  # one at each threshold, for the lead unit (its co-unit has its own two)
