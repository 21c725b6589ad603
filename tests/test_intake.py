"""Intake is idempotent by client request id, and bad input is refused with a 4xx naming the field."""

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from store.tables import Case, CaseEvent, IntakeRequest
from tests.cases import decide, mediate, mediator_of, register_case, today, visit, wait_for, wait_for_delivery, wage_arrears


async def test_same_request_twice_gives_one_case_and_one_dispatch(api, simulator, sessions):
    form = wage_arrears()
    first = await api.post("/cases", json=form)
    again = await api.post("/cases", json=form)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    case_no = first.json()["case_no"]
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    # Even a burst of the same request at once makes no second case.
    burst = await asyncio.gather(*(api.post("/cases", json=form) for _ in range(5)))
    assert {r.json()["case_no"] for r in burst} == {case_no}

    delivery = await wait_for_delivery(simulator, "T101-LDS", case_no)
    dispatches = [d for d in (await simulator.get("/units/T101-LDS/dispatches")).json() if d["document"]["case_no"] == case_no]
    assert len(dispatches) == 1 and delivery["accepted"] == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.case_no == case_no)) == 1


async def settled_run(api, handle, case_no: str) -> str:
    """Walk the case to 案结事了 and return the id of the workflow run that settled it."""
    await mediate(api, case_no, "agreement", terms="被申请人当场支付 2.4 万元")
    await visit(api, case_no)
    await wait_for(api, case_no, lambda c: c["stage"] == "settled", view="/register")
    description = await handle(case_no).describe()
    assert description.status.name == "COMPLETED"
    return description.run_id


async def test_a_settled_case_is_never_run_again_by_a_repeated_registration(api, handle, simulator):
    form = wage_arrears()
    case_no = await register_case(api, form)
    run_id = await settled_run(api, handle, case_no)
    dispatches = len([d for d in (await simulator.get("/units/T101-LDS/dispatches")).json() if d["document"]["case_no"] == case_no])

    again = await api.post("/cases", json=form)
    assert again.status_code == 200 and again.json()["case_no"] == case_no
    latest = await handle(case_no).describe()  # the newest run of the case number
    assert (latest.run_id, latest.status.name) == (run_id, "COMPLETED")
    assert (await api.get(f"/cases/{case_no}/register")).json()["stage"] == "settled"
    assert len([d for d in (await simulator.get("/units/T101-LDS/dispatches")).json() if d["document"]["case_no"] == case_no]) == dispatches


async def test_request_id_reused_for_another_dispute_is_refused(api):
    form = wage_arrears()
    case_no = await register_case(api, form)
    other = await api.post("/cases", json={**form, "summary": "另一件事"})
    assert other.status_code == 409
    assert "client_request_id" in other.json()["detail"] and case_no in other.json()["detail"]


async def test_bad_registrations_name_the_field_and_create_nothing(api, sessions):
    with sessions() as session:  # no case number is claimed for a refused registration
        before = session.scalar(select(func.count()).select_from(IntakeRequest))
    bad_forms = {
        "summary": {k: v for k, v in wage_arrears().items() if k != "summary"},
        "category": wage_arrears(category="打架"),
        "factors.people_involved": wage_arrears(factors={"people_involved": "许多"}),
        "parties": wage_arrears(parties=[]),
        "parties.0.id_number": wage_arrears(parties=[{"name": "王建国", "id_number": "123"}]),
        "place.township_code": wage_arrears(place={"township_code": "999999999"}),
        "place.village_code": wage_arrears(place={"township_code": "139001101", "village_code": "139001102202"}),
        "client_request_id": {k: v for k, v in wage_arrears().items() if k != "client_request_id"},
    }
    for field, form in bad_forms.items():
        response = await api.post("/cases", json=form)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["detail"], (field, response.json()["detail"])
    not_json = await api.post("/cases", content="登记", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(IntakeRequest)) == before


