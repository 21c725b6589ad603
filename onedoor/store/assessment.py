"""Reads the register's rows for a unit assessment (考核); domain.assessment does the counting."""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onedoor.domain.assessment import ClockRow, OrderRow, Period, StepRow, UnitScore, assess
from onedoor.domain.labels import ClockName, ClockStatus
from onedoor.store.tables import AuditEntry, CaseClock, SupervisionOrder, Unit
from onedoor.store.directory import jurisdiction_and_below

# The audit steps that count: 结案 closing, 升级 escalation, 回访 return visit.
COUNTED_STEPS = ("closed", "escalated", "visit")


def units_under(session: Session, jurisdiction_code: str | None) -> list[Unit]:
    """The units of a jurisdiction and of every jurisdiction below it; all units for None."""
    query = select(Unit).order_by(Unit.code)
    if jurisdiction_code is not None:
        query = query.where(Unit.jurisdiction_code.in_(jurisdiction_and_below(session, jurisdiction_code)))
    return list(session.scalars(query))


def score_units(session: Session, period: Period, unit_codes: list[str]) -> list[UnitScore]:
    """The units' figures for the period. The queries fetch every row the period could hold; the
    domain's definitions decide which rows count."""
    start, end = period.start, period.end
    clocks = [
        ClockRow(c.case_no, ClockName(c.name), c.unit_code, c.started_at, ClockStatus(c.status), c.breached_at, c.done_at)
        for c in session.scalars(
            select(CaseClock).where(
                CaseClock.unit_code.in_(unit_codes),
                or_(CaseClock.started_at.between(start, end), CaseClock.breached_at.between(start, end)),
            )
        )
    ]
    orders = [
        OrderRow(o.case_no, o.unit_code, o.issued_at)
        for o in session.scalars(select(SupervisionOrder).where(SupervisionOrder.unit_code.in_(unit_codes), SupervisionOrder.issued_at.between(start, end)))
    ]
    # Who led a case at a step is known only from the case's earlier steps: read each counted
    # case's whole log up to the period's end, in the order it was written.
    counted_cases = select(AuditEntry.case_no).where(AuditEntry.action.in_(COUNTED_STEPS), AuditEntry.at.between(start, end))
    steps = [
        StepRow(s.case_no, s.at, s.action, s.before or {}, s.after or {})
        for s in session.scalars(
            select(AuditEntry).where(AuditEntry.case_no.in_(counted_cases), AuditEntry.at < end).order_by(AuditEntry.case_no, AuditEntry.at, AuditEntry.id)
        )
    ]
    return assess(unit_codes, period, clocks, orders, steps)
