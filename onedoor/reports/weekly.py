"""The week's figures for a township or a county, read from the register."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from onedoor.domain.labels import Level, RiskGrade, Stage
from onedoor.domain.timezone import as_shanghai
from onedoor.domain.weekly_report import CategoryRow, HotSpot, OpenRedCase, OverdueUnit, RepeatHousehold, WeekCount, WeeklyFigures
from onedoor.domain.week import WEEK, week_bounds
from onedoor.store import calendars
from onedoor.store.tables import Case, CaseClock, Household, Jurisdiction, SupervisionOrder, Unit

REPORT_LEVELS = (Level.TOWNSHIP.value, Level.COUNTY.value)
TREND_WEEKS = 4  # the weeks before this one that the trend compares against
HOT_SPOTS = 5
ALL = "合计"
GRADES = {grade.value for grade in RiskGrade}
CLOSED = tuple(stage.value for stage in Stage if not stage.is_open)


def report_scope(session: Session, code: str) -> Jurisdiction | None:
    """The township or county a report can be made for; None for any other code."""
    jurisdiction = session.get(Jurisdiction, code)
    return jurisdiction if jurisdiction is not None and jurisdiction.level in REPORT_LEVELS else None


def report_scopes(session: Session) -> list[Jurisdiction]:
    return list(session.scalars(select(Jurisdiction).where(Jurisdiction.level.in_(REPORT_LEVELS)).order_by(Jurisdiction.code)))


def townships_of(session: Session, scope: Jurisdiction) -> list[str]:
    """Cases are registered by township: a county's report covers its townships."""
    if scope.level == Level.TOWNSHIP:
        return [scope.code]
    return list(session.scalars(select(Jurisdiction.code).where(Jurisdiction.parent_code == scope.code, Jurisdiction.level == Level.TOWNSHIP)))


def open_at(moment: datetime):
    """Registered before the moment and not closed by then. A case reopened after its return visit
    keeps its first closed_at in the register, so a case not closed now counts as open too."""
    return and_(Case.received_at < moment, or_(Case.closed_at.is_(None), Case.closed_at >= moment, Case.stage.not_in(CLOSED)))


def build_figures(session: Session, scope: Jurisdiction, week_start: date, now: datetime) -> WeeklyFigures:
    start, end = week_bounds(week_start)
    cut_off = min(end, now)
    in_scope = Case.township_code.in_(townships_of(session, scope))
    this_week = and_(in_scope, Case.received_at >= start, Case.received_at < end)
    by_category = new_cases_by_category(session, this_week)
    trend = weekly_counts(session, in_scope, week_start)
    return WeeklyFigures(
        scope_code=scope.code,
        scope_name=scope.name,
        scope_level=scope.level,
        week_start=week_start,
        week_end=week_start + timedelta(days=6),
        cut_off=cut_off,
        new_cases=sum(row.total for row in by_category),
        grades=total_row(by_category),
        by_category=by_category,
        trend=trend,
        previous_average=sum(w.new_cases for w in trend[:-1]) / TREND_WEEKS,  # quarters: exact in a float
        hot_spots=hot_spots(session, this_week),
        repeat_households=repeat_households(session, in_scope, start, cut_off),
        overdue_units=overdue_units(session, in_scope, start, end, cut_off),
        open_red_cases=open_red_cases(session, in_scope, cut_off),
        calendar_warning=calendars.calendar_warning(session, as_shanghai(now).date()),
    )


def new_cases_by_category(session: Session, this_week) -> list[CategoryRow]:
    rows: dict[str, CategoryRow] = {}
    counts = session.execute(select(Case.category, Case.grade, func.count()).where(this_week).group_by(Case.category, Case.grade))
    for category, grade, count in counts:
        row = rows.setdefault(category, CategoryRow(category=category))
        grade_field = grade if grade in GRADES else "ungraded"  # not triaged yet
        setattr(row, grade_field, getattr(row, grade_field) + count)
        row.total += count
    return sorted(rows.values(), key=lambda r: (-r.total, r.category))


def total_row(rows: list[CategoryRow]) -> CategoryRow:
    fields = ("red", "yellow", "blue", "ungraded", "total")
    return CategoryRow(category=ALL, **{name: sum(getattr(r, name) for r in rows) for name in fields})


