"""Properties of the pure rules, over inputs Hypothesis invents: grading, working-time arithmetic."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from onedoor.domain.calendar import OfficeHours, WorkCalendar, add_working_time, library_workday as is_workday, working_time_between
from onedoor.domain.case import RiskFactors
from onedoor.domain.clocks import after, time_left
from onedoor.domain.grading import grade
from onedoor.domain.labels import ClockBasis, RiskGrade, VulnerableGroup
from onedoor.domain.policy import GradingPolicy
from onedoor.domain.timezone import SHANGHAI

OFFICE = OfficeHours()
HOURS = WorkCalendar.legacy(OFFICE)
ORDER = [RiskGrade.BLUE, RiskGrade.YELLOW, RiskGrade.RED]
# 2020–2030: inside and beyond the years the holiday calendar covers.
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
lengths = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
factors = st.builds(
    RiskFactors,
    violence_risk=st.booleans(), criminal_risk=st.booleans(),
    people_involved=st.integers(1, 100_000), amount_at_stake=st.decimals(0, 10**9, places=2).map(Decimal),
    prior_mediation_failed=st.booleans(), prior_visits=st.integers(0, 1000), police_calls_30d=st.integers(0, 1000),
    high_social_impact=st.booleans(), vulnerable_groups=st.lists(st.sampled_from(list(VulnerableGroup)), max_size=2, unique=True),
)


@given(moments, lengths)
def test_a_working_time_deadline_is_never_earlier_than_the_natural_one(start, length):
    assert after(start, length, ClockBasis.WORKING, HOURS)[0] >= after(start, length, ClockBasis.NATURAL, HOURS)[0]


@given(moments, lengths)
def test_the_office_time_until_a_working_deadline_is_the_clock_length(start, length):
    due = add_working_time(start, length, HOURS).due
    assert working_time_between(start, due, HOURS) == length
    assert time_left(start, due, ClockBasis.WORKING, HOURS) == length or length == timedelta(0)


@given(moments, lengths, lengths)
def test_working_time_adds_up(start, first, second):
    """Pausing a clock part-way and resuming it loses or gains nothing."""
    middle = add_working_time(start, first, HOURS).due
    assert add_working_time(middle, second, HOURS).due == add_working_time(start, first + second, HOURS).due


@given(moments, lengths.filter(bool))
def test_a_working_deadline_falls_on_a_workday_within_office_hours(start, length):
    due = add_working_time(start, length, HOURS).due.astimezone(SHANGHAI)
    assert OFFICE.opens < due.time() <= OFFICE.closes and is_workday(due.date())[0]


@settings(max_examples=300)
@given(factors, st.integers(1, 1000))
def test_more_people_never_lowers_the_grade(case, more):
    policy = GradingPolicy()
    bigger = case.model_copy(update={"people_involved": min(case.people_involved + more, 100_000)})
    assert ORDER.index(grade(bigger, policy).grade) >= ORDER.index(grade(case, policy).grade)


@given(factors)
def test_every_grade_comes_with_its_reasons(case):
    grading = grade(case, GradingPolicy())
    assert grading.reasons and all(reason.strip() for reason in grading.reasons)
    if case.violence_risk or case.criminal_risk or case.high_social_impact:
        assert grading.grade == RiskGrade.RED


def test_no_property_test_has_a_deadline():
    # The suite's profile (tests/conftest.py): a slow example on a loaded machine is not a wrong one.
    assert settings.default.deadline is None
    assert settings(max_examples=300).deadline is None  # a test's own settings keep it
