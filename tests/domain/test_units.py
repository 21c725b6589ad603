"""Clock units (natural hours and days, months, office hours, working days) over the 2026 National
Day, a lunch break, a center's closure and the 2027 New Year before and after its notice is known."""

from datetime import date, datetime, time, timedelta

import pytest

from onedoor.domain.calendar import CalendarEntries, Span, compose, unknown_next_year
from onedoor.domain.clocks import deadline, time_left
from onedoor.domain.labels import ClockBasis
from onedoor.domain.policy import ClockPolicy, ClockRule
from onedoor.domain.timezone import SHANGHAI

MORNING, AFTERNOON = Span(opens=time(8, 30), closes=time(12, 0)), Span(opens=time(14, 30), closes=time(17, 30))
LUNCH_WEEK = {day: [MORNING, AFTERNOON] for day in range(1, 6)}  # 6.5 h a day
PLAIN_WEEK = {day: [Span(opens=time(8, 30), closes=time(17, 30))] for day in range(1, 6)}
NOTICE_2027 = CalendarEntries(  # the State Council's notice for 2027 as an admin enters it (New Year: 1–3 January)
    holidays={date(2027, 1, 1): "元旦", date(2027, 1, 2): "元旦", date(2027, 1, 3): "元旦"}, years=[2027],
)


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def due(start: datetime, term: str, calendar) -> datetime:
    return deadline(start, ClockRule(term=term), calendar).due_at.astimezone(SHANGHAI)


CAL_2026 = compose(2026, 2027, PLAIN_WEEK, [])


@pytest.mark.parametrize(
    ("term", "basis", "length"),
    [("3个工作日", ClockBasis.WORKING_DAYS, timedelta(days=3)), ("2小时", ClockBasis.NATURAL, timedelta(hours=2)),
     ("一个月", ClockBasis.MONTHS, timedelta(days=30)), ("30日", ClockBasis.NATURAL, timedelta(days=30)),
     ("24工作小时", ClockBasis.WORKING, timedelta(hours=24)), ("十五分钟", ClockBasis.NATURAL, timedelta(minutes=15)),
     ("两个工作日", ClockBasis.WORKING_DAYS, timedelta(days=2))],
)
def test_a_rule_is_written_as_its_source_writes_it(term, basis, length):
    rule = ClockRule(term=term)
    assert (rule.basis, rule.length) == (basis, length)
    assert ClockRule(term=rule.term) == rule


def test_an_unknown_term_names_the_words():
    with pytest.raises(ValueError, match="3周"):
        ClockRule(term="3周")


def test_the_default_rules_state_their_units():
    policy = ClockPolicy()
    assert [policy.yellow.response.term, policy.yellow.feedback.term, policy.yellow.mediation.term, policy.yellow.confirmation.term] == [
        "2工作小时", "1个工作日", "1个月", "30日"]
    assert (policy.red.response.term, policy.red.feedback.term) == ("1小时", "12小时")


def test_each_unit_across_the_2026_national_day():
    # Wed 30 Sept 16:30, before the holiday of 1–7 October (make-up workdays Sun 20 Sept and Sat 10 Oct).
    start = bj(2026, 9, 30, 16, 30)
    assert due(start, "2小时", CAL_2026) == bj(2026, 9, 30, 18, 30)
    assert due(start, "30日", CAL_2026) == bj(2026, 10, 30, 16, 30)
    assert due(start, "一个月", CAL_2026) == bj(2026, 10, 30, 16, 30)
    assert due(start, "24工作小时", CAL_2026) == bj(2026, 10, 10, 13, 30)  # 1 h, then Thu 8, Fri 9, Sat 10 (make-up)
    # Working days: the start day not counted; Thu 8, Fri 9, Sat 10 (make-up) → its close.
    assert due(start, "3个工作日", CAL_2026) == bj(2026, 10, 10, 17, 30)
    assert due(bj(2026, 9, 18, 9, 0), "1个工作日", CAL_2026) == bj(2026, 9, 20, 17, 30)  # Friday → the make-up Sunday


def test_a_month_ends_on_the_months_last_day_when_it_has_no_such_date():
    assert due(bj(2027, 1, 31, 10, 0), "一个月", CAL_2026) == bj(2027, 2, 28, 10, 0)


