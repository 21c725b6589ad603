"""Worklists (工作清单): the open cases each role must act on, read from the register.

Every list is the same reading: open cases (not closed, not settled) meeting the list's and the
caller's conditions, each with the one clock that puts it on the list — of its clocks matching
the list's conditions, the one due first — in the list's order, paged. The register is written by the
workflow at every step, so a list is as current as each case's last step.

The queries are semi-joins (`IN (subquery)`) on indexed columns, with the first-due pick and the
ordering done here over the candidates: a list is bounded by the open caseload, and a join of
cases to clocks left to the planner went by the wrong index on SQLite without table statistics
(seconds instead of milliseconds).
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

from onedoor.domain.labels import ClockName, ClockStatus, RiskGrade, Stage
from onedoor.domain.timezone import as_shanghai, as_utc
from onedoor.store.tables import Case, CaseClock, Jurisdiction, Unit

OPEN_STAGES = tuple(stage.value for stage in Stage if stage.is_open)
# A breached clock still waits for its late answer, which is accepted (and counted late).
LIVE_CLOCKS = (ClockStatus.RUNNING.value, ClockStatus.PAUSED.value, ClockStatus.BREACHED.value)
DISPATCH_CLOCKS = (ClockName.RESPONSE.value, ClockName.FEEDBACK.value)
CHUNK = 500  # keys per IN list when reading a whole list (a CSV export)


@dataclass(frozen=True)
class Filters:
    """What narrows a list. Empty collections and None mean "any"; times are UTC."""

    places: Collection[str] | None = None  # jurisdiction codes: see `directory.jurisdiction_and_below`
    categories: Collection[str] = ()
    grades: Collection[str] = ()
    stages: Collection[str] = ()
    levels: Collection[str] = ()  # the level handling the case now
    received_from: datetime | None = None  # inclusive
    received_before: datetime | None = None  # exclusive


@dataclass(frozen=True)
class ClockRow:
    """The clock that puts a case on the list, as of the case's last step."""

    clock_id: int
    name: str
    unit_code: str | None
    due_at: datetime
    status: str
    remaining_seconds: int | None  # while paused
    reminded_at: datetime | None
    breached_at: datetime | None
    unit_name: str | None = None  # the directory's, beside unit_code


CLOCK_COLUMNS = [getattr(CaseClock, field.name) for field in fields(ClockRow) if field.name != "unit_name"]


@dataclass(frozen=True)
class Row:
    """What a worker needs to act on a case; no party's personal data."""

    case_no: str
    category: str
    grade: str | None
    stage: str
    township_code: str
    township_name: str | None
    village_code: str | None
    village_name: str | None
    level: str | None
    jurisdiction_code: str | None
    jurisdiction_name: str | None
    lead_unit: str | None
    lead_unit_name: str | None
    overdue: bool
    result: str | None
    received_at: datetime
    closed_at: datetime | None
    clock: ClockRow | None


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[Row]


