"""轮驻: a rotating unit gets the case at once, but its clocks start when it is next on duty; a
resident unit's start at dispatch (revision 7, domain/rota.py)."""

from datetime import datetime, time, timedelta

import pytest
from pydantic import TypeAdapter

from onedoor.domain.calendar import OfficeHours, WorkCalendar
from onedoor.domain.rota import duty_start
from onedoor.domain.timezone import SHANGHAI, as_shanghai
from tests.cases import decide, register_case, wait_for, wait_for_delivery
from tests.conftest import keep_history, sized_clocks
from workflows.clock import beijing

ROTATING, RESIDENT = "T101-LDS", "T101-SFS"  # a wage case's lead (the township labour station) and co-unit (justice office)
UNIT_FIELDS = ("name", "jurisdiction_code", "mode", "kind", "channel", "endpoint_url", "backstop", "rota_days", "province_code")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def duration(text: str) -> timedelta:
    return TypeAdapter(timedelta).validate_python(text)


def unit_clock(case: dict, name: str, unit: str) -> dict:
    return next(c for c in case["clocks"] if c["name"] == name and c["unit_code"] == unit)


@pytest.fixture
async def off_today(api) -> list[int]:
    """The township labour station on duty only tomorrow (whatever day the test runs), through the
    directory API; its seeded rota is put back after the test."""
    unit = next(u for u in (await api.get("/directory/units", params={"jurisdiction_code": "139001101"})).json() if u["code"] == ROTATING)
    seeded = {field: unit[field] for field in UNIT_FIELDS}
    rota = [datetime.now(SHANGHAI).isoweekday() % 7 + 1]
    changed = await api.put(f"/directory/units/{ROTATING}", json={**seeded, "rota_days": rota})
    assert changed.status_code == 200 and changed.json()["rota_days"] == rota, changed.text
    yield rota
    assert (await api.put(f"/directory/units/{ROTATING}", json=seeded)).status_code == 200


async def test_a_rotating_units_clocks_start_at_its_next_duty_day_and_a_resident_units_at_once(api, clocks, simulator, handle, off_today):
    policy = sized_clocks(response=60, feedback=120)
    policy.follow_rota = True  # the production default; test-sized clocks turn it off
    clocks(policy)
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    dispatched = at(case["assignments"][0]["dispatched_at"])

    # The rotating lead: both clocks start at the opening of its next duty day, and run their length from there.
    response, feedback = unit_clock(case, "response", ROTATING), unit_clock(case, "feedback", ROTATING)
    starts = at(response["started_at"])
    assert starts > dispatched and starts == duty_start(dispatched, off_today, WorkCalendar.legacy(OfficeHours())).at
    assert as_shanghai(starts).isoweekday() in off_today and as_shanghai(starts).time() == time(8, 30)
    assert at(feedback["started_at"]) == starts
    assert (at(response["remind_at"]) - starts, at(response["due_at"]) - starts, at(feedback["due_at"]) - starts) == (
        timedelta(seconds=45), timedelta(seconds=60), timedelta(seconds=120))
    assert response["status"] == "running" and duration(response["remaining"]) == timedelta(seconds=60)  # none of it spent before the start
    dispatched_step = next(s for s in case["steps"] if s["stage"] == "dispatched")
    assert f"{beijing(at(response['due_at']))} 前响应" in dispatched_step["note"] and f"{ROTATING} 轮驻，时限自 {beijing(starts)}" in dispatched_step["note"]

    # The resident co-unit's clocks start at dispatch.
    assisting = unit_clock(case, "response", RESIDENT)
    assert at(assisting["started_at"]) == dispatched and at(assisting["due_at"]) - dispatched == timedelta(seconds=60)

    # The unit's system has the case now, with the same due times; the parties are told the real one.
    document = (await wait_for_delivery(simulator, ROTATING, case_no))["document"]
    assert (at(document["respond_by"]), at(document["feedback_by"])) == (at(response["due_at"]), at(feedback["due_at"]))
    told = (await api.get("/notices", params={"case_no": case_no, "kind": "dispatched"})).json()["rows"]
    assert told and all(f"{beijing(at(response['due_at']))} 前与您联系" in notice["text"] for notice in told)
    record = await wait_for(api, case_no, lambda r: r["stage"] == "dispatched", view="/register")
    registered = next(c for c in record["clocks"] if c["name"] == "response" and c["unit_code"] == ROTATING)
    assert (at(registered["started_at"]), at(registered["due_at"])) == (starts, at(response["due_at"]))

    # Paused and resumed before it starts, it keeps its due time: nothing was counted before the start.
    # (Revision 9: a pause stops the feedback clock; the first response runs on, tests/scenarios/test_pauses.py.)
    paused = unit_clock(await decide(api, case_no, "pause", {"actor": "窗口 张敏", "reason": "等待申请人补交劳动合同"}), "feedback", ROTATING)
    assert paused["status"] == "paused" and duration(paused["remaining"]) == timedelta(seconds=120)
    resumed = unit_clock(await decide(api, case_no, "resume", {"actor": "窗口 张敏"}), "feedback", ROTATING)
    assert resumed["status"] == "running" and resumed["due_at"] == feedback["due_at"]

    # It may answer from its own office before its duty day: that is on time.
    answered = await decide(api, case_no, "response", {"unit_code": ROTATING, "handler": "刘干事"})
    assert unit_clock(answered, "response", ROTATING)["status"] == "met" and answered["stage"] == "handling"
    await keep_history(handle(case_no), "rotating_unit_clocks_wait_for_duty_day")
