"""How the workflows call their activities: register writes, deliveries and notices (timeouts, retries)."""

from datetime import timedelta
from typing import TypedDict

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.labels import NoticeKind
    from onedoor.domain.messages import Notice


class Options(TypedDict, total=False):
    """An activity's timeouts and retries, passed as keywords (mypy checks each against execute_activity's)."""

    start_to_close_timeout: timedelta
    schedule_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Register reads and writes are quick, idempotent and local to the worker: local activities, one
# marker event each and no task-queue round trip. Retried patiently (the database may be restarting).
REGISTER = Options(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
# A hung endpoint must not hold a worker slot: each attempt is short, retries back off to 5 min.
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
DELIVERY_ATTEMPT = timedelta(seconds=15)
# A notice is a local activity: one marker event and no round trip through the server (as an
# activity, three events and a workflow task more per notice); retried until sent, stale after a day.
NOTICE = Options(start_to_close_timeout=DELIVERY_ATTEMPT, schedule_to_close_timeout=timedelta(days=1), retry_policy=DELIVERY_RETRY)


async def send_notice(notice: Notice, **about: str) -> None:
    """A notice through the notify local activity (the notification port), for cases and household files."""
    try:
        await workflow.execute_local_activity("notify", notice, summary=f"通知{notice.audience.label}：{NoticeKind(notice.kind).label}", **NOTICE)
    except ActivityError as failure:  # a notice is not worth holding the workflow for: the log says why
        workflow.logger.warning("notice not sent", extra={**about, "notice": notice.key, "error": str(failure.cause or failure)})


