"""WeeklyReportWorkflow: the 研判会 report of one township or county for one week.

Each scope's Temporal Schedule starts it on Monday morning for the week that just ended; the API
starts it on demand for any week. The work is one activity (figures, charts, the register's
copy); the workflow only settles which week.
"""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.weekly_report import WeeklyReportRequest, WeeklyReportSummary
    from onedoor.domain.week import week_before

# Set by the server on every run a schedule starts: the time the run was due.
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn
class WeeklyReportWorkflow:
    @workflow.run
    async def run(self, request: WeeklyReportRequest) -> WeeklyReportSummary:
        week = request.week_start or week_before(self.due_time())
        return await workflow.execute_activity(
            "build_weekly_report",
            WeeklyReportRequest(scope_code=request.scope_code, week_start=week),
            result_type=WeeklyReportSummary,
            summary=f"生成研判周报 · {request.scope_code} · {week} 起一周",
            start_to_close_timeout=timedelta(minutes=5),
            # The register may be restarting: retry, but give up within the hour so the schedule's
            # next run is never skipped behind a stuck one.
            schedule_to_close_timeout=timedelta(hours=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2)),
        )

    def due_time(self) -> datetime:
        # A run caught up after an outage still reports the week it was due for, not the week it ran in.
        return workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