def unit_inbox(session: Session, unit_code: str, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """A unit's open dispatches: its response or feedback clock still to answer, the next due first."""
    clocks = (CaseClock.unit_code == unit_code, CaseClock.name.in_(DISPATCH_CLOCKS), CaseClock.status.in_(LIVE_CLOCKS))
    return worklist(session, filters, limit, offset, clocks=clocks)


def unit_clocks(session: Session, unit_code: str, case_nos: list[str]) -> dict[str, list[ClockRow]]:
    """Each case's live response and feedback clocks of the unit (an inbox row shows every one), the first due first."""
    found: dict[str, list[ClockRow]] = {}
    query = select(CaseClock.case_no, *CLOCK_COLUMNS).where(CaseClock.unit_code == unit_code, CaseClock.name.in_(DISPATCH_CLOCKS), CaseClock.status.in_(LIVE_CLOCKS))
    for chunk in chunks(case_nos):
        for case_no, *values in session.execute(query.where(CaseClock.case_no.in_(chunk)).order_by(CaseClock.due_at, CaseClock.clock_id)):
            found.setdefault(case_no, []).append(ClockRow(*values))
    return found


def mediator_cases(session: Session, mediator_id: str, filters: Filters, limit: int | None = 50, offset: int = 0, open_only: bool = True) -> Page:
    """调解员的案件: the cases the mediator holds (open ones, unless `open_only` is False), each with its
    mediation clock while it runs, the next due first."""
    mediation = (CaseClock.name == ClockName.MEDIATION.value, CaseClock.status.in_(LIVE_CLOCKS))
    return worklist(session, filters, limit, offset, cases=(Case.mediator_id == mediator_id,), clocks=mediation, clock_required=False, open_only=open_only)


def overdue(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """逾期: open cases with a breached clock, the longest overdue first."""
    breached = (CaseClock.status == ClockStatus.BREACHED.value,)
    return worklist(session, filters, limit, offset, cases=(Case.overdue.is_(True),), clocks=breached, clock_required=False)


def red(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """红色: open red cases by their next deadline; a red case not yet dispatched has none and comes last."""
    live = (CaseClock.status.in_(LIVE_CLOCKS),)
    return worklist(session, filters, limit, offset, cases=(Case.grade == RiskGrade.RED.value,), clocks=live, clock_required=False)


def waiting(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """等待当事人: clocks paused while waiting on a party, or the parties' own period to apply for
    judicial confirmation (人民调解法 §33) running; the oldest case first."""
    confirming = and_(CaseClock.name == ClockName.CONFIRMATION.value, CaseClock.status == ClockStatus.RUNNING.value)
    clocks = (or_(CaseClock.status == ClockStatus.PAUSED.value, confirming),)
    return worklist(session, filters, limit, offset, clocks=clocks, by_due=False)


def near_breach(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """临期: a running clock whose reminder (催办) has fired and that has not breached yet, by due time."""
    clocks = (CaseClock.status == ClockStatus.RUNNING.value, CaseClock.reminded_at.is_not(None), CaseClock.breached_at.is_(None))
    return worklist(session, filters, limit, offset, clocks=clocks)


def due_today(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """今日到期: a running clock due before today's midnight (Beijing time), not breached yet, by due time:
    what must be answered before the day ends. A paused clock has no due time to count."""
    clocks = (CaseClock.status == ClockStatus.RUNNING.value, CaseClock.due_at < end_of_today())
    return worklist(session, filters, limit, offset, clocks=clocks)


def end_of_today() -> datetime:
    """The next midnight in Beijing, in UTC (the register's times)."""
    today = as_shanghai(datetime.now(UTC)).date()
    return as_utc(datetime.combine(today + timedelta(days=1), time.min))


def awaiting_referral(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """待转介受理: cases referred to a judicial backstop body (arbitration, the court, legal aid, a
    notary) whose acceptance is still awaited — its clock running, paused or breached — by due time."""
    clocks = (CaseClock.name == ClockName.REFERRAL.value, CaseClock.status.in_(LIVE_CLOCKS))
    return worklist(session, filters, limit, offset, clocks=clocks)


def ledger(session: Session, filters: Filters, limit: int | None = 50, offset: int = 0) -> Page:
    """台账: every case received, open or closed, in the order received, each with its next live clock."""
    live = (CaseClock.status.in_(LIVE_CLOCKS),)
    return worklist(session, filters, limit, offset, clocks=live, clock_required=False, by_due=False, open_only=False)


def worklist(
    session: Session,
    filters: Filters,
    limit: int | None,
    offset: int,
    *,
    cases: Sequence[ColumnElement[bool]] = (),
    clocks: Sequence[ColumnElement[bool]],
    clock_required: bool = True,
    by_due: bool = True,
    open_only: bool = True,
) -> Page:
    """One page (`limit` None: all) of open cases (`open_only` False: all cases) meeting `cases`, each
    with its first-due clock meeting `clocks` — without one, the case is left out unless `clock_required` is False."""
    stages = (Case.stage.in_(OPEN_STAGES),) if open_only else ()
    listed = select(Case.case_no, Case.received_at).where(*stages, *cases, *narrowed_by(filters))
    # Each clock's case's intake time by its key: a lookup every planner does by the primary key.
    received_at = select(Case.received_at).where(Case.case_no == CaseClock.case_no).scalar_subquery()
    candidates = select(CaseClock.case_no, CaseClock.due_at, CaseClock.clock_id, received_at).where(*clocks, CaseClock.case_no.in_(listed.with_only_columns(Case.case_no)))
    # The cases before their clocks: a step commits a case's row and its clocks together, so a case
    # read here as listed (overdue, say) has its clocks in place when they are read next. The other
    # way round, a breach committed between the two reads listed an overdue case without its clock.
    received: dict[str, datetime] = {} if clock_required else dict(session.execute(listed).all())
    first: dict[str, tuple[datetime, int]] = {}
    for case_no, due_at, clock_id, case_received_at in session.execute(candidates):
        received[case_no] = case_received_at
        if case_no not in first or (due_at, clock_id) < first[case_no]:
            first[case_no] = (due_at, clock_id)

    def order(case_no: str) -> tuple:
        due = (case_no not in first, first[case_no][0] if case_no in first else None) if by_due else ()
        return (*due, received[case_no], case_no)

    ordered = sorted(received, key=order)
    page = ordered[offset:] if limit is None else ordered[offset:offset + limit]
    return Page(total=len(ordered), rows=rows(session, page, {no: first[no][1] for no in page if no in first}))


def rows(session: Session, case_nos: list[str], clock_ids: dict[str, int]) -> list[Row]:
    """The page's rows in the page's order, with the names of the places and units beside their codes."""
    township, village, handling, lead_unit = aliased(Jurisdiction), aliased(Jurisdiction), aliased(Jurisdiction), aliased(Unit)
    columns = [Case.case_no, Case.category, Case.grade, Case.stage, Case.township_code, township.name.label("township_name"), Case.village_code,
               village.name.label("village_name"), Case.level, Case.jurisdiction_code, handling.name.label("jurisdiction_name"), Case.lead_unit,
               lead_unit.name.label("lead_unit_name"), Case.overdue, Case.result, Case.received_at, Case.closed_at]
    found, clocks = {}, {}
    for chunk in chunks(case_nos):
        query = (select(*columns).outerjoin(township, township.code == Case.township_code).outerjoin(village, village.code == Case.village_code)
                 .outerjoin(handling, handling.code == Case.jurisdiction_code).outerjoin(lead_unit, lead_unit.code == Case.lead_unit))
        found |= {row.case_no: row._asdict() for row in session.execute(query.where(Case.case_no.in_(chunk)))}
        # The key's two columns apart, not as a (case_no, clock_id) tuple, which SQLite answers with a full scan;
        # plain rows, not ORM objects, which cost more than the query on a whole-list export.
        ids = {clock_ids[no] for no in chunk if no in clock_ids}
        query = select(CaseClock.case_no, *CLOCK_COLUMNS, Unit.name).outerjoin(Unit, Unit.code == CaseClock.unit_code)
        for case_no, *values in session.execute(query.where(CaseClock.case_no.in_(chunk), CaseClock.clock_id.in_(ids))):
            clock = ClockRow(*values)
            if clock_ids.get(case_no) == clock.clock_id:
                clocks[case_no] = clock
    return [Row(**found[no], clock=clocks.get(no)) for no in case_nos]


def chunks(items: list) -> Iterable[list]:
    return (items[start:start + CHUNK] for start in range(0, len(items), CHUNK))


def narrowed_by(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.places is not None:
        # Where the case arose (township, village) or who handles it now (an escalated case's county).
        places = list(filters.places)
        conditions.append(or_(Case.township_code.in_(places), Case.village_code.in_(places), Case.jurisdiction_code.in_(places)))
    for column, wanted in ((Case.category, filters.categories), (Case.grade, filters.grades), (Case.stage, filters.stages), (Case.level, filters.levels)):
        if wanted:
            conditions.append(column.in_(list(wanted)))
    if filters.received_from is not None:
        conditions.append(Case.received_at >= filters.received_from)
    if filters.received_before is not None:
        conditions.append(Case.received_at < filters.received_before)
    return conditions
