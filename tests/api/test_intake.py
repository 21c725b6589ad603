"""Intake is idempotent by client request id, and bad input is refused with a 4xx naming the field."""

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from onedoor.store.tables import Case, CaseEvent, IntakeJoin, IntakeRequest
from tests.cases import completed_run, decide, incident, mediate, mediator_of, register_case, someone, today, visit, wait_for, wait_for_delivery, wage_arrears
from tests.conftest import keep_history


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
    return await completed_run(handle(case_no))


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

# ── the same parties again (重复来访) ─────────────────────────────────────────────────────


async def test_the_same_parties_while_their_case_is_open_are_shown_it_and_claim_no_number(api, sessions):
    form = wage_arrears()
    first = await register_case(api, form)
    received = datetime.fromisoformat((await api.get(f"/cases/{first}")).json()["received_at"])
    with sessions() as session:
        claimed = session.scalar(select(func.count()).select_from(IntakeRequest))
    # A hotline call about the same applicant, who gives his name and phone only.
    applicant = form["parties"][0]
    again = again_about(form, parties=[{"name": applicant["name"], "phone": applicant["phone"]}], source="hotline")
    refused = await api.post("/cases", json=again)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["related_open_cases"] == [
        {"case_no": first, "category": "劳动争议", "township_code": "139001101", "township_name": "城关镇", "received_at": received.isoformat()}
    ]
    detail = body["detail"]
    assert detail.startswith("parties:") and "join_case" in detail and "separate_reason" in detail
    assert f"{first}（劳动争议，城关镇，{received:%Y-%m-%d %H:%M} 受理）" in detail  # Beijing time
    # The same request again gets the same answer, and no case number was claimed for it.
    assert (await api.post("/cases", json=again)).json() == body
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(IntakeRequest)) == claimed


async def test_a_different_matter_about_the_same_parties_is_registered_apart_with_its_reason(api):
    form = wage_arrears()
    first = await register_case(api, form)
    again = again_about(form, category="婚姻家庭", summary="王建国与妻子因子女抚养费发生纠纷")
    assert (await api.post("/cases", json=again)).status_code == 409
    # The operator's choice, sent with the same client_request_id: the 409 held no number.
    apart = {**again, "separate_reason": "与欠薪案无关，系家庭抚养费纠纷"}
    created = await api.post("/cases", json=apart)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert [c["case_no"] for c in answer["related_open_cases"]] == [first] and answer["joined"] is False
    second = answer["case_no"]
    assert second != first
    repeated = await api.post("/cases", json=apart)
    assert (repeated.status_code, repeated.json()) == (200, answer)

    case = await wait_for(api, second, lambda c: c["grade"] is not None)
    assert (case["related_open_cases"], case["separate_reason"]) == ([first], "与欠薪案无关，系家庭抚养费纠纷")
    note = f"当事人另有未结案件 {first}，另案登记：与欠薪案无关，系家庭抚养费纠纷"
    assert note in case["steps"][0]["note"]
    record = (await api.get(f"/cases/{second}/register")).json()
    assert note in record["timeline"][0]["note"]
    assert (await api.get(f"/cases/{first}")).json()["joined_registrations"] == []  # the first case is left as it was


async def test_a_repeat_visit_joins_the_open_case_once_and_counts_as_a_visit(api, handle, sessions):
    form = wage_arrears(factors={})  # one worker, no amount given: blue
    first = await register_case(api, form)
    assert (await wait_for(api, first, lambda c: c["stage"] == "dispatched"))["grade"] == "blue"

    repeat = again_about(form, source="online", summary="王建国再次反映工资仍未发放", join_case=first)
    joined = await api.post("/cases", json=repeat)
    assert joined.status_code == 200, joined.text
    answer = joined.json()
    assert (answer["case_no"], answer["joined"], answer["url"]) == (first, True, f"/cases/{first}")
    case = (await api.get(f"/cases/{first}")).json()
    assert case["joined_registrations"] == [repeat["client_request_id"]] and case["grade"] == "blue"  # one earlier visit: still blue
    again = await api.post("/cases", json=repeat)  # the same request again: the same answer, counted once
    assert (again.status_code, again.json()) == (200, answer)
    assert len((await api.get(f"/cases/{first}")).json()["grade_history"]) == len(case["grade_history"])

    # A second repeat visit: two earlier visits make the case yellow (GradingPolicy.yellow_prior_visits = 2).
    second = again_about(form, source="window", summary="王建国第三次来访", join_case=first)
    assert (await api.post("/cases", json=second)).json()["case_no"] == first
    case = (await api.get(f"/cases/{first}")).json()
    assert case["grade"] == "yellow" and "此前来访 2 次（≥2）" in case["grade_reasons"]
    assert case["joined_registrations"] == [repeat["client_request_id"], second["client_request_id"]]
    record = await wait_for(api, first, lambda r: sum("重复来访" in e["note"] for e in r["timeline"]) == 2, view="/register")
    assert any("重复来访：网上登记“王建国再次反映工资仍未发放”，并入本案" in e["note"] for e in record["timeline"])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(IntakeRequest).where(IntakeRequest.client_request_id == repeat["client_request_id"])) == 0
        assert session.get(IntakeJoin, repeat["client_request_id"]).case_no == first
    # The request id is taken: sent again for another registration, it is refused.
    reused = await api.post("/cases", json={**repeat, "join_case": None, "separate_reason": "另一件事"})
    assert reused.status_code == 409 and "client_request_id" in reused.json()["detail"]
    await keep_history(handle(first), "repeat_visits_joined")


