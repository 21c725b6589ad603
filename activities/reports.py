"""The weekly report's activity: the week's figures from the register, their charts, and the
register's copy of both."""

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import database_activity
from onedoor.reports.archive import save_report
from onedoor.reports.charts import render_charts
from onedoor.domain.weekly_report import WeeklyReportRequest, WeeklyReportSummary
from onedoor.reports.fonts import cjk_font
from onedoor.reports.weekly import build_figures, report_scope


class ReportActivities:
    # Sync: SQLAlchemy and matplotlib block, so this runs on the worker's thread pool.
    def __init__(self, sessions: sessionmaker[Session], font_file: Path | None = None):
        self.sessions = sessions
        self.font = cjk_font(font_file)  # now, so a missing font is in the log when the worker starts

    @database_activity
    def build_weekly_report(self, request: WeeklyReportRequest) -> WeeklyReportSummary:
        now = datetime.now(timezone.utc)
        with self.sessions() as session:
            scope = report_scope(session, request.scope_code)
            if scope is None:
                raise ApplicationError(f"{request.scope_code} 不是乡镇或县 (no such township or county)", type="UnknownScope", non_retryable=True)
            figures = build_figures(session, scope, request.week_start, now)
        charts = render_charts(figures, self.font)  # outside the session: SQLite's single connection is not held while drawing
        with self.sessions() as session:
            save_report(session, figures, charts, now)
        activity.logger.info("weekly report built", extra={"scope": figures.scope_code, "week": str(figures.week_start)})
        return WeeklyReportSummary(
            scope_code=figures.scope_code,
            week_start=figures.week_start,
            new_cases=figures.new_cases,
            open_red_cases=len(figures.open_red_cases),
            url=f"/reports/{figures.scope_code}/{figures.week_start}",
        )
