"""Health of a service as its container sees it (`onedoor healthcheck SERVICE`, compose's healthcheck):
the API is ready (its /readyz: Temporal and the register answer it), the simulator answers over HTTP; a
worker is healthy while it polls its task queue."""

import socket
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from onedoor.settings import Settings

# A worker keeps long polls open on its task queue (each waits up to about a minute for a task and is
# sent again at once), so the server saw a live worker's poll less than this long ago.
RECENT_POLL = timedelta(minutes=2)


def local(host: str) -> str:
    """Where a probe in the same container reaches a server bound to host."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def api_answers(settings: Settings) -> bool:
    """Ready, not only alive: the simulator and a load balancer wait for an API that can do its work."""
    return answers(f"http://{local(settings.api_host)}:{settings.api_port}/readyz")


def simulator_answers(settings: Settings) -> bool:
    return answers(f"http://{local(settings.simulator_host)}:{settings.simulator_port}/openapi.json")


async def worker_polls(settings: Settings, host: str | None = None) -> bool:
    """Whether a worker on this host (the SDK names a worker pid@hostname) has polled the task queue lately."""
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=settings.temporal_namespace, task_queue=TaskQueue(name=settings.task_queue), task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
    )
    suffix, now = f"@{host or socket.gethostname()}", datetime.now(UTC)
    return any(poller.identity.endswith(suffix) and now - poller.last_access_time.ToDatetime(tzinfo=UTC) < RECENT_POLL for poller in described.pollers)
