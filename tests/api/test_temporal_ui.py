"""What a supervisor sees in the Temporal UI: search attributes to filter by, a summary, current
details. Read back through the Temporal client the way the UI reads them."""

import asyncio
import base64
import json
import re
import time
from pathlib import Path

from temporalio.client import WorkflowHistory

from onedoor.domain.case import CaseFile
from onedoor.domain.revisions import LATEST, Revision
from tests.cases import completed_run, current_details, register_case, settle, wage_arrears, wait_for
from tests.conftest import CONVERTER, keep_history
from workflows import search_attributes as sa
from workflows.dispute_case import DisputeCaseWorkflow


async def test_dispatched_case_is_findable_and_readable(api, temporal, handle):
    form = wage_arrears()
    case_no = await register_case(api, form)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    description = await handle(case_no).describe()
    attributes = description.typed_search_attributes
    assert attributes.get(sa.CASE_STAGE) == "dispatched"
    assert (attributes.get(sa.RISK_GRADE), attributes.get(sa.CASE_LEVEL), attributes.get(sa.LEAD_UNIT)) == ("yellow", "township", "T101-LDS")
    assert (attributes.get(sa.CATEGORY), attributes.get(sa.TOWNSHIP), attributes.get(sa.OVERDUE)) == ("劳动争议", "139001101", False)
    assert attributes.get(sa.NEXT_DEADLINE) is not None

    summary = await description.static_summary()
    assert case_no in summary and "劳动争议" in summary and "城关镇（139001101）" in summary  # names beside codes
    details = await current_details(temporal.client, case_no)
    assert "**阶段**：已派单待响应" in details and "**等级**：黄色 — " in details
    assert "**办理**：乡镇/街道级综治中心 城关镇（139001101）" in details and "**承办单位**：城关镇劳动保障所（T101-LDS）" in details
    assert "\n- 响应时限 · 城关镇劳动保障所（T101-LDS） · " in details and "\n- 反馈时限 · 城关镇劳动保障所（T101-LDS） · " in details
    assert "**调解员**：" in details and "**最近一步**：" in details
    assert english(details) == []  # Chinese throughout: codes only beside names
    applicant = form["parties"][0]
    for personal in (applicant["name"], applicant["id_number"], applicant["phone"]):  # no personal data where the UI lists cases
        assert personal not in summary and personal not in details and personal not in str(attributes)

    # The list filter a township supervisor types in the UI finds it.
    query = f'CaseStage="dispatched" AND RiskGrade="yellow" AND Township="139001101" AND WorkflowId="{case_no}"'
    deadline = time.monotonic() + 10
    while not [w async for w in temporal.client.list_workflows(query)]:
        assert time.monotonic() < deadline, "visibility never listed the case"
        await asyncio.sleep(0.2)


async def test_a_case_shows_its_revision_so_old_code_can_go_once_no_running_case_is_on_it(api, temporal, handle):
    """The rule for deleting a revision's code (domain/revisions.py) starts with a query: no running case older than it.
    From revision 10 a case publishes the revision it runs at (OnedoorRevision); a case started before carries none,
    which IS NULL finds: here one waiting on a task queue no worker serves, as a case of old code waits for its next task."""
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    assert LATEST == Revision.REVISION_ATTRIBUTE and (await handle(case_no).describe()).typed_search_attributes.get(sa.REVISION) == LATEST

    history = await handle(case_no).fetch_history()
    [started] = await temporal.client.data_converter.decode(history.events[0].workflow_execution_started_event_attributes.input.payloads, [CaseFile])
    older_case = started.model_copy(update={"case_no": f"{case_no}-R9", "revision": Revision.CASE_CALENDARS})
    older = await temporal.client.start_workflow(DisputeCaseWorkflow.run, older_case, id=older_case.case_no, task_queue=f"{case_no}-no-worker")
    both = f'WorkflowId IN ("{case_no}", "{older_case.case_no}")'
    try:
        rule = 'WorkflowType="DisputeCaseWorkflow" AND ExecutionStatus="Running" AND (OnedoorRevision < {} OR OnedoorRevision IS NULL)'
        await listed(temporal.client, f"{rule.format(int(LATEST))} AND {both}", {older_case.case_no})  # revision 9's code cannot go yet
        await listed(temporal.client, f"{rule.format(int(LATEST) + 1)} AND {both}", {case_no, older_case.case_no})  # nor, later, this one's
    finally:
        await older.terminate("a stand-in for a case of old code, never run")

    await settle(api, case_no)
    await completed_run(handle(case_no))
    await keep_history(handle(case_no), "revision_search_attribute")  # revision 10


