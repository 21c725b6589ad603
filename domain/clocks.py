"""Deadline arithmetic for a case's clocks, natural or working time (pure functions)."""

from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.calendar import OfficeHours, add_working_time, working_time_between
from domain.labels import ClockBasis
from domain.policy import ClockRule


class Deadline(BaseModel):
    due_at: datetime
    remind_at: datetime | None = None
    calendar_note: str | None = None


def after(start: datetime, length: timedelta, basis: ClockBasis, hours: OfficeHours) -> tuple[datetime, str | None]:
    """The moment `length` after `start` in the clock's kind of time, and any calendar warning."""
    if basis == ClockBasis.NATURAL:
        return start + length, None
    due = add_working_time(start, length, hours)
    return due.due, due.warning


def deadline(start: datetime, rule: ClockRule, hours: OfficeHours) -> Deadline:
    due, note = after(start, rule.length, rule.basis, hours)
    remind = after(start, rule.length * rule.remind_at, rule.basis, hours)[0] if rule.remind_at else None
    return Deadline(due_at=due, remind_at=remind, calendar_note=note)


def time_left(now: datetime, due: datetime, basis: ClockBasis, hours: OfficeHours) -> timedelta:
    """What remains of a clock: natural time to the due moment, or the office time until it."""
    if basis == ClockBasis.NATURAL:
        return due - now
    return working_time_between(now, due, hours) if due > now else due - now
