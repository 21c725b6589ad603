"""What a supervisor sees in the Temporal UI: search attributes to filter by, a summary, current
details. Read back through the Temporal client the way the UI reads them."""

import asyncio
import json
import time
from pathlib import Path

from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.cases import register_case, wage_arrears, wait_for
from workflows import search_attributes as sa


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
    assert case_no in summary and "劳动争议" in summary
    metadata = await handle(case_no).query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = metadata.current_details
    assert "已派单待响应" in details and "响应时限" in details and "T101-LDS" in details
    applicant = form["parties"][0]
    for personal in (applicant["name"], applicant["id_number"], applicant["phone"]):  # no personal data where the UI lists cases
        assert personal not in summary and personal not in details and personal not in str(attributes)

    # The list filter a township supervisor types in the UI finds it.
    query = f'CaseStage="dispatched" AND RiskGrade="yellow" AND Township="139001101" AND WorkflowId="{case_no}"'
    deadline = time.monotonic() + 10
    while not [w async for w in temporal.client.list_workflows(query)]:
        assert time.monotonic() < deadline, "visibility never listed the case"
        await asyncio.sleep(0.2)


def test_every_timer_and_activity_of_every_recorded_path_reads_as_a_step_in_chinese():
    """The history is the case's story: each timer, activity and register write carries a summary."""
    unnamed = []
    for path in sorted((Path(__file__).parent / "histories").glob("*.json")):
        for event in json.loads(path.read_text(encoding="utf-8"))["events"]:
            kind = event["eventType"].removeprefix("EVENT_TYPE_")
            local_activity = kind == "MARKER_RECORDED" and event["markerRecordedEventAttributes"]["markerName"] == "core_local_activity"
            if (kind in ("TIMER_STARTED", "ACTIVITY_TASK_SCHEDULED") or local_activity) and not event.get("userMetadata", {}).get("summary"):
                unnamed.append(f"{path.stem}#{event['eventId']} {kind}")
    assert unnamed == []


async def test_the_supervisor_queries_in_the_readme_run(temporal):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- supervisor-queries -->\n```\n", 1)[1].split("```", 1)[0]
    queries = block.strip().splitlines()
    assert len(queries) >= 5
    for query in queries:
        await temporal.client.count_workflows(query)  # an invalid query raises
