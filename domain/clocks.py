"""Deadline arithmetic for a case's clocks, natural or working time (pure functions)."""

from collections.abc import Collection
from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.calendar import OfficeHours, add_working_time, working_time_between
from domain.labels import ClockBasis
from domain.policy import ClockRule
from domain.rota import duty_start


class Deadline(BaseModel):
    started_at: datetime
    due_at: datetime
    remind_at: datetime | None = None
    calendar_note: str | None = None


def after(start: datetime, length: timedelta, basis: ClockBasis, hours: OfficeHours) -> tuple[datetime, str | None]:
    """The moment `length` after `start` in the clock's kind of time, and any calendar warning."""
    if basis == ClockBasis.NATURAL:
        return start + length, None
    due = add_working_time(start, length, hours)
    return due.due, due.warning


def deadline(now: datetime, rule: ClockRule, hours: OfficeHours, rota: Collection[int] | None = None) -> Deadline:
    """A clock set now: it starts at once, or for a unit on a rota when the unit is next on duty
    (domain/rota.py), and falls due the rule's length after its start."""
    start = duty_start(now, rota, hours)
    due, note = after(start.at, rule.length, rule.basis, hours)
    remind = after(start.at, rule.length * rule.remind_at, rule.basis, hours)[0] if rule.remind_at else None
    return Deadline(started_at=start.at, due_at=due, remind_at=remind, calendar_note=note or start.warning)


def time_left(now: datetime, due: datetime, basis: ClockBasis, hours: OfficeHours, start: datetime | None = None) -> timedelta:
    """What remains of a clock: natural time to the due moment, or the office time until it. A
    clock that starts later (a rotating unit's, waiting for its duty day) counts from its start."""
    if start is not None and start > now:
        now = start
    if basis == ClockBasis.NATURAL:
        return due - now
    return working_time_between(now, due, hours) if due > now else due - now
