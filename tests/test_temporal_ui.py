"""What a supervisor sees in the Temporal UI: search attributes to filter by, a summary, current
details. Read back through the Temporal client the way the UI reads them."""

import asyncio
import time

from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.cases import register_case, wait_for
from workflows import search_attributes as sa


async def test_dispatched_case_is_findable_and_readable(api, temporal, handle):
    case_no = await register_case(api)
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
    for personal in ("王建国", "130123198001011234", "13800138000"):  # no personal data where the UI lists cases
        assert personal not in summary and personal not in details and personal not in str(attributes)

    # The list filter a township supervisor types in the UI finds it.
    query = f'CaseStage="dispatched" AND RiskGrade="yellow" AND Township="139001101" AND WorkflowId="{case_no}"'
    deadline = time.monotonic() + 10
    while not [w async for w in temporal.client.list_workflows(query)]:
        assert time.monotonic() < deadline, "visibility never listed the case"
        await asyncio.sleep(0.2)
