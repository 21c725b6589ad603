"""Helpers the scenario tests share: a registration form, and waiting on a case through the API."""

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime

import httpx
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowHandle

from onedoor.domain.timezone import as_shanghai

PLATFORM = "GA-JQPT"  # the seed's police platform (a unit of kind police)


def today() -> str:
    """Today's date where the center is (Asia/Shanghai), as a form sends it."""
    return as_shanghai(datetime.now(UTC)).date().isoformat()


def wage_arrears(**changes) -> dict:
    """The county's everyday case: three migrant workers owed wages in 城关镇. Its applicant, 王建国,
    is someone else each time (his own ID number and phone): the same parties again while their
    case is open would be refused (409) without join_case or separate_reason."""
    form = {
        "client_request_id": f"req-{uuid.uuid4().hex}",
        "source": "window",
        "category": "劳动争议",
        "summary": "某建筑工地拖欠 3 名农民工工资共 2.4 万元",
        "place": {"township_code": "139001101"},
        "parties": [{**someone("王建国"), "role": "applicant"}, {"name": "某建筑公司", "role": "respondent"}],
        "factors": {"people_involved": 3, "amount_at_stake": 24000, "vulnerable_groups": ["migrant_worker_wages"]},
    }
    form.update(changes)
    return form


def someone(name: str) -> dict:
    """A party nobody else in the test run shares: its own ID number and phone."""
    return {"name": name, "id_number": f"{random.randrange(10**17):017d}X", "phone": f"139{random.randrange(10**8):08d}"}


def incident(parties: list[dict] | None = None, **changes) -> dict:
    """A neighbour quarrel the police attended and transferred (邻里纠纷 in 城关镇: the justice office handles it)."""
    form = {
        "incident_id": f"JQ{uuid.uuid4().hex[:20]}",
        "reported_at": as_shanghai(datetime.now(UTC)).isoformat(),
        "place": {"township_code": "139001101"},
        "category": "邻里",
        "summary": "楼上楼下因漏水发生争吵，民警到场劝解后移交综治中心",
        "parties": [someone("张伟"), {**someone("李强"), "role": "respondent"}] if parties is None else parties,
    }
    return form | changes


async def register_case(api: httpx.AsyncClient, form: dict | None = None) -> str:
    response = await api.post("/cases", json=form or wage_arrears())
    assert response.status_code == 201, response.text
    return response.json()["case_no"]


async def wait_for(api: httpx.AsyncClient, case_no: str, predicate, timeout: float = 30, view: str = "") -> dict:
    """Poll the case (or, with view="/register", its register record) until predicate holds. The
    timeout is for a loaded machine (late in the suite, two cores, the earlier tests' cases still
    running): a workflow task can take past its own 10 s there and be handed out again."""
    deadline = time.monotonic() + timeout
    while True:
        case = (await api.get(f"/cases/{case_no}{view}")).json()
        if predicate(case):
            return case
        assert time.monotonic() < deadline, f"case never reached the expected state: {case}"
        await asyncio.sleep(0.1)


def clock(case: dict, name: str) -> dict:
    return next(c for c in case["clocks"] if c["name"] == name)


async def wait_for_delivery(simulator: httpx.AsyncClient, unit: str, case_no: str, answered: int = 0, timeout: float = 15) -> dict:
    """The simulator's record of the case's delivery to the unit's system, once it holds `answered` answers:
    the simulator notes onedoor's status for an answer when its call returns, a moment after the case moved."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for delivery in (await simulator.get(f"/units/{unit}/dispatches")).json():
            if delivery["document"] and delivery["document"]["case_no"] == case_no and len(delivery["answers"]) >= answered:
                return delivery
        await asyncio.sleep(0.1)
    raise AssertionError(f"{unit} never received {case_no}")


async def supervision_documents(simulator, unit: str, case_no: str, count: int = 1) -> list[dict]:
    """The 督办 documents (onedoor.supervision/v1) the unit's system has received about the case."""
    for _ in range(150):
        documents = [d["document"] for d in (await simulator.get(f"/units/{unit}/dispatches")).json()
                     if (d["document"] or {}).get("schema_version") == "onedoor.supervision/v1" and d["document"]["case_no"] == case_no]
        if len(documents) >= count:
            return documents
        await asyncio.sleep(0.1)
    raise AssertionError(f"{unit} never received {count} supervision orders about {case_no}")


async def completed_run(handle: WorkflowHandle) -> str:
    """The id of the case's run once it has completed: settled, it still sends its last notices first."""
    for _ in range(150):
        description = await handle.describe()
        if description.status.name == "COMPLETED":
            return description.run_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} never completed: {description.status.name}")


def without_codec(client: Client) -> Client:
    """A client of the same server without the codec: what the Temporal UI reads when it has none."""
    return Client(client.service_client, namespace=client.namespace)


async def current_details(client: Client, workflow_id: str) -> str:
    """The workflow's current details, read as the Temporal UI reads them, without the codec."""
    metadata = await without_codec(client).get_workflow_handle(workflow_id).query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


async def queue_priority(handle: WorkflowHandle) -> int:
    """The case's priority on Temporal's task queues, as the server holds it (1 goes first)."""
    return (await handle.describe()).raw_description.workflow_execution_info.priority.priority_key


