"""What the register's gauges count, read at each Prometheus scrape (api/metrics.py).

Each reading is one grouped count on indexed columns: the open caseload and today's breaches,
not the register's history."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onedoor.domain.assessment import Period
from onedoor.store.tables import Case, SupervisionOrder, Unit
from onedoor.store.worklists import OPEN_STAGES


def open_cases(session: Session) -> list[tuple[str, str | None, str | None, int]]:
    """(stage, grade, level, how many) of the open cases: not closed, not settled."""
    query = select(Case.stage, Case.grade, Case.level, func.count()).where(Case.stage.in_(OPEN_STAGES)).group_by(Case.stage, Case.grade, Case.level)
    return [tuple(row) for row in session.execute(query)]


def overdue_cases(session: Session) -> list[tuple[str | None, str | None, int]]:
    """(grade, level, how many) of the open cases overdue now (a clock breached and not yet answered)."""
    query = (
        select(Case.grade, Case.level, func.count())
        .where(Case.stage.in_(OPEN_STAGES), Case.overdue.is_(True))
        .group_by(Case.grade, Case.level)
    )
    return [tuple(row) for row in session.execute(query)]


def breaches(session: Session, day: date | None = None) -> list[tuple[str | None, str | None, int]]:
    """(unit code, unit name, how many) of the breaches on this Beijing calendar day, or ever:
    each breach issues one supervision order (督办, store.register.record_clock_notice) at the
    moment it breached, so the orders table holds the breaches and nothing else — a far smaller
    table to count than every clock. A clock of no unit (the mediation's) has None."""
    query = (
        select(SupervisionOrder.unit_code, Unit.name, func.count())
        .outerjoin(Unit, Unit.code == SupervisionOrder.unit_code)
        .group_by(SupervisionOrder.unit_code, Unit.name)
    )
    if day is not None:
        period = Period(day, day)
        query = query.where(SupervisionOrder.issued_at >= period.start, SupervisionOrder.issued_at < period.end)
    return [tuple(row) for row in session.execute(query)]
