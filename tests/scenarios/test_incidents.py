"""警情流转 inbound: the police platform's incidents become cases once, and a further incident about
the same parties joins their open case and re-grades it — on a real Temporal server and register."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from onedoor.store import incidents
from onedoor.store.tables import Case, IntakeRequest, PartyMark, PoliceIncident
from tests.cases import PLATFORM, completed_run, decide, incident, mediate, queue_priority, someone, units_answer, wait_for, wait_for_delivery
from tests.conftest import keep_history


@pytest.fixture
def link_window(stack):
    """Set the API's incident link window for this test."""
    original = stack.state.settings

    def set_window(window: timedelta) -> None:
        stack.state.settings = original.model_copy(update={"incident_link_window": window})

    yield set_window
    stack.state.settings = original


async def send(police: httpx.AsyncClient, form: dict, status: int) -> dict:
    response = await police.post("/incidents", json=form)
    assert response.status_code == status, response.text
    return response.json()


async def graded(api: httpx.AsyncClient, case_no: str) -> dict:
    return await wait_for(api, case_no, lambda c: c["grade"] is not None)


async def test_the_same_incident_sent_three_times_gives_one_case_and_one_dispatch(police, api, simulator, sessions):
    form = incident()
    burst = await asyncio.gather(*(police.post("/incidents", json=form) for _ in range(3)))
    assert sorted(r.status_code for r in burst) == [200, 200, 201], [r.text for r in burst]
    answers = [r.json() for r in burst]
    case_no = answers[0]["case_no"]
    assert all(a == {"case_no": case_no, "incident_id": form["incident_id"], "linked": False, "url": f"/cases/{case_no}"} for a in answers)
    again = await send(police, form, 200)  # and once more, later
    assert again["case_no"] == case_no

    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    assert (case["source"], case["incident_id"], case["lead_unit"]) == ("police", form["incident_id"], "T101-SFS")
    delivery = await wait_for_delivery(simulator, "T101-SFS", case_no)
    dispatches = [d for d in (await simulator.get("/units/T101-SFS/dispatches")).json() if d["document"] and d["document"]["case_no"] == case_no]
    assert len(dispatches) == 1 and delivery["accepted"] == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.case_no == case_no)) == 1
        assert session.get(IntakeRequest, incidents.request_id(form["incident_id"])).case_no == case_no
        recorded = session.get(PoliceIncident, form["incident_id"])
        assert (recorded.case_no, recorded.linked) == (case_no, False)
        # The register keeps keyed digests of the parties, never who they are.
        marks = session.scalars(select(PartyMark.digest).where(PartyMark.case_no == case_no)).all()
        assert len(marks) == 4 and not any(p["id_number"] in "".join(marks) for p in form["parties"])  # ID number, name and phone: each


async def test_further_incidents_about_the_same_parties_join_the_open_case_and_regrade_it(police, api, sessions, handle):
    applicant, respondent = someone("王芳"), {**someone("赵磊"), "role": "respondent"}
    first = await send(police, incident([applicant, respondent]), 201)
    case_no = first["case_no"]
    case = await graded(api, case_no)
    assert case["grade"] == "blue"  # one police call: below the red threshold (3 in 30 days)

    # The respondent again, named by name and phone only (as the platform wrote the number): the same person.
    second = incident([{"name": " 赵 磊", "phone": "+86" + respondent["phone"]}], summary="双方再次因漏水争执，民警到场")
    joined = await send(police, second, 200)
    assert joined == {"case_no": case_no, "incident_id": second["incident_id"], "linked": True, "url": f"/cases/{case_no}"}
    assert await send(police, second, 200) == joined  # the same further incident again joins once
    case = (await api.get(f"/cases/{case_no}")).json()
    assert case["linked_incidents"] == [second["incident_id"]] and len(case["grade_history"]) == 2
    await wait_for(api, case_no, lambda r: any(f"关联警情 {second['incident_id']}" in e["note"] for e in r["timeline"]), view="/register")

    # The third police call about them in 30 days makes the case red (GradingPolicy.red_police_calls_30d = 3).
    third = incident([applicant], summary="申请人报警称对方上门滋扰")
    assert (await send(police, third, 200))["case_no"] == case_no
    case = (await api.get(f"/cases/{case_no}")).json()
    assert case["grade"] == "red" and "30 日内警情 3 次（≥3）" in case["grade_reasons"]
    assert await queue_priority(handle(case_no)) == 1  # red now: its tasks go first in a backlog
    assert case["linked_incidents"] == [second["incident_id"], third["incident_id"]]
    with sessions() as session:
        rows = session.scalars(select(PoliceIncident).where(PoliceIncident.case_no == case_no).order_by(PoliceIncident.received_at)).all()
        assert [(r.incident_id, r.linked) for r in rows] == [(first["incident_id"], False), (second["incident_id"], True), (third["incident_id"], True)]