async def listed(client, query: str, expected: set[str], timeout: float = 10) -> None:
    """The ids the query lists are the expected ones, once visibility has caught up (it lags the workflow a moment)."""
    deadline = time.monotonic() + timeout
    while (found := {w.id async for w in client.list_workflows(query)}) != expected:
        assert time.monotonic() < deadline, f"{query} lists {found}, not {expected}"
        await asyncio.sleep(0.2)


def english(text: str) -> list[str]:
    """The English words in a text a supervisor reads (codes are upper case: T101-LDS, C-LDZC)."""
    return re.findall(r"[a-z]{2,}", text)


# The fields of a case's input and of its decisions that hold what a person typed.
FREE_TEXT = {"summary", "note", "notes", "reason", "terms", "order", "separate_reason", "household_address", "address", "name",
             "handler", "visitor", "operator", "reporter", "actor", "supervisor", "applicant", "reference", "mediator"}


async def typed_words(history: WorkflowHistory) -> set[str]:
    """Every free text typed into the case's input and its decisions (opened with the test key)."""
    payloads = []
    for event in history.events:
        if event.HasField("workflow_execution_started_event_attributes"):
            payloads += event.workflow_execution_started_event_attributes.input.payloads
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            payloads += event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads
        if event.HasField("workflow_execution_signaled_event_attributes"):
            payloads += event.workflow_execution_signaled_event_attributes.input.payloads

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v, key)
        elif isinstance(value, str) and key in FREE_TEXT and len(value) >= 4:
            yield value

    opened = await CONVERTER.payload_codec.decode(payloads)
    return {words for payload in opened for words in walk(json.loads(payload.data))}


async def test_every_timer_and_activity_of_every_recorded_path_reads_as_a_step_in_chinese():
    """The history is the case's story: each timer, activity and register write carries a summary;
    from revision 8 each in Chinese only, and none holds what a person typed into the case."""
    unnamed, foreign, leaked = [], [], []
    for path in sorted((Path(__file__).parents[1] / "histories").rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        history = WorkflowHistory.from_json(path.stem, text)
        first = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
        [opened] = await CONVERTER.payload_codec.decode([first])
        revision = json.loads(opened.data).get("revision", 1)
        words = await typed_words(history) if revision >= 8 else set()
        for event in json.loads(text)["events"]:
            kind = event["eventType"].removeprefix("EVENT_TYPE_")
            local_activity = kind == "MARKER_RECORDED" and event["markerRecordedEventAttributes"]["markerName"] == "core_local_activity"
            if not (kind in ("TIMER_STARTED", "ACTIVITY_TASK_SCHEDULED") or local_activity):
                continue
            summary = event.get("userMetadata", {}).get("summary")
            if not summary:
                unnamed.append(f"{path.stem}#{event['eventId']} {kind}")
                continue
            if path.parent.name != "histories" or revision < 8:
                continue  # household files, and cases recorded before revision 8, named their steps with English glosses and notes
            shown = json.loads(base64.b64decode(summary["data"]))
            foreign += [f"{path.stem}#{event['eventId']} {shown}"] if english(shown) else []
            leaked += [f"{path.stem}#{event['eventId']} {shown}" for typed in words if typed in shown]
    assert unnamed == [] and foreign == [] and leaked == []


async def test_the_supervisor_queries_in_the_walkthrough_run(temporal):
    walkthrough = (Path(__file__).parents[2] / "docs" / "walkthrough.md").read_text(encoding="utf-8")
    block = walkthrough.split("<!-- supervisor-queries -->\n```\n", 1)[1].split("```", 1)[0]
    queries = block.strip().splitlines()
    assert len(queries) >= 5
    for query in queries:
        await temporal.client.count_workflows(query)  # an invalid query raises
