"""The register's copy of each report: one row per scope and week, overwritten by a re-run."""

import base64
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onedoor.domain.weekly_report import WeeklyFigures
from onedoor.store.tables import WeeklyReport


def save_report(session: Session, figures: WeeklyFigures, charts: dict[str, bytes], generated_at: datetime) -> None:
    """INSERT .. ON CONFLICT DO UPDATE: a scheduled run and an on-demand run of the same week may race."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    values = dict(
        scope_code=figures.scope_code,
        week_start=figures.week_start,
        generated_at=generated_at,
        figures=figures.model_dump(mode="json"),
        charts={name: base64.b64encode(data).decode("ascii") for name, data in charts.items()},
    )
    statement = dialect.insert(WeeklyReport).values(**values)
    changing = {name: statement.excluded[name] for name in ("generated_at", "figures", "charts")}
    session.execute(statement.on_conflict_do_update(index_elements=["scope_code", "week_start"], set_=changing))
    session.commit()


def find_report(session: Session, scope_code: str, week_start: date) -> WeeklyReport | None:
    return session.scalars(select(WeeklyReport).where(WeeklyReport.scope_code == scope_code, WeeklyReport.week_start == week_start)).first()


def list_reports(session: Session, scope_code: str | None, limit: int) -> list[WeeklyReport]:
    query = select(WeeklyReport).order_by(WeeklyReport.week_start.desc(), WeeklyReport.scope_code).limit(limit)
    if scope_code is not None:
        query = query.where(WeeklyReport.scope_code == scope_code)
    return list(session.scalars(query))