async def test_joining_a_case_that_is_not_an_open_case_about_these_parties_is_refused(api):
    form, other = wage_arrears(), wage_arrears()
    mine, theirs = await register_case(api, form), await register_case(api, other)
    for join_case in (theirs, "139001-2026-999999"):
        refused = await api.post("/cases", json=again_about(form, join_case=join_case))
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].startswith("join_case:") and mine in refused.json()["detail"]
    both = await api.post("/cases", json=again_about(form, join_case=mine, separate_reason="另一件事"))
    assert both.status_code == 422 and "join_case" in both.json()["detail"]
    nobody = await api.post("/cases", json=wage_arrears(join_case=mine))  # parties with no open case
    assert nobody.status_code == 422 and "join_case" in nobody.json()["detail"]
    for case_no in (mine, theirs):
        assert (await api.get(f"/cases/{case_no}")).json()["joined_registrations"] == []


async def test_the_same_parties_after_their_case_closed_open_a_new_case(api):
    form = wage_arrears()
    first = await register_case(api, form)
    await wait_for(api, first, lambda c: c["stage"] == "dispatched")
    await decide(api, first, "decline", {"operator": "受理员 周敏", "reason": "经核实已由用人单位当场结清"})
    await wait_for(api, first, lambda c: c["stage"] == "closed", view="/register")
    created = await api.post("/cases", json=again_about(form, summary="王建国反映新工地又拖欠工资"))
    assert created.status_code == 201, created.text
    assert created.json()["case_no"] != first and created.json()["related_open_cases"] == []


async def test_an_incidents_case_counts_too_and_an_incident_and_a_registration_at_once_make_one_case(api, police):
    def neighbours(parties: list[dict]) -> dict:
        return wage_arrears(category="邻里", summary="邻居因占用楼道堆放杂物争吵", parties=parties, factors={})

    parties = [{**someone("陈静"), "role": "applicant"}, {**someone("林峰"), "role": "respondent"}]
    reported = await police.post("/incidents", json=incident(parties))
    assert reported.status_code == 201, reported.text
    refused = await api.post("/cases", json=neighbours(parties))
    assert refused.status_code == 409 and [c["case_no"] for c in refused.json()["related_open_cases"]] == [reported.json()["case_no"]]

    # About new parties, at once: whichever is settled first, the other finds its case.
    parties = [{**someone("许梅"), "role": "applicant"}, {**someone("韩冰"), "role": "respondent"}]
    registered, reported = await asyncio.gather(api.post("/cases", json=neighbours(parties)), police.post("/incidents", json=incident(parties)))
    if registered.status_code == 201:  # the registration first: the incident joined its case
        case_no = registered.json()["case_no"]
        assert (reported.status_code, reported.json()["case_no"], reported.json()["linked"]) == (200, case_no, True)
    else:  # the incident first: the operator is shown its case
        assert (registered.status_code, reported.status_code) == (409, 201), registered.text
        assert [c["case_no"] for c in registered.json()["related_open_cases"]] == [reported.json()["case_no"]]


def again_about(form: dict, **changes) -> dict:
    """Another registration (its own client_request_id) about the same parties."""
    return wage_arrears(**{"parties": form["parties"], **changes})