def test_a_lunch_break_is_not_office_time():
    calendar = compose(2026, 2026, LUNCH_WEEK, [])
    assert due(bj(2026, 12, 7, 11, 0), "2工作小时", calendar) == bj(2026, 12, 7, 15, 30)  # 1 h before lunch, 1 h after
    assert due(bj(2026, 12, 7, 12, 30), "1工作小时", calendar) == bj(2026, 12, 7, 15, 30)  # asked at lunch: from 14:30
    assert due(bj(2026, 12, 4, 9, 0), "1个工作日", calendar) == bj(2026, 12, 7, 17, 30)
    assert time_left(bj(2026, 12, 7, 11, 0), bj(2026, 12, 7, 15, 30), ClockBasis.WORKING, calendar) == timedelta(hours=2)


def test_a_centers_own_closure_day_and_extra_workday():
    county = CalendarEntries(holidays={date(2026, 12, 8): "县城停电闭馆"})
    center = CalendarEntries(workdays={date(2026, 12, 12): "集中接访日"}, week=LUNCH_WEEK)
    calendar = compose(2026, 2026, PLAIN_WEEK, [county, center])
    assert calendar.is_holiday(date(2026, 12, 8)) == (True, True)
    assert due(bj(2026, 12, 7, 9, 0), "1个工作日", calendar) == bj(2026, 12, 9, 17, 30)  # Tuesday closed
    assert due(bj(2026, 12, 11, 17, 0), "1工作小时", calendar) == bj(2026, 12, 12, 9, 0)  # Friday 17:00 → the extra Saturday


def test_the_2027_new_year_before_and_after_its_notice():
    start = bj(2026, 12, 31, 9, 0)
    unknown = compose(2026, 2027, PLAIN_WEEK, [])
    if unknown.years == [2026]:  # the library does not know 2027 (chinesecalendar 1.11)
        before = deadline(start, ClockRule(term="1个工作日"), unknown)
        assert before.due_at.astimezone(SHANGHAI) == bj(2027, 1, 1, 17, 30) and "2027" in before.calendar_note
        assert unknown_next_year(date(2026, 11, 1), [CalendarEntries()]) == 2027
        assert unknown_next_year(date(2026, 10, 31), [CalendarEntries()]) is None
    known = compose(2026, 2027, PLAIN_WEEK, [NOTICE_2027])
    after = deadline(start, ClockRule(term="1个工作日"), known)
    assert after.due_at.astimezone(SHANGHAI) == bj(2027, 1, 4, 17, 30) and after.calendar_note is None
    assert due(bj(2026, 12, 31, 16, 30), "8工作小时", known) == bj(2027, 1, 4, 15, 30)  # 1 h on 31 Dec, none 1–3 Jan, 7 h Monday
    assert unknown_next_year(date(2026, 11, 1), [NOTICE_2027]) is None


def test_several_reminders_at_their_shares():
    d = deadline(bj(2026, 12, 7, 9, 0), ClockRule(term="2小时", remind_at=[0.9, 0.5]), CAL_2026)
    assert (d.remind_at, d.later_reminders) == (bj(2026, 12, 7, 10, 0), [bj(2026, 12, 7, 10, 48)])
    working = deadline(bj(2026, 12, 4, 9, 0), ClockRule(term="1个工作日", remind_at=[0.5]), compose(2026, 2026, LUNCH_WEEK, []))
    # From Fri 09:00 to Mon 17:30: 6 + 6.5 = 12.5 h of office time; half is 6.25 h: all of Friday's, 15 min on Monday.
    assert working.remind_at.astimezone(SHANGHAI) == bj(2026, 12, 7, 8, 45)


def test_a_closure_entered_later_moves_a_running_clock_by_what_it_had_left():
    from onedoor.domain.clocks import relaid

    old = compose(2026, 2026, PLAIN_WEEK, [])
    new = compose(2026, 2026, PLAIN_WEEK, [CalendarEntries(holidays={date(2026, 12, 8): "闭馆"})])
    start, now = bj(2026, 12, 4, 9, 0), bj(2026, 12, 7, 10, 0)
    days = deadline(start, ClockRule(term="2个工作日"), old).due_at  # Tuesday 8th, 17:30
    assert relaid(now, start, days, ClockBasis.WORKING_DAYS, old, new).astimezone(SHANGHAI) == bj(2026, 12, 9, 17, 30)
    hours = deadline(now, ClockRule(term="9工作小时"), old).due_at  # Tuesday 10:00
    assert relaid(now, now, hours, ClockBasis.WORKING, old, new).astimezone(SHANGHAI) == bj(2026, 12, 9, 10, 0)
    assert relaid(now, now, now + timedelta(days=1), ClockBasis.NATURAL, old, new) == now + timedelta(days=1)