def weekly_counts(session: Session, in_scope, week_start: date) -> list[WeekCount]:
    weeks = [week_start - WEEK * back for back in range(TREND_WEEKS, -1, -1)]
    counts = []
    for monday in weeks:
        start, end = week_bounds(monday)
        count = session.scalar(select(func.count()).select_from(Case).where(in_scope, Case.received_at >= start, Case.received_at < end))
        counts.append(WeekCount(week_start=monday, new_cases=count))
    return counts


def hot_spots(session: Session, this_week) -> list[HotSpot]:
    place = func.coalesce(Case.village_code, Case.township_code)  # no village given: the township itself
    spots = session.execute(
        select(place, Jurisdiction.name, Case.category, func.count())
        .select_from(Case)
        .outerjoin(Jurisdiction, Jurisdiction.code == place)
        .where(this_week)
        .group_by(place, Jurisdiction.name, Case.category)
    )
    # Ranked here, not in SQL: PostgreSQL's collation and SQLite order Chinese text differently.
    ranked = sorted(spots, key=lambda s: (-s[3], s[0], s[2]))[:HOT_SPOTS]
    return [HotSpot(place_code=code, place_name=name or code, category=category, new_cases=n) for code, name, category, n in ranked]


def repeat_households(session: Session, in_scope, start: datetime, cut_off: datetime) -> list[RepeatHousehold]:
    rows = session.execute(
        select(Case.household_id, func.count(), func.count().filter(Case.received_at >= start), func.max(Case.received_at), Household)
        .select_from(Case)
        .outerjoin(Household, Household.id == Case.household_id)
        .where(in_scope, Case.household_id.is_not(None), Case.received_at < cut_off)
        .group_by(Case.household_id, Household.id)
        .having(func.count() >= 2)
    )
    households = [
        RepeatHousehold(
            household_id=household_id, cases=n, cases_this_week=n_week, last_case_at=last,
            township_code=file.township_code if file else None, village_code=file.village_code if file else None,
            address=file.address if file else None, risk=file.risk if file else None,
        )
        for household_id, n, n_week, last, file in rows
    ]
    return sorted(households, key=lambda h: (-h.cases_this_week, -h.cases, h.household_id))


def overdue_units(session: Session, in_scope, start: datetime, end: datetime, cut_off: datetime) -> list[OverdueUnit]:
    orders = session.execute(
        select(SupervisionOrder.unit_code, func.count())
        .join(Case, Case.case_no == SupervisionOrder.case_no)
        .where(in_scope, SupervisionOrder.unit_code.is_not(None), SupervisionOrder.issued_at >= start, SupervisionOrder.issued_at < end)
        .group_by(SupervisionOrder.unit_code)
    )
    # A breached clock stays overdue until the late answer (done_at) or the case's closure.
    overdue = session.execute(
        select(CaseClock.unit_code, func.count(func.distinct(CaseClock.case_no)))
        .join(Case, Case.case_no == CaseClock.case_no)
        .where(
            in_scope, open_at(cut_off), CaseClock.unit_code.is_not(None), CaseClock.breached_at < cut_off,
            or_(CaseClock.done_at.is_(None), CaseClock.done_at >= cut_off),
        )
        .group_by(CaseClock.unit_code)
    )
    units: dict[str, dict[str, int]] = defaultdict(lambda: {"supervision_orders": 0, "overdue_open_cases": 0})
    for code, count in orders:
        units[code]["supervision_orders"] = count
    for code, count in overdue:
        units[code]["overdue_open_cases"] = count
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(list(units)))).all())
    rows = [OverdueUnit(unit_code=code, unit_name=names.get(code, code), **counts) for code, counts in units.items()]
    return sorted(rows, key=lambda u: (-u.supervision_orders - u.overdue_open_cases, u.unit_code))


def open_red_cases(session: Session, in_scope, cut_off: datetime) -> list[OpenRedCase]:
    rows = session.execute(
        select(Case, Jurisdiction.name)
        .select_from(Case)
        .outerjoin(Jurisdiction, Jurisdiction.code == Case.township_code)
        .where(in_scope, Case.grade == RiskGrade.RED.value, open_at(cut_off))
        .order_by(Case.received_at, Case.case_no)
    )
    return [
        OpenRedCase(
            case_no=case.case_no, category=case.category, township_code=case.township_code, township_name=name or case.township_code,
            stage=case.stage, received_at=case.received_at, days_open=(cut_off - case.received_at).days,
        )
        for case, name in rows
    ]
