"""轮驻: when a rotating unit's clocks start, over its rota's weekdays, office hours and holidays."""

from datetime import UTC, datetime, timedelta

import pytest

from onedoor.domain.calendar import OfficeHours, WorkCalendar
from onedoor.domain.clocks import deadline, time_left
from onedoor.domain.labels import ClockBasis
from onedoor.domain.policy import ClockRule
from onedoor.domain.rota import duty_start
from onedoor.domain.timezone import SHANGHAI

HOURS = WorkCalendar.legacy(OfficeHours())  # 08:30–17:30 Beijing time
MON_WED_FRI = [1, 3, 5]


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "rota", "starts"),
    [
        (bj(2026, 12, 6, 10, 0), MON_WED_FRI, bj(2026, 12, 7, 8, 30)),     # Sunday: Monday's opening
        (bj(2026, 12, 7, 18, 0), MON_WED_FRI, bj(2026, 12, 9, 8, 30)),     # Monday after hours: Wednesday's
        (bj(2026, 12, 7, 17, 30), MON_WED_FRI, bj(2026, 12, 9, 8, 30)),    # at closing: already gone
        (bj(2026, 12, 7, 7, 0), MON_WED_FRI, bj(2026, 12, 7, 8, 30)),      # Monday before opening: at opening
        (bj(2026, 12, 7, 8, 30), MON_WED_FRI, bj(2026, 12, 7, 8, 30)),     # at opening: at once
        (bj(2026, 12, 11, 18, 0), MON_WED_FRI, bj(2026, 12, 14, 8, 30)),   # Friday evening: over the weekend to Monday
        (bj(2026, 12, 9, 12, 0), [2], bj(2026, 12, 15, 8, 30)),            # Wednesday, on duty Tuesdays: a week's wrap
        (bj(2026, 12, 11, 12, 0), [6], bj(2026, 12, 12, 8, 30)),           # a Saturday on the rota stands
        (bj(2026, 9, 30, 12, 0), [4], bj(2026, 10, 8, 8, 30)),             # Thursday 1 October is National Day: the next
        (bj(2026, 10, 9, 18, 0), [1, 2, 3, 4, 5], bj(2026, 10, 12, 8, 30)),  # Sat 10 Oct is a make-up workday, not a rota day
    ],
)
def test_a_rotating_unit_starts_at_its_next_duty_opening(now, rota, starts):
    start = duty_start(now, rota, HOURS)
    assert start.at == starts and start.at.tzinfo == UTC and start.warning is None


def test_on_duty_or_without_a_rota_the_clock_starts_at_once():
    monday_noon = bj(2026, 12, 7, 12, 0).astimezone(UTC)
    assert duty_start(monday_noon, MON_WED_FRI, HOURS).at == monday_noon
    sunday = bj(2026, 12, 6, 23, 0).astimezone(UTC)
    assert duty_start(sunday, None, HOURS).at == sunday and duty_start(sunday, [], HOURS).at == sunday


def test_beyond_the_holiday_calendar_the_rota_days_stand_and_say_so():
    start = duty_start(bj(2026, 12, 31, 18, 0), [5], HOURS)  # Friday 1 January 2027: New Year's Day, unknown yet
    assert start.at == bj(2027, 1, 1, 8, 30) and start.uncovered_years == [2027] and "2027" in start.warning and "值班日" in start.warning
    clock = deadline(bj(2026, 12, 31, 18, 0), ClockRule(length=timedelta(hours=2)), HOURS, [5])
    assert clock.calendar_note == start.warning


def test_the_deadline_and_its_reminder_count_from_the_start():
    d = deadline(bj(2026, 12, 6, 16, 0), ClockRule(length=timedelta(hours=2)), HOURS, MON_WED_FRI)
    assert (d.started_at, d.due_at, d.remind_at) == (bj(2026, 12, 7, 8, 30), bj(2026, 12, 7, 10, 30), bj(2026, 12, 7, 10, 0))
    working = deadline(bj(2026, 12, 6, 16, 0), ClockRule(length=timedelta(hours=24), basis=ClockBasis.WORKING), HOURS, MON_WED_FRI)
    assert working.due_at == bj(2026, 12, 9, 14, 30)  # 9 h Monday, 9 h Tuesday (working time runs every workday), 6 h Wednesday
    resident = deadline(bj(2026, 12, 6, 16, 0), ClockRule(length=timedelta(hours=2)), HOURS)
    assert (resident.started_at, resident.due_at) == (bj(2026, 12, 6, 16, 0), bj(2026, 12, 6, 18, 0))


def test_time_left_of_a_clock_not_started_is_all_of_it():
    start, due = bj(2026, 12, 7, 8, 30), bj(2026, 12, 7, 10, 30)
    assert time_left(bj(2026, 12, 6, 16, 0), due, ClockBasis.NATURAL, HOURS, start) == timedelta(hours=2)
    assert time_left(bj(2026, 12, 7, 9, 30), due, ClockBasis.NATURAL, HOURS, start) == timedelta(hours=1)
    assert time_left(bj(2026, 12, 6, 16, 0), bj(2026, 12, 8, 8, 30), ClockBasis.WORKING, HOURS, start) == timedelta(hours=9)
