"""Helpers the scenario tests share: a registration form, and waiting on a case through the API."""

import asyncio
import time
import uuid

import httpx


def wage_arrears(**changes) -> dict:
    """The county's everyday case: three migrant workers owed wages in 城关镇."""
    form = {
        "client_request_id": f"req-{uuid.uuid4().hex}",
        "source": "window",
        "category": "劳动争议",
        "summary": "某建筑工地拖欠 3 名农民工工资共 2.4 万元",
        "place": {"township_code": "139001101"},
        "parties": [
            {"name": "王建国", "role": "applicant", "id_number": "130123198001011234", "phone": "13800138000"},
            {"name": "某建筑公司", "role": "respondent"},
        ],
        "factors": {"people_involved": 3, "amount_at_stake": 24000, "vulnerable_groups": ["migrant_worker_wages"]},
    }
    form.update(changes)
    return form


async def register_case(api: httpx.AsyncClient, form: dict | None = None) -> str:
    response = await api.post("/cases", json=form or wage_arrears())
    assert response.status_code == 201, response.text
    return response.json()["case_no"]


async def wait_for(api: httpx.AsyncClient, case_no: str, predicate, timeout: float = 20, view: str = "") -> dict:
    """Poll the case (or, with view="/register", its register record) until predicate holds."""
    deadline = time.monotonic() + timeout
    while True:
        case = (await api.get(f"/cases/{case_no}{view}")).json()
        if predicate(case):
            return case
        assert time.monotonic() < deadline, f"case never reached the expected state: {case}"
        await asyncio.sleep(0.1)


def clock(case: dict, name: str) -> dict:
    return next(c for c in case["clocks"] if c["name"] == name)


async def wait_for_delivery(simulator: httpx.AsyncClient, unit: str, case_no: str, timeout: float = 15) -> dict:
    """The simulator's record of the case's delivery to the unit's system."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for delivery in (await simulator.get(f"/units/{unit}/dispatches")).json():
            if delivery["document"] and delivery["document"]["case_no"] == case_no:
                return delivery
        await asyncio.sleep(0.1)
    raise AssertionError(f"{unit} never received {case_no}")
