"""考核 definitions on plain rows, with the figures worked out by hand."""

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onedoor.domain.assessment import ClockRow, OrderRow, Period, StepRow, assess, median_minutes, percent, timeliness
from onedoor.domain.labels import ClockName, ClockStatus
from onedoor.domain.timezone import SHANGHAI

NOVEMBER = Period.month("2026-11")
RESPONSE, FEEDBACK = ClockName.RESPONSE, ClockName.FEEDBACK
MET, LATE, BREACHED, RUNNING, PAUSED, ENDED = (
    ClockStatus.MET, ClockStatus.MET_LATE, ClockStatus.BREACHED, ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.ENDED,
)


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def answered(started: datetime, minutes: float, status: ClockStatus = MET, unit: str = "U1", name: ClockName = RESPONSE) -> ClockRow:
    return ClockRow("c", name, unit, started, status, done_at=started + timedelta(minutes=minutes))


def test_a_month_is_its_beijing_calendar_dates():
    assert (NOVEMBER.first, NOVEMBER.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert NOVEMBER.start == datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    assert NOVEMBER.end == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
    assert (Period.month("2026-12").last, Period.month("2028-02").last) == (date(2026, 12, 31), date(2028, 2, 29))
    assert NOVEMBER.holds(bj(2026, 11, 1, 0, 0)) and NOVEMBER.holds(bj(2026, 11, 30, 23, 59))
    assert not NOVEMBER.holds(bj(2026, 10, 31, 23, 59)) and not NOVEMBER.holds(bj(2026, 12, 1, 0, 0)) and not NOVEMBER.holds(None)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01", "十一月", "9999-12"])
def test_what_is_not_a_month(text):
    with pytest.raises(ValueError):
        Period.month(text)


def test_a_period_ends_after_it_starts_and_within_the_calendar():
    with pytest.raises(ValueError):
        Period(date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(ValueError):
        Period(date.min, date(2026, 11, 1))


def test_percentages_round_half_up_to_one_decimal_and_have_no_value_without_a_denominator():
    assert (percent(2, 3), percent(5, 16), percent(1, 8), percent(3, 3), percent(0, 0)) == (66.7, 31.3, 12.5, 100.0, None)


def test_late_answers_count_against_the_unit_pending_and_ended_clocks_not_at_all():
    start = bj(2026, 11, 2, 9, 0)
    clocks = [answered(start, 10), answered(start, 20), answered(start, 200, LATE),
              ClockRow("c", RESPONSE, "U1", start, BREACHED, breached_at=start + timedelta(hours=2)),
              ClockRow("c", RESPONSE, "U1", start, RUNNING), ClockRow("c", RESPONSE, "U1", start, PAUSED),
              ClockRow("c", RESPONSE, "U1", start, ENDED, done_at=start + timedelta(minutes=5))]
    tally = timeliness(clocks)
    assert (tally.on_time, tally.late, tally.unanswered, tally.pending, tally.ended) == (2, 1, 1, 2, 1)
    assert (tally.due, tally.on_time_pct) == (4, 50.0)
    assert median_minutes(clocks) == 20.0  # 10, 20, 200: an ended clock's end is no answer


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    start = bj(2026, 11, 2, 9, 0)
    assert median_minutes([answered(start, m) for m in (10, 45.5, 30, 120)]) == 37.8  # (30 + 45.5) / 2 = 37.75
    assert median_minutes([ClockRow("c", RESPONSE, "U1", start, RUNNING)]) is None


def test_an_answer_before_a_rotating_units_clock_started_took_no_time():
    duty_day = bj(2026, 12, 7, 8, 30)  # dispatched on Sunday, answered Sunday evening from the unit's own office
    assert median_minutes([answered(duty_day, -12 * 60), answered(duty_day, -60), answered(duty_day, 30)]) == 0.0


def test_clocks_belong_to_the_period_they_started_in_breaches_to_the_period_they_happened_in():
    october_evening = bj(2026, 10, 31, 23, 0)  # 15:00 UTC on 31 October: still October in Beijing
    november_night = bj(2026, 11, 1, 0, 30)  # 16:30 UTC on 31 October: November in Beijing
    clocks = [
        ClockRow("a", RESPONSE, "U1", october_evening, MET, done_at=october_evening + timedelta(minutes=20)),
        ClockRow("a", FEEDBACK, "U1", october_evening, BREACHED, breached_at=october_evening + timedelta(hours=24)),
        ClockRow("b", RESPONSE, "U1", november_night, LATE, breached_at=november_night + timedelta(hours=2), done_at=november_night + timedelta(hours=3)),
        ClockRow("c", RESPONSE, "U1", bj(2026, 12, 1, 0, 10), RUNNING),
    ]
    orders = [OrderRow("a", "U1", october_evening + timedelta(hours=24)), OrderRow("b", "U1", november_night + timedelta(hours=2)), OrderRow("x", "U1", bj(2026, 10, 30))]
    [score] = assess(["U1"], NOVEMBER, clocks, orders, [])
    assert (score.dispatches, score.response.due, score.response.late, score.feedback.due) == (1, 1, 1, 0)
    assert (score.median_response_minutes, score.breaches, score.supervision_orders) == (180.0, 2, 2)


def step(case_no: str, at: datetime, action: str, after: dict, before: dict | None = None) -> StepRow:
    return StepRow(case_no, at, action, before or {}, after)


def test_results_visits_and_escalations_go_to_the_unit_that_led_the_case_at_that_step():
    steps = [
        # Case 1, led by U1 from October: mediated in November, visited unsatisfied, reopened, mediated again.
        step("1", bj(2026, 10, 30, 9), "triaged", {"stage": "triaged", "lead_unit": "U1"}),
        step("1", bj(2026, 11, 3, 9), "closed", {"stage": "closed", "result": "mediated"}),
        step("1", bj(2026, 11, 5, 9), "visit", {"satisfied": False}),
        step("1", bj(2026, 11, 5, 9), "reopened", {"result": None}, {"result": "mediated"}),
        step("1", bj(2026, 11, 9, 9), "closed", {"stage": "closed", "result": "mediated"}),
        step("1", bj(2026, 11, 12, 9), "visit", {"satisfied": True}, {"satisfied": False}),
        # Case 2: U1 escalates it to U2, who refers it to the court; the visit is U2's.
        step("2", bj(2026, 11, 2, 9), "triaged", {"lead_unit": "U1"}),
        step("2", bj(2026, 11, 4, 9), "escalated", {"level": "county", "lead_unit": "U2"}, {"level": "township", "lead_unit": "U1"}),
        step("2", bj(2026, 11, 20, 9), "closed", {"result": "litigation"}),
        step("2", bj(2026, 11, 22, 9), "visit", {"satisfied": True}),
        # Case 3: confirmed by the court for U2, but closed in December.
        step("3", bj(2026, 11, 2, 9), "triaged", {"lead_unit": "U2"}),
        step("3", bj(2026, 12, 1, 9), "closed", {"result": "confirmed"}),
    ]
    u1, u2 = assess(["U1", "U2"], NOVEMBER, [], [], steps)
    assert (u1.resolved, u1.escalated_away, u1.visits, u1.satisfied_visits, u1.satisfaction_pct) == (1, 1, 2, 1, 50.0)
    assert (u2.resolved, u2.escalated_away, u2.visits, u2.satisfied_visits, u2.satisfaction_pct) == (0, 0, 1, 1, 100.0)


def test_a_unit_with_nothing_in_the_period_has_zeros_and_no_percentages():
    [score] = assess(["U9"], NOVEMBER, [], [], [])
    assert (score.dispatches, score.breaches, score.resolved, score.visits) == (0, 0, 0, 0)
    assert (score.response.on_time_pct, score.feedback.on_time_pct, score.median_response_minutes, score.satisfaction_pct) == (None, None, None, None)


@given(st.lists(st.tuples(st.sampled_from(list(ClockStatus)), st.integers(min_value=-3 * 24 * 60, max_value=40 * 24 * 60))))
def test_every_dispatch_of_the_period_lands_in_exactly_one_column(rows):
    start = NOVEMBER.start
    clocks = [ClockRow("c", RESPONSE, "U1", start + timedelta(minutes=offset), status, done_at=start + timedelta(minutes=offset + 5)) for status, offset in rows]
    [score] = assess(["U1"], NOVEMBER, clocks, [], [])
    tally = score.response
    assert score.dispatches == tally.due + tally.pending + tally.ended
    assert tally.on_time_pct is None or 0 <= tally.on_time_pct <= 100
