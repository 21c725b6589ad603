"""Working-time arithmetic over China's 2025–2026 calendars, holidays and 调休 make-up workdays."""

from datetime import datetime, time, timedelta

import pytest

from onedoor.domain.calendar import OfficeHours, WorkCalendar, add_working_time, library_workday as is_workday, working_time_between
from onedoor.domain.timezone import SHANGHAI

HOURS = WorkCalendar.legacy(OfficeHours())  # 08:30–17:30 Beijing time


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        ((2026, 9, 20), True),    # Sunday, 调休 make-up workday before National Day
        ((2026, 10, 1), False),   # National Day
        ((2026, 10, 7), False),
        ((2026, 10, 8), True),
        ((2026, 10, 10), True),   # Saturday, make-up workday
        ((2026, 9, 25), False),   # Mid-Autumn
        ((2025, 10, 8), False),   # 2025: National Day and Mid-Autumn together, 1–8 October
        ((2025, 9, 28), True),    # 2025 Sunday make-up workday
        ((2025, 1, 26), True),    # 2025 Spring Festival make-up Sunday
        ((2025, 1, 28), False),   # 2025 Spring Festival eve
    ],
)
def test_official_workdays(day, workday):
    from datetime import date

    assert is_workday(date(*day)) == (workday, True)


def test_24_working_hours_from_the_last_afternoon_before_national_day_2026():
    # Wed 30 Sept 16:30: 1 h that day; 1–7 Oct holiday; 8 Oct (Thu) 9 h, 9 Oct (Fri) 9 h,
    # 10 Oct (Sat, make-up workday) 5 h → 13:30 on Saturday 10 October.
    due = add_working_time(bj(2026, 9, 30, 16, 30), timedelta(hours=24), HOURS)
    assert due.due.astimezone(SHANGHAI) == bj(2026, 10, 10, 13, 30)
    assert due.uncovered_years == []


def test_two_working_hours_across_a_make_up_sunday():
    # Sat 19 Sept 2026 is a day off; Sun 20 Sept is a make-up workday.
    assert add_working_time(bj(2026, 9, 19, 10, 0), timedelta(hours=2), HOURS).due.astimezone(SHANGHAI) == bj(2026, 9, 20, 10, 30)


def test_after_hours_starts_next_morning_and_exact_fit_ends_at_closing():
    assert add_working_time(bj(2026, 11, 26, 20, 0), timedelta(hours=2), HOURS).due.astimezone(SHANGHAI) == bj(2026, 11, 27, 10, 30)
    assert add_working_time(bj(2026, 11, 27, 8, 30), timedelta(hours=9), HOURS).due.astimezone(SHANGHAI) == bj(2026, 11, 27, 17, 30)


def test_spring_festival_2025():
    # Fri 24 Jan 2025 15:30 + 4 h: 2 h Friday, Sat 25 off, Sun 26 make-up workday → 10:30.
    assert add_working_time(bj(2025, 1, 24, 15, 30), timedelta(hours=4), HOURS).due.astimezone(SHANGHAI) == bj(2025, 1, 26, 10, 30)


def test_beyond_the_calendar_it_says_so_and_counts_weekdays():
    due = add_working_time(bj(2026, 12, 31, 17, 0), timedelta(hours=9), HOURS)
    # 0.5 h on 31 Dec; 2027 is unknown: Fri 1 Jan 2027 counts as a workday (weekends only).
    assert due.due.astimezone(SHANGHAI) == bj(2027, 1, 1, 17, 0)
    assert due.uncovered_years == [2027] and "2027" in due.warning


def test_custom_office_hours():
    hours = OfficeHours(opens=time(9, 0), closes=time(17, 0))
    assert add_working_time(bj(2026, 11, 27, 16, 0), timedelta(hours=2), WorkCalendar.legacy(hours)).due.astimezone(SHANGHAI) == bj(2026, 11, 30, 10, 0)


def test_working_time_between_is_the_inverse():
    start = bj(2026, 9, 30, 16, 30)
    due = add_working_time(start, timedelta(hours=24), HOURS).due
    assert working_time_between(start, due, HOURS) == timedelta(hours=24)
    assert working_time_between(due, start, HOURS) == timedelta(0)