async def decide(api: httpx.AsyncClient, case_no: str, path: str, body: dict, expect: int = 200) -> dict:
    """POST a decision to the case; assert the status; return the case (or the refusal)."""
    response = await api.post(f"/cases/{case_no}/{path}", json=body)
    assert response.status_code == expect, response.text
    return response.json()


async def units_answer(api: httpx.AsyncClient, case: dict, feedback: bool = True) -> dict:
    """Every unit dispatched at the current level responds, then (by default) reports."""
    units = [a["unit_code"] for a in case["assignments"] if a["level"] == case["level"] and a["response"] is None]
    for unit in units:
        case = await decide(api, case["case_no"], "response", {"unit_code": unit, "handler": f"{unit}承办人"})
    if feedback:
        for unit in units:
            case = await decide(api, case["case_no"], "feedback", {"unit_code": unit, "handler": f"{unit}承办人", "summary": "已按职责处理"})
    return case


async def mediator_of(api: httpx.AsyncClient, case_no: str) -> str:
    case = await wait_for(api, case_no, lambda c: c["mediations"] and c["mediations"][-1]["outcome"] is None)
    return case["mediations"][-1]["mediator_id"]


async def mediate(api: httpx.AsyncClient, case_no: str, outcome: str = "agreement", **result) -> dict:
    mediator = await mediator_of(api, case_no)
    body = {"mediator_id": mediator, "outcome": outcome, **result}
    if outcome == "agreement":
        body.setdefault("terms", "被申请人于 2026-12-10 前支付全部款项")
    else:
        body.setdefault("reason", "双方分歧较大")
    return await decide(api, case_no, "mediation/result", body)


async def visit(api: httpx.AsyncClient, case_no: str, satisfied: bool = True, **extra) -> dict:
    await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    return await decide(api, case_no, "visit", {"visitor": "回访员 李娜", "satisfied": satisfied, "notes": "当事人表示满意" if satisfied else "款项仍未到账", **extra})


async def settle(api: httpx.AsyncClient, case_no: str) -> dict:
    """The everyday way to 案结事了: the units answer, the mediation agrees, the return visit is satisfied."""
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    await units_answer(api, case)
    await mediate(api, case_no, "agreement", terms="七日内付清")
    await visit(api, case_no)
    return await wait_for(api, case_no, lambda c: c["stage"] == "settled")


async def household_of(api: httpx.AsyncClient, case_no: str) -> str:
    """The household file the case joined, as its register timeline says."""
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "household" for e in r.get("timeline", [])), view="/register")
    note = next(e["note"] for e in record["timeline"] if e["kind"] == "household")
    return note.split()[-1]


async def typed_everywhere(api: httpx.AsyncClient, case_no: str, words: str, court: str | None = None) -> None:
    """A person's words (a name, an ID number, a phone) typed into every free-text field and name of
    one case, from its dispatch to its return visit: new facts, a grade's reason, a pause and its
    resume, an extension, a supervision order, the units' answers, a mediation session, its
    extension and its terms; with `court`, the judicial confirmation applied to it and decided."""
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    await decide(api, case_no, "facts", {"reporter": words, "note": f"新情况：{words}"})
    await decide(api, case_no, "grade", {"operator": words, "grade": "yellow", "reason": f"复核：{words}"})
    await decide(api, case_no, "pause", {"actor": words, "reason": f"等待当事人：{words}"})
    await decide(api, case_no, "resume", {"actor": words, "note": f"已联系：{words}"})
    await decide(api, case_no, "extensions", {"supervisor": words, "clock": "feedback", "unit_code": "T101-LDS", "by": 60, "reason": f"延长：{words}"})
    supervised = await api.post(f"/cases/{case_no}/supervision", json={"supervisor": words, "order": f"督办：{words}"})
    assert supervised.status_code == 202, supervised.text
    for unit in [a["unit_code"] for a in case["assignments"]]:
        await decide(api, case_no, "response", {"unit_code": unit, "handler": words, "note": f"已接单：{words}"})
        await decide(api, case_no, "feedback", {"unit_code": unit, "handler": words, "summary": f"已处理：{words}"})
    mediator = await mediator_of(api, case_no)
    await decide(api, case_no, "mediation/sessions", {"mediator_id": mediator, "held_on": today(), "mode": "desk", "notes": f"调解：{words}"})
    await decide(api, case_no, "mediation/extension", {"mediator_id": mediator, "applicant_consents": True, "respondent_consents": True, "by": 60,
                                                      "reason": f"双方同意：{words}"})
    await mediate(api, case_no, "agreement", terms=f"七日内付清：{words}", seek_confirmation=court is not None)
    if court:
        await wait_for(api, case_no, lambda c: c["stage"] == "confirmation")
        await decide(api, case_no, "confirmation/application", {"applicant": words, "court_code": court})
        await decide(api, case_no, "confirmation/decision", {"court_code": court, "confirmed": True, "reference": "（2026）示 0101 民特 60 号", "reason": f"确认：{words}"})
    await visit(api, case_no, visitor=words, notes=f"满意：{words}")