async def test_decisions_out_of_turn_or_from_the_wrong_unit_are_refused_and_change_nothing(api, sessions):
    case_no = await register_case(api)
    await wait_for(api, case_no, both_units_reached_and_mediator_named, view="/register")
    before = (await api.get(f"/cases/{case_no}")).json()
    with sessions() as session:
        events_before = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_no == case_no))

    refused = [
        (await api.post(f"/cases/{case_no}/feedback", json={"unit_code": "T101-LDS", "handler": "刘", "summary": "先反馈"}), 409, "尚未响应"),
        (await api.post(f"/cases/{case_no}/response", json={"unit_code": "T102-SFS", "handler": "赵"}), 403, "不是本案承办或协办单位"),
        (await api.post(f"/cases/{case_no}/mediation/result", json={"mediator_id": "M-C-1", "outcome": "failed", "reason": "x"}), 403, "不是本案调解员"),
        (await api.post(f"/cases/{case_no}/mediation/result", json={"mediator_id": "M-T101-1", "outcome": "agreement"}), 422, "terms"),
        (await api.post(f"/cases/{case_no}/visit", json={"visitor": "李娜", "satisfied": True, "notes": "x"}), 409, "不在待回访阶段"),
        (await api.post(f"/cases/{case_no}/referral/acceptance", json={"body_code": "C-LDZC", "reference": "x"}), 409, "没有待受理的转介"),
        (await api.post(f"/cases/{case_no}/resume", json={"actor": "张敏"}), 409, "计时未暂停"),
        (await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS"}), 422, "handler"),
        (await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘", "extra": 1}), 422, "extra"),
        (await api.post("/cases/139001-2026-999999/response", json={"unit_code": "T101-LDS", "handler": "刘"}), 404, "不存在"),
        (await api.get("/cases/139001-2026-999999"), 404, "不存在"),
        (await api.get("/cases/no-such-thing"), 404, "不存在"),
        (await api.get("/cases/139001-2026-999999/register"), 404, "139001-2026-999999"),
    ]
    for response, status, words in refused:
        assert response.status_code == status, response.text
        assert words in response.json()["detail"]

    after = (await api.get(f"/cases/{case_no}")).json()
    assert without_remaining(after) == without_remaining(before)  # only the clocks ticked
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_no == case_no)) == events_before

    # A decision twice, and a decision on a finished case, are conflicts too.
    assert (await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘"})).status_code == 200
    again = await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-LDS", "handler": "刘"})
    assert again.status_code == 409 and "已响应" in again.json()["detail"]
    await mediate(api, case_no, "withdrawn", reason="申请人撤回")
    await visit(api, case_no)
    await wait_for(api, case_no, lambda c: c["stage"] == "settled")
    late = await api.post(f"/cases/{case_no}/feedback", json={"unit_code": "T101-LDS", "handler": "刘", "summary": "再来"})
    assert late.status_code == 409 and "已办结" in late.json()["detail"]


def without_remaining(case: dict) -> dict:
    return {**case, "clocks": [{k: v for k, v in c.items() if k != "remaining"} for c in case["clocks"]]}


def both_units_reached_and_mediator_named(record: dict) -> bool:
    kinds = [e["kind"] for e in record.get("timeline", [])]
    return kinds.count("delivered") == 2 and "mediator" in kinds


async def test_a_mediation_session_in_the_future_or_before_the_case_was_received_is_refused_naming_the_date(api):
    case_no = await register_case(api)
    mediator = await mediator_of(api, case_no)
    received = datetime.fromisoformat((await api.get(f"/cases/{case_no}")).json()["received_at"]).date()  # Beijing time
    tomorrow, before = date.fromisoformat(today()) + timedelta(days=1), received - timedelta(days=1)
    for held_on in (tomorrow, before, date(2031, 1, 1)):
        session = {"mediator_id": mediator, "held_on": str(held_on), "mode": "desk", "notes": "双方到场"}
        refused = await api.post(f"/cases/{case_no}/mediation/sessions", json=session)
        assert refused.status_code == 422 and refused.json()["detail"].startswith("held_on:"), refused.text
    recorded = await decide(api, case_no, "mediation/sessions", {"mediator_id": mediator, "held_on": today(), "mode": "desk", "notes": "双方到场"})
    assert [s["held_on"] for s in recorded["mediations"][-1]["sessions"]] == [today()]

