"""研判会 schedules: one Temporal Schedule per township and county runs its weekly report.

Set up at every start (`onedoor up`, `onedoor setup`): created when missing, updated when they
exist, so a changed `ONEDOOR_WEEKLY_REPORT_CRON` or task queue takes effect at the next start.
An update keeps the schedule's state, so one paused in the Temporal UI stays paused.
"""

import dataclasses
from collections.abc import Mapping
from datetime import timedelta

import structlog
from temporalio.client import (
    Client, Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError, ScheduleOverlapPolicy, SchedulePolicy,
    ScheduleSpec, ScheduleState, ScheduleUpdate, ScheduleUpdateInput,
)

from onedoor.domain.timezone import SHANGHAI
from onedoor.ops.temporal import connect, until_ready
from onedoor.domain.weekly_report import WeeklyReportRequest
from onedoor.reports.weekly import report_scopes
from onedoor.settings import Settings
from onedoor.store.db import make_engine, make_sessions
from workflows.weekly_report import WeeklyReportWorkflow

log = structlog.get_logger("schedules")
# Missed while Temporal was down: still run when it returns within the week (the run reports the
# week it was due for); older weeks are run on demand through the API.
CATCHUP = timedelta(days=7)


def schedule_id(scope_code: str) -> str:
    return f"weekly-report-{scope_code}"


def weekly_schedule(scope_code: str, scope_name: str, settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WeeklyReportWorkflow.run,
            WeeklyReportRequest(scope_code=scope_code),  # no week: the one that just ended
            id=schedule_id(scope_code),  # the server appends the run's time
            task_queue=settings.task_queue,
            static_summary=f"{scope_name}研判周报 weekly analysis report",
        ),
        spec=ScheduleSpec(cron_expressions=[settings.weekly_report_cron], time_zone_name=SHANGHAI.key),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP),
        state=ScheduleState(note=f"{scope_name}研判会：上周矛盾纠纷研判报告 (weekly analysis of the past week)"),
    )


async def ensure_weekly_schedules(client: Client, settings: Settings, scopes: Mapping[str, str]) -> list[str]:
    """One schedule per scope (code -> name); returns the ids created (the others were updated)."""
    created = []
    for code, name in scopes.items():
        wanted = weekly_schedule(code, name, settings)
        try:
            await client.create_schedule(schedule_id(code), wanted)
            created.append(schedule_id(code))
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule_id(code)).update(keeping_state(wanted))
    return created


def keeping_state(wanted: Schedule):
    """An update to the wanted action, times and policy that keeps the schedule's state (paused, note)."""

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(dataclasses.replace(current.description.schedule, action=wanted.action, spec=wanted.spec, policy=wanted.policy))

    return update


async def prepare_schedules(settings: Settings, wait: float = 60) -> None:
    """The schedules of the register's townships and counties (run after the directory is seeded),
    once the server accepts them (within wait seconds: a namespace just registered may not be known yet)."""
    engine = make_engine(settings.register_url)
    with make_sessions(engine)() as session:
        scopes = {j.code: j.name for j in report_scopes(session)}
    engine.dispose()

    async def ensure() -> list[str]:
        # The worker's converter: the schedule stores the workflow's input encoded as the worker reads it.
        return await ensure_weekly_schedules(await connect(settings), settings, scopes)

    created = await until_ready(ensure, wait, "weekly report schedules")
    if not scopes:
        log.warning("no township or county in the register yet: no weekly report schedule; run `onedoor setup` again once the directory has them")
    log.info("weekly report schedules ready", cron=settings.weekly_report_cron, created=created, updated=len(scopes) - len(created))
