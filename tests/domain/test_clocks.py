"""Clock deadlines and what remains of them, in natural and working time."""

from datetime import datetime, timedelta

from onedoor.domain.calendar import OfficeHours, WorkCalendar
from onedoor.domain.clocks import after, deadline, time_left
from onedoor.domain.labels import ClockBasis
from onedoor.domain.policy import ClockRule
from onedoor.domain.timezone import SHANGHAI

HOURS = WorkCalendar.legacy(OfficeHours())


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_natural_clock_and_its_reminder_at_three_quarters():
    d = deadline(bj(2026, 10, 1, 10, 0), ClockRule(length=timedelta(hours=2)), HOURS)
    assert (d.due_at, d.remind_at, d.calendar_note) == (bj(2026, 10, 1, 12, 0), bj(2026, 10, 1, 11, 30), None)


def test_working_clock_skips_the_holiday_and_its_reminder_too():
    d = deadline(bj(2026, 9, 30, 16, 30), ClockRule(length=timedelta(hours=24), basis=ClockBasis.WORKING), HOURS)
    assert d.due_at.astimezone(SHANGHAI) == bj(2026, 10, 10, 13, 30)
    assert d.remind_at.astimezone(SHANGHAI) == bj(2026, 10, 9, 16, 30)  # 18 working hours: 1 + 9 + 8


def test_time_left_counts_office_time_for_working_clocks():
    due = bj(2026, 10, 8, 10, 30)
    assert time_left(bj(2026, 9, 30, 16, 30), due, ClockBasis.WORKING, HOURS) == timedelta(hours=3)
    assert time_left(bj(2026, 9, 30, 16, 30), due, ClockBasis.NATURAL, HOURS) == due - bj(2026, 9, 30, 16, 30)
    assert after(bj(2026, 10, 8, 10, 30), timedelta(hours=3), ClockBasis.WORKING, HOURS)[0].astimezone(SHANGHAI) == bj(2026, 10, 8, 13, 30)
