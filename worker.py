"""The worker: wires the case workflow and its activities to the task queue. Nothing else."""

import asyncio
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio import workflow
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from onedoor import codec
from onedoor import logs
from activities.department import DepartmentGateway
from activities.households import HouseholdActivities
from activities.notifications import NotificationActivities
from activities.queue import keep_priority
from activities.register import RegisterActivities
from activities.reports import ReportActivities
from onedoor.notifications import build_notifiers
from onedoor.ops.temporal import connect
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions
from workflows.dispute_case import DisputeCaseWorkflow
from workflows.household import HouseholdWorkflow
from workflows.weekly_report import WeeklyReportWorkflow

ACTIVITY_THREADS = 32  # register writes are sync SQLAlchemy calls; they run on this many threads
# A case's next task waits on this worker's own (sticky) queue, in order, for this long before the
# server moves it to the shared queue. With the SDK's 10 s, the breaches that waited longest in a
# deadline storm went to the shared queue and sat behind the escalations that kept coming on the
# sticky one (a storm of 2,000: p99 100 s). Longer costs a stall after a crash: a task already
# queued for a worker that died waits this long (tests/scenarios/test_faults.py); tasks due after it stopped
# polling go to the shared queue once the server sees no poller (about 10 s).
STICKY_WAIT = timedelta(seconds=30)

# Schedule-to-start bounds (ms) for a p99 worth reading, from an idle worker's few milliseconds to a
# deadline storm's tens of seconds (bench/NOTES.md); the SDK's own jump from 10 s to 100 s.
SCHEDULE_TO_START_BUCKETS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000)

# The JSON log line carries workflow_id and run_id as fields; no need to repeat them in the message.
workflow.logger.workflow_info_on_message = False


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime of the worker's own whose Prometheus exporter serves the SDK's metrics
    (schedule-to-start latencies, sticky cache, task slots: what bench/NOTES.md tunes by) at
    http://metrics_host:worker_metrics_port/metrics; None when the port is 0.

    A port already taken (a second worker on the same host) leaves this worker without metrics,
    with a warning, rather than without cases: Prometheus shows the target down."""
    if not settings.worker_metrics_port:
        return None
    host = settings.metrics_host
    address = f"[{host}]:{settings.worker_metrics_port}" if host.version == 6 else f"{host}:{settings.worker_metrics_port}"
    # The SDK's own names and units (durations in milliseconds, counters without _total): those of
    # Temporal's SDK metrics reference and of its Grafana dashboard for core-based SDKs.
    buckets = dict.fromkeys(("workflow_task_schedule_to_start_latency", "activity_schedule_to_start_latency"), SCHEDULE_TO_START_BUCKETS)
    telemetry = TelemetryConfig(metrics=PrometheusConfig(bind_address=address, histogram_bucket_overrides=buckets))
    log = structlog.get_logger("worker")
    try:
        runtime = Runtime(telemetry=telemetry)
    except ValueError as error:  # the address is valid (settings checks it): the port is taken
        log.warning("worker metrics off: port unavailable", address=address, error=str(error))
        return None
    log.info("worker metrics", url=f"http://{address}/metrics")
    return runtime


WORKFLOWS = [DisputeCaseWorkflow, WeeklyReportWorkflow, HouseholdWorkflow]


def activities(settings: Settings, sessions: sessionmaker[Session], http: httpx.AsyncClient) -> list[Callable]:
    """Every activity the workflows call by name (tests/test_layers.py checks the names match)."""
    return [
        *RegisterActivities(sessions).all(), *HouseholdActivities(sessions).all(), DepartmentGateway(sessions, http).dispatch_to_unit,
        ReportActivities(sessions, settings.cjk_font).build_weekly_report, *NotificationActivities(sessions, build_notifiers(settings, http), settings.lookup_url).all(),
        keep_priority,
    ]


def build_worker(client: Client, settings: Settings, sessions: sessionmaker[Session], http: httpx.AsyncClient, executor: ThreadPoolExecutor) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        **({} if settings.workflow_sandbox else {"workflow_runner": UnsandboxedWorkflowRunner()}),
        activities=activities(settings, sessions, http),
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        max_cached_workflows=settings.worker_cached_cases,
        sticky_queue_schedule_to_start_timeout=STICKY_WAIT,
        graceful_shutdown_timeout=timedelta(seconds=20),  # in-flight activities finish on SIGTERM
    )


async def main() -> None:
    # The workflow sandbox imports the workflow's modules afresh for every case it runs; without
    # bytecode caches (PYTHONDONTWRITEBYTECODE) each import compiles source: half the worker's CPU.
    sys.dont_write_bytecode = False
    settings = Settings()
    logs.configure(settings.log_level)
    client = await connect(settings, metrics_runtime(settings), refuse_unsealed=not settings.codec_accept_unsealed)
    engine = make_engine(settings.register_url, codec.field_sealer(settings))  # the register's personal fields, sealed with the payload keys
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        async with httpx.AsyncClient(timeout=10) as http:
            stop = asyncio.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            async with build_worker(client, settings, make_sessions(engine), http, executor):
                structlog.get_logger("worker").info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
                await stop.wait()
            structlog.get_logger("worker").info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
