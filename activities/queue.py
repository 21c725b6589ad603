"""排队优先级 queue priority: a case's tasks and activities queue by its grade (domain.grading.QUEUE_PRIORITY).
The API starts each case at its intake's grade; the workflow asks for a new place whenever its
grade changes (triage, an override, new facts, a further police call), and this tells Temporal."""

import structlog
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio import activity
from temporalio.api.common.v1 import Priority, WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
from temporalio.service import RPCError

from onedoor.domain.messages import PriorityChange

log = structlog.get_logger("queue")


@activity.defn
async def keep_priority(change: PriorityChange) -> bool:
    """Only a scheduling hint, so a refusal is logged and the case goes on: True when set."""
    client = activity.client()
    try:
        await client.workflow_service.update_workflow_execution_options(UpdateWorkflowExecutionOptionsRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=change.case_no),
            workflow_execution_options=WorkflowExecutionOptions(priority=Priority(priority_key=change.priority_key)),
            update_mask=FieldMask(paths=["priority"]),
        ))
    except RPCError as error:
        log.warning("queue priority not updated", case_no=change.case_no, priority_key=change.priority_key, error=str(error))
        return False
    return True
