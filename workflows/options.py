"""Activity options the workflows share."""

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy


class CallOptions(TypedDict):
    """A TypedDict, so that `**REGISTER` is checked against execute_local_activity's keywords
    (temporalio's LocalActivityConfig holds `summary` too, which each call gives itself)."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Register reads and writes are quick, idempotent and local to the worker: local activities, one
# marker event each and no task-queue round trip. Retried patiently (the database may be restarting).
REGISTER = CallOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
