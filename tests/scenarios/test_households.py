"""家庭和谐服务档案: a family with repeated disputes gets one file that follows it up until it is calm."""

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import pytest
from temporalio.client import Client, WorkflowHandle

from onedoor.codec import field_sealer
from onedoor.domain.household import HouseholdState, VisitReport
from onedoor.domain.policy import HouseholdPolicy
from onedoor.domain.timezone import as_shanghai
from onedoor.store import users
from tests.cases import household_of, register_case, wage_arrears
from tests.conftest import keep_history, register_sessions, running_worker
from workflows import search_attributes as sa
from workflows.household import HouseholdWorkflow, household_workflow_id

@pytest.fixture
def household_policy(stack):
    """Set the household policy new cases carry (as `clocks` does for their clocks)."""
    original = stack.state.settings

    def use(**seconds: float) -> None:
        policy = HouseholdPolicy(**{name: timedelta(seconds=value) if name != "history_limit" else value for name, value in seconds.items()})
        stack.state.settings = stack.state.settings.model_copy(update={"household": policy})  # on what other fixtures set (webhook_worker's queue)

    yield use
    stack.state.settings = original


@pytest.fixture
async def webhook_worker(temporal, stack, settings):
    """Cases registered in this test run on a worker of their own whose notices also go to the
    simulator's webhook (the stack's worker tells the log only), on a task queue of its own."""
    original = stack.state.settings
    mine = settings.model_copy(update={"task_queue": f"onedoor-webhook-{uuid.uuid4().hex[:6]}", "notify_channels": ["log", "webhook"]})
    with register_sessions(mine.register_url, field_sealer(mine)) as sessions:  # an engine of its own, as worker.py makes one
        async with running_worker(temporal.client, mine, sessions):
            stack.state.settings = original.model_copy(update={"task_queue": mine.task_queue})
            yield
            stack.state.settings = original


@pytest.fixture
def signed_in(sessions):
    """Headers to call the API as an operator or supervisor of one jurisdiction."""

    def as_(role: str, jurisdiction_code: str) -> dict[str, str]:
        with sessions() as session:
            user = users.ensure_user(session, f"hh-{role}-{jurisdiction_code}", name=f"{jurisdiction_code} {role}", role=role,
                                     jurisdiction_code=jurisdiction_code, unit_code=None, mediator_id=None, active=True)
            return {"Authorization": f"Bearer {users.issue_key(session, user)}"}

    return as_


def family_quarrel(address: str) -> dict:
    """A couple's quarrel reported to the police and transferred (警情流转): graded blue on its own."""
    return wage_arrears(
        source="police", category="婚姻家庭", summary="夫妻因家务琐事争吵，邻居报警",
        place={"township_code": "139001101", "village_code": "139001101201"},
        parties=[{"name": "张建军", "role": "applicant"}, {"name": "刘秀英", "role": "respondent"}],
        factors={}, household_address=address,
    )


def an_address() -> list[str]:
    """A family's address as three operators might type it: plain, full-width digits, loose spaces and capitals."""
    building, room = uuid.uuid4().int % 1000, uuid.uuid4().hex[:6]
    full_width = str(building).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    return [f"东关社区{building}号楼{room}室", f"东关社区{full_width}号楼{room}室", f" 东关社区 {building} 号楼{room.upper()}室"]