async def test_two_incidents_about_the_same_new_parties_at_once_make_one_case(police, api):
    parties = [someone("周杰"), {**someone("吴敏"), "role": "respondent"}]
    forms = [incident(parties), incident(parties, summary="同一对当事人的另一起警情")]
    answers = [r.json() for r in await asyncio.gather(*(police.post("/incidents", json=form) for form in forms))]
    assert len({a["case_no"] for a in answers}) == 1 and sorted(a["linked"] for a in answers) == [False, True], answers
    case = await graded(api, answers[0]["case_no"])
    assert len(case["linked_incidents"]) == 1


async def test_an_incident_about_other_parties_opens_its_own_case(police):
    first = await send(police, incident(), 201)
    other = await send(police, incident(), 201)
    assert other["case_no"] != first["case_no"] and other["linked"] is False


async def test_an_incident_outside_the_window_or_after_the_case_closed_opens_a_new_case(police, api, link_window):
    parties = [someone("郑洁"), {**someone("孙浩"), "role": "respondent"}]
    first = await send(police, incident(parties), 201)
    await graded(api, first["case_no"])

    link_window(timedelta(seconds=1))
    await asyncio.sleep(1.5)
    late = await send(police, incident(parties), 201)
    assert late["case_no"] != first["case_no"] and late["linked"] is False

    link_window(timedelta(days=30))  # both cases in the window again: the newest open one is joined
    assert (await send(police, incident(parties), 200))["case_no"] == late["case_no"]
    await graded(api, late["case_no"])
    for case_no in (first["case_no"], late["case_no"]):
        await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
        await decide(api, case_no, "decline", {"operator": "受理员 周敏", "reason": "经核实已由派出所当场调解完毕"})
        await wait_for(api, case_no, lambda c: c["stage"] == "closed", view="/register")
    after_close = await send(police, incident(parties), 201)
    assert after_close["case_no"] not in (first["case_no"], late["case_no"])


async def test_the_same_incident_after_its_case_settled_gives_the_same_case_and_no_second_run(police, api, handle):
    form = incident()
    case_no = (await send(police, form, 201))["case_no"]
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    await decide(api, case_no, "decline", {"operator": "受理员 周敏", "reason": "经核实已由派出所当场调解完毕"})
    await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    await decide(api, case_no, "visit", {"visitor": "回访员 李娜", "satisfied": True, "notes": "双方已和好"})
    await wait_for(api, case_no, lambda c: c["stage"] == "settled", view="/register")
    run_id = await completed_run(handle(case_no))

    assert (await send(police, form, 200))["case_no"] == case_no
    latest = await handle(case_no).describe()
    assert (latest.run_id, latest.status.name) == (run_id, "COMPLETED")


async def test_only_the_police_platform_may_send_incidents(police, settings, keys):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", headers={"Authorization": f"Bearer {keys['T101-LDS']}"}) as unit:
        refused = await unit.post("/incidents", json=incident())
    assert refused.status_code == 403 and "无权" in refused.json()["detail"]
    await send(police, incident(), 201)


