"""Deadline arithmetic for a case's clocks, in natural time, office time, working days or months
(pure functions over the calendar the case carries, domain/calendar.py)."""

import calendar as months
from collections.abc import Collection
from datetime import datetime, timedelta

from pydantic import BaseModel

from onedoor.domain.calendar import WorkCalendar, add_working_days, add_working_time, working_time_between
from onedoor.domain.labels import ClockBasis
from onedoor.domain.policy import MONTH_DAYS, ClockRule
from onedoor.domain.rota import duty_start
from onedoor.domain.timezone import SHANGHAI, as_utc

OFFICE_TIME = (ClockBasis.WORKING, ClockBasis.WORKING_DAYS)  # what remains of these is office time


class Deadline(BaseModel):
    started_at: datetime
    due_at: datetime
    remind_at: datetime | None = None
    later_reminders: list[datetime] = []
    calendar_note: str | None = None


def add_months(start: datetime, count: int) -> datetime:
    """The same date and time `count` months on, or the month's last day where it has no such date
    (民法典 §202)."""
    local = start.astimezone(SHANGHAI)
    year, month = divmod(local.month - 1 + count, 12)
    year, month = local.year + year, month + 1
    return as_utc(local.replace(year=year, month=month, day=min(local.day, months.monthrange(year, month)[1])))


def after(start: datetime, length: timedelta, basis: ClockBasis, calendar: WorkCalendar) -> tuple[datetime, str | None]:
    """The moment `length` after `start` in the clock's kind of time, and any calendar warning."""
    if basis == ClockBasis.NATURAL:
        return start + length, None
    if basis == ClockBasis.MONTHS:
        return add_months(start, round(length / timedelta(days=MONTH_DAYS))), None
    due = add_working_days(start, length.days, calendar) if basis == ClockBasis.WORKING_DAYS else add_working_time(start, length, calendar)
    return due.due, due.warning


def measured(basis: ClockBasis) -> ClockBasis:
    """How what remains of a clock is counted (a pause, a recalendared clock): office time, or natural."""
    return ClockBasis.WORKING if basis in OFFICE_TIME else ClockBasis.NATURAL


def share_of(start: datetime, due: datetime, part: float, basis: ClockBasis, calendar: WorkCalendar) -> datetime:
    """The moment `part` of the way from start to due, measured in the clock's kind of time."""
    if measured(basis) == ClockBasis.NATURAL:
        return start + (due - start) * part
    return add_working_time(start, working_time_between(start, due, calendar) * part, calendar).due


def deadline(now: datetime, rule: ClockRule, calendar: WorkCalendar, rota: Collection[int] | None = None) -> Deadline:
    """A clock set now: it starts at once, or for a unit on a rota when the unit is next on duty
    (domain/rota.py), and falls due the rule's length after its start; a reminder at each share."""
    start = duty_start(now, rota, calendar)
    due, note = after(start.at, rule.length, rule.basis, calendar)
    reminders = sorted(share_of(start.at, due, part, rule.basis, calendar) for part in rule.remind_at or [])
    return Deadline(
        started_at=start.at, due_at=due, remind_at=reminders[0] if reminders else None, later_reminders=reminders[1:],
        calendar_note=note or start.warning,
    )


def relaid(now: datetime, clock_start: datetime, due: datetime, basis: ClockBasis, old: WorkCalendar, new: WorkCalendar) -> datetime:
    """A running clock's due moment on a new calendar (a holiday entered later): a working-days clock keeps
    the working days it had left (to the close of the last on the new calendar), an office-time clock the
    office time it had left; natural clocks do not move."""
    begin = max(now, clock_start)
    if basis == ClockBasis.WORKING_DAYS:
        day, last, days = begin.astimezone(SHANGHAI).date(), due.astimezone(SHANGHAI).date(), 0
        while day < last:
            day += timedelta(days=1)
            days += bool(old.office(day)[0])
        return add_working_days(begin, days, new).due
    if basis == ClockBasis.WORKING:
        return add_working_time(begin, time_left(now, due, basis, old, clock_start), new).due
    return due


def time_left(now: datetime, due: datetime, basis: ClockBasis, calendar: WorkCalendar, start: datetime | None = None) -> timedelta:
    """What remains of a clock: natural time to the due moment, or the office time until it. A
    clock that starts later (a rotating unit's, waiting for its duty day) counts from its start."""
    if start is not None and start > now:
        now = start
    if measured(basis) == ClockBasis.NATURAL:
        return due - now
    return working_time_between(now, due, calendar) if due > now else due - now
