"""The Temporal UI as the API serves it, over HTTP: who may sign in, what the session cookie is, how
long it lasts, the UI's preset settings, scoped lists, and writes refused (tests/api/test_ui_browser.py
walks the same in a browser)."""

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update

from onedoor.store import users
from onedoor.store.tables import UiSession
from tests.cases import register_case, wage_arrears, wait_for
from tests.conftest import free_port
from tests.scenarios.test_households import an_address, family_quarrel, household_of, wait_for_file
from workflows.household import household_workflow_id

PEOPLE = {
    "城关镇": dict(role="supervisor", jurisdiction_code="139001101"),
    "county": dict(role="supervisor", jurisdiction_code="139001"),
    "operator": dict(role="operator", jurisdiction_code="139001101"),
}


@pytest.fixture(scope="module")
async def people(stack, sessions) -> dict[str, str]:
    with sessions() as session:
        return {name: users.issue_key(session, users.ensure_user(session, f"ui-{name}"[:32], name=name, active=True, **fields)) for name, fields in PEOPLE.items()}


@pytest.fixture
async def signed_in(settings):
    """sign_in(key): a client that signed in to the UI with this key, as a browser does."""
    browsers = []

    async def sign_in(key: str) -> httpx.AsyncClient:
        browsers.append(browser := httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30))
        answer = await browser.post("/ui/session", json={"api_key": key})
        assert answer.status_code == 204, answer.text
        return browser

    yield sign_in
    for browser in browsers:
        await browser.aclose()


async def listed(browser: httpx.AsyncClient, query: str) -> set[str]:
    answer = await browser.get("/api/v1/namespaces/default/workflows", params={"query": query})
    assert answer.status_code == 200, answer.text
    return {execution["execution"]["workflowId"] for execution in answer.json().get("executions", [])}


async def test_the_session_is_a_random_id_that_ends_at_sign_out_or_after_a_working_day(settings, sessions, people, keys, signed_in):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}") as stranger:
        page = await stranger.get("/namespaces/default/workflows")
        assert page.status_code == 303 and page.headers["location"] == "/ui/signin?next=/namespaces/default/workflows"
        assert (await stranger.get("/api/v1/settings")).status_code == 401
        assert (await stranger.post("/ui/session", json={"api_key": "od_not-a-key"})).status_code == 401
        # A program with a key at a path the API does not have: 404, not the UI's sign-in.
        assert (await stranger.get("/no-such-route", headers={"Authorization": f"Bearer {keys['admin']}"})).status_code == 404

    # Every role signs in (the console is theirs too); the UI itself is the supervisors'.
    operator = await signed_in(people["operator"])
    refused = await operator.get("/api/v1/settings")
    assert refused.status_code == 403 and "督办" in refused.json()["detail"]
    sent_home = await operator.get("/namespaces/default/workflows")
    assert sent_home.status_code == 303 and sent_home.headers["location"] == "/console"

    browser = await signed_in(people["城关镇"])
    [session_cookie] = [c for c in browser.cookies.jar if c.name == "onedoor_session"]
    assert people["城关镇"] not in session_cookie.value and session_cookie.has_nonstandard_attr("HttpOnly")
    assert (await browser.get("/api/v1/settings")).status_code == 200
    assert (await browser.post("/ui/signout")).status_code == 204
    browser.cookies.set("onedoor_session", session_cookie.value)  # kept by someone after sign-out: the id is dead, not just forgotten
    assert (await browser.get("/api/v1/settings")).status_code == 401

    browser = await signed_in(people["城关镇"])
    with sessions() as session:
        session.execute(update(UiSession).where(UiSession.user_id == "ui-城关镇").values(expires_at=datetime.now(UTC)))
        session.commit()
    assert (await browser.get("/api/v1/settings")).status_code == 401


async def test_the_ui_is_preset_to_the_same_origin_codec_and_read_only_but_for_an_admin(people, keys, signed_in):
    supervisor, admin = await signed_in(people["城关镇"]), await signed_in(keys["admin"])
    shown = (await supervisor.get("/api/v1/settings")).json()
    assert shown["Codec"]["Endpoint"] == "/codec" and shown["Codec"]["IncludeCredentials"]
    assert shown["DisableWriteActions"] and shown["WorkflowTerminateDisabled"] and shown["BatchActionsDisabled"]
    assert not (await admin.get("/api/v1/settings")).json()["DisableWriteActions"]
    for method, path in (("POST", "/api/v1/namespaces/default/workflows/139001-2026-000001/terminate"),
                         ("POST", "/api/v1/namespaces/default/workflows/139001-2026-000001/signal/supervise"),
                         ("POST", "/api/v1/namespaces/default/batch-operations/b-1"),
                         ("DELETE", "/api/v1/namespaces/default/schedules/weekly-139001")):
        refused = await supervisor.request(method, path, json={})
        assert refused.status_code == 403 and "只读" in refused.json()["detail"], (method, path)
        assert (await admin.request(method, path, json={})).status_code != 403  # reaches Temporal (which may refuse the empty body)


async def test_lists_and_counts_hold_only_the_jurisdictions_cases(api, people, signed_in):
    ours = await register_case(api, wage_arrears())
    theirs = await register_case(api, wage_arrears(place={"township_code": "139001102"}))
    for case_no in (ours, theirs):
        await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    both = f'WorkflowId IN ("{ours}", "{theirs}")'
    township, county = await signed_in(people["城关镇"]), await signed_in(people["county"])
    assert await listed(township, both) == {ours}
    assert await listed(county, both) == {ours, theirs}
    assert await listed(township, f'WorkflowId="{theirs}" OR WorkflowId="{ours}"') == {ours}  # an OR stays inside the scope
    grouped = await township.get("/api/v1/namespaces/default/workflow-count", params={"query": f"{both} GROUP BY ExecutionStatus"})
    assert grouped.status_code == 200 and int(grouped.json()["count"]) == 1
    for escape in ('WorkflowId="x") OR (WorkflowId!="x"', 'WorkflowId="x" GROUP BY ExecutionStatus) OR (true'):
        refused = await township.get("/api/v1/namespaces/default/workflows", params={"query": escape})
        assert refused.status_code == 400 and refused.json()["detail"].startswith("query")
    hidden = await township.get(f"/api/v1/namespaces/default/workflows/{theirs}")
    assert hidden.status_code == 404
    assert (await township.post(f"/api/v1/namespaces/default/workflows/{theirs}/query/__temporal_workflow_metadata", json={})).status_code == 404


async def test_a_household_file_opens_for_its_townships_supervisor(api, people, signed_in):
    case_no = await register_case(api, family_quarrel(an_address()[0]))
    workflow_id = household_workflow_id(await household_of(api, case_no))
    await wait_for_file(api, workflow_id.removeprefix("household-"), lambda file: file["status"])
    township = await signed_in(people["城关镇"])
    opened = await township.get(f"/api/v1/namespaces/default/workflows/{workflow_id}")
    assert opened.status_code == 200, opened.text
    assert (await township.get("/api/v1/namespaces/default/workflows/household-nobody")).status_code == 404


async def test_the_ui_server_down_is_a_503_not_a_crash(stack, people, signed_in):
    township = await signed_in(people["城关镇"])
    original = stack.state.ui_http
    stack.state.ui_http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        down = await township.get("/api/v1/settings")
    finally:
        await stack.state.ui_http.aclose()
        stack.state.ui_http = original
    assert down.status_code == 503 and "暂时不可用" in down.json()["detail"]