async def test_bad_incidents_name_the_field_and_create_nothing(police, sessions):
    with sessions() as session:
        before = [session.scalar(select(func.count()).select_from(table)) for table in (IntakeRequest, PoliceIncident)]
    bad = {
        "incident_id": incident(incident_id="警情 1"),
        "reported_at": incident(reported_at="2026-11-20T10:00:00"),  # no UTC offset
        "reported_at ": incident(reported_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()),  # in the future
        "summary": {k: v for k, v in incident().items() if k != "summary"},
        "category": incident(category="打架"),
        "parties": incident(parties=[]),
        "parties.0.id_number": incident(parties=[{"name": "张伟", "id_number": "123"}]),
        "factors.police_calls_30d": incident(factors={"police_calls_30d": -1}),
        "place.township_code": incident(place={"township_code": "999999999"}),
        "caller": incident(caller="110"),
    }
    for field, form in bad.items():
        response = await police.post("/incidents", json=form)
        assert response.status_code == 422, (field, response.text)
        assert field.strip() in response.json()["detail"], (field, response.json()["detail"])
    with sessions() as session:
        assert [session.scalar(select(func.count()).select_from(table)) for table in (IntakeRequest, PoliceIncident)] == before

    form = incident()
    await send(police, form, 201)
    changed = await police.post("/incidents", json={**form, "summary": "另一件事"})
    assert changed.status_code == 409 and "incident_id" in changed.json()["detail"]


async def test_the_police_platform_receives_every_status_once_in_order_though_it_was_down(police, api, simulator, handle):
    await simulator.put(f"/units/{PLATFORM}/script", json={"outage_for": 3})  # down from now: the first statuses wait
    try:
        parties = [someone("钱娟"), {**someone("冯涛"), "role": "respondent"}]
        form = incident(parties)
        case_no = (await send(police, form, 201))["case_no"]
        case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
        further = incident(parties, summary="双方再次争吵")
        assert (await send(police, further, 200))["linked"] is True
        await units_answer(api, case)
        await mediate(api, case_no, "withdrawn", reason="双方已自行和解，申请人撤回")
        await wait_for(api, case_no, lambda c: c["stage"] == "closed")

        async def feed(incident_id: str, count: int) -> list[dict]:
            deadline = asyncio.get_running_loop().time() + 30
            while True:
                statuses = (await simulator.get(f"/units/{PLATFORM}/incidents/{incident_id}")).json()
                if len(statuses) >= count or asyncio.get_running_loop().time() > deadline:
                    return statuses
                await asyncio.sleep(0.2)

        statuses = await feed(form["incident_id"], 3)
        assert [(s["seq"], s["status"]) for s in statuses] == [(1, "received"), (2, "dispatched"), (4, "resolved")], statuses
        # The joined incident hears the case from its joining on, like the first (revision 7; it heard only "received").
        joined = await feed(further["incident_id"], 2)
        assert [(s["seq"], s["status"]) for s in joined] == [(3, "received"), (5, "resolved")], joined
        deliveries = [d for d in (await simulator.get(f"/units/{PLATFORM}/dispatches")).json() if d["document"] and d["document"]["case_no"] == case_no]
        assert sorted(d["document"]["seq"] for d in deliveries) == [1, 2, 3, 4, 5]
        joining = next(d["document"]["note"] for d in deliveries if d["document"]["seq"] == 3)
        assert "已派单" in joining and "T101-SFS" in joining  # where the case stood when the incident joined it
        assert all(d["accepted"] == 1 for d in deliveries) and deliveries[0]["attempts"] > 1  # the outage was felt, nothing came twice
        await keep_history(handle(case_no), "police_incidents_each_hear_the_case")  # revision 7 (police_incident_linked_and_reported: 2)
    finally:
        await simulator.put(f"/units/{PLATFORM}/script", json={})