async def wait_for_file(api, household_id: str, predicate, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = await api.get(f"/households/{household_id}")
        if response.status_code == 200 and predicate(file := response.json()):
            return file
        assert time.monotonic() < deadline, f"household file never reached the expected state: {response.text}"
        await asyncio.sleep(0.2)


async def wait_for_state(household: WorkflowHandle, predicate, timeout: float = 30) -> HouseholdState:
    """The file's state from its workflow (the newest run), once predicate holds."""
    deadline = time.monotonic() + timeout
    while not predicate(state := await household.query(HouseholdWorkflow.status)):
        assert time.monotonic() < deadline, f"household file never reached the expected state: {state}"
        await asyncio.sleep(0.2)
    return state


def gap(earlier: str, later: str) -> timedelta:
    return datetime.fromisoformat(later) - datetime.fromisoformat(earlier)


async def wait_for_continued_run(client: Client, household: WorkflowHandle, after: str | None, timeout: float = 30) -> str:
    """The newest run of the file that continued-as-new, other than `after`."""
    deadline = time.monotonic() + timeout
    while True:
        runs = [run.run_id async for run in client.list_workflows(f'WorkflowId="{household.id}" AND ExecutionStatus="ContinuedAsNew"')]
        fresh = [run for run in runs if run != after]
        if fresh:
            return fresh[0]  # newest first
        assert time.monotonic() < deadline, "the file never continued-as-new"
        await asyncio.sleep(0.2)


async def test_family_with_three_incidents_goes_red_is_visited_weekly_then_calms_down_and_closes(api, household_policy, temporal, handle):
    # Seconds stand in for the policy's days: weekly (red) is 2 s, monthly 4 s, the calm period 8 s.
    household_policy(red_visit_every=2, yellow_visit_every=4, blue_visit_every=6, calm_period=8)
    addresses = an_address()
    cases = await asyncio.gather(*(register_case(api, family_quarrel(address)) for address in addresses))
    ids = {await household_of(api, case_no) for case_no in cases}
    assert len(ids) == 1
    household_id = ids.pop()
    assert household_id.startswith("HH-139001101-")

    file = await wait_for_file(api, household_id, lambda f: f["case_count"] == 3)
    assert (file["risk"], file["status"], sorted(file["cases"])) == ("red", "open", sorted(cases))
    assert file["grid_worker_id"] in ("G-T101-1", "G-T101-2") and file["grid_worker_name"].startswith("城关镇网格员")
    assert file["address"] in [a.strip() for a in addresses] and file["opened_at"].endswith("+08:00")

    household = temporal.client.get_workflow_handle_for(HouseholdWorkflow.run, household_workflow_id(household_id))
    runs = [run async for run in temporal.client.list_workflows(f'WorkflowId = "{household_workflow_id(household_id)}"')]
    assert len(runs) == 1  # three cases, one file: signal-with-start
    state = await household.query(HouseholdWorkflow.status)
    assert sorted(c.case_no for c in state.cases) == sorted(cases)
    assert "重复纠纷" in state.risk_reason
    # The Temporal UI knows the household by its id and place codes, never by its address.
    description = await household.describe()
    summary, attributes = await description.static_summary(), description.typed_search_attributes
    assert household_id in summary and "139001101201" in summary
    assert (attributes.get(sa.RISK_GRADE), attributes.get(sa.JURISDICTION), attributes.get(sa.TOWNSHIP)) == ("red", "139001101201", "139001101")
    for personal in (*addresses, "东关社区", "张建军"):
        assert personal not in summary and personal not in str(attributes)

    # The weekly visit falls due: the grid worker is reminded; the visit is recorded through the API.
    state = await wait_for_state(household, lambda s: s.reminders >= 1)
    answer = await api.post(f"/households/{household_id}/visits", json={"visitor": file["grid_worker_name"], "notes": "夫妻关系缓和，已调解"})
    assert answer.status_code == 201, answer.text
    visited = answer.json()
    assert [v["seq"] for v in visited["visits"]] == [1] and visited["visits"][0]["risk"] == "red"
    assert gap(visited["visits"][-1]["at"], visited["next_visit_at"]) == timedelta(seconds=2)  # weekly while red

    # No new case for a calm period: yellow (visits monthly), then blue, then the file closes.
    yellow = await wait_for_file(api, household_id, lambda f: f["risk"] == "yellow")
    assert gap(yellow["visits"][-1]["at"], yellow["next_visit_at"]) == timedelta(seconds=4)
    await wait_for_file(api, household_id, lambda f: f["risk"] == "blue")
    closed = await wait_for_file(api, household_id, lambda f: f["status"] == "closed")
    assert (closed["risk"], closed["next_visit_at"], closed["visit_overdue"]) == (None, None, False) and closed["closed_at"]
    final = await household.result()
    assert [change.risk for change in final.risk_history][-4:] == ["red", "yellow", "blue", None]  # how it rose depends on which case linked first
    late = await api.post(f"/households/{household_id}/visits", json={"visitor": "网格员", "notes": "回访"})
    assert late.status_code == 409 and "销档" in late.json()["detail"]

    await keep_history(household, "household/family_red_visited_calmed_closed")
    await keep_history(handle(cases[0]), "family_case_linked_to_household")


async def test_a_file_that_continues_as_new_keeps_its_state_exactly(api, household_policy, temporal):
    household_policy(history_limit=1)  # every run continues-as-new after its first change
    address = an_address()[0]
    first = await register_case(api, family_quarrel(address))
    household_id = await household_of(api, first)
    household = temporal.client.get_workflow_handle_for(HouseholdWorkflow.run, household_workflow_id(household_id))
    continued = await wait_for_continued_run(temporal.client, household, after=None)
    before = await temporal.client.get_workflow_handle_for(HouseholdWorkflow.run, household.id, run_id=continued).query(HouseholdWorkflow.status)
    assert (before.risk, [c.case_no for c in before.cases]) == ("blue", [first])

    visited = await household.execute_update(HouseholdWorkflow.record_visit, VisitReport(visitor="网格员 韩秀兰", notes="家中平静"))
    assert visited.model_copy(update={"visits": before.visits, "next_visit_at": before.next_visit_at}) == before
    after_run = await wait_for_continued_run(temporal.client, household, after=continued)
    after = await household.query(HouseholdWorkflow.status)
    assert after_run != continued and after == visited

    # The continued file goes on where it was: a second case makes two in a year, yellow.
    second = await register_case(api, family_quarrel(address))
    assert await household_of(api, second) == household_id
    file = await wait_for_file(api, household_id, lambda f: f["case_count"] == 2)
    assert (file["risk"], len(file["visits"]), sorted(file["cases"])) == ("yellow", 1, sorted([first, second]))
    await keep_history(temporal.client.get_workflow_handle(household.id, run_id=continued), "household/visit_then_continued_as_new")


async def test_household_files_are_listed_by_risk_and_unknown_ones_refused(api, household_policy):
    household_policy()
    household_id = await household_of(api, await register_case(api, family_quarrel(an_address()[0])))
    listed = (await api.get("/households", params={"township_code": "139001101", "status": "open", "limit": 500})).json()
    assert household_id in [item["id"] for item in listed["items"]] and listed["total"] >= 1
    assert all(item["township_code"] == "139001101" and "address" not in item for item in listed["items"])
    assert (await api.get("/households", params={"risk": "purple"})).json()["detail"].count("risk") == 1
    assert (await api.get("/households/HH-139001101-999999")).status_code == 404
    assert (await api.get(f"/households/{household_id}", headers={"Authorization": ""})).status_code == 401  # an address is personal data
    assert (await api.post("/households/HH-139001101-999999/visits", json={"visitor": "网格员", "notes": "走访"})).status_code == 404
    empty = await api.post(f"/households/{household_id}/visits", json={"visitor": "", "notes": "走访"})
    assert empty.status_code == 422 and "visitor" in empty.json()["detail"]


async def reminders_of(api, household_id: str, count: int, timeout: float = 30) -> list[dict]:
    """The file's first `count` visit reminders in GET /notices, oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        rows = (await api.get("/notices", params={"kind": "visit_reminder", "limit": 200})).json()["rows"]
        mine = sorted((row for row in rows if row["key"].startswith(f"{household_id}:")), key=lambda row: int(row["key"].rsplit(":", 1)[1]))
        if len(mine) >= count:
            return mine[:count]
        assert time.monotonic() < deadline, f"the grid worker was never told: {mine}"
        await asyncio.sleep(0.2)


async def test_a_visit_falling_due_is_told_to_the_grid_workers_township_through_the_notification_port(
    api, signed_in, simulator, household_policy, webhook_worker, temporal,
):
    # Seconds stand in for days: a blue file is visited "quarterly" (2 s) and closes after a calm "90 days" (5 s).
    household_policy(blue_visit_every=2, calm_period=5)
    household_id = await household_of(api, await register_case(api, family_quarrel(an_address()[0])))
    file = await wait_for_file(api, household_id, lambda f: f["risk"] == "blue")
    due = as_shanghai(datetime.fromisoformat(file["opened_at"]) + timedelta(seconds=2)).strftime("%Y-%m-%d %H:%M")

    # Due, then still missed an interval later: each reminder is a notice to the township's center,
    # whose operators the grid workers are, naming the file's grid worker (by id: the text is logged).
    first, second = await reminders_of(api, household_id, 2)
    for notice in (first, second):
        assert (notice["audience"], notice["recipient"], notice["case_no"], notice["channels"]) == ("operator", "139001101", None, ["log", "webhook"])
        assert f"蓝色家庭 {household_id}" in notice["text"] and f"应于 {due} 前走访" in notice["text"], notice["text"]
        assert f"网格员 {file['grid_worker_id']}" in notice["text"] and file["grid_worker_name"] not in notice["text"]
    assert "已到期" in first["text"] and "已逾期" in second["text"]
    assert first["key"] != second["key"]

    # The township's supervisor reads it; another township's operator does not.
    for who, sees in ((signed_in("supervisor", "139001101"), True), (signed_in("operator", "139001102"), False)):
        listed = await api.get("/notices", params={"kind": "visit_reminder", "limit": 200}, headers=who)
        assert (first["key"] in [row["key"] for row in listed.json()["rows"]]) is sees

    # The webhook got each reminder once, as onedoor.notification/v1.
    received = {n["key"]: n for n in (await simulator.get("/notifications")).json()}
    for notice in (first, second):
        assert received[notice["key"]]["count"] == 1
        message = received[notice["key"]]["message"]
        assert (message["schema_version"], message["audience"], message["recipient"], message["kind"], message["text"]) == (
            "onedoor.notification/v1", "operator", "139001101", "visit_reminder", notice["text"])

    # Calm for the calm period: the blue file closes once the reminders in flight are through.
    await wait_for_file(api, household_id, lambda f: f["status"] == "closed")
    household = temporal.client.get_workflow_handle_for(HouseholdWorkflow.run, household_workflow_id(household_id))
    await household.result()
    await keep_history(household, "household/visit_reminders_told_then_closed")
