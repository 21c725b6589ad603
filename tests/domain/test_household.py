"""家庭和谐服务档案 rules by the default policy: the household's identity, its risk, its visits, calming down."""

from datetime import datetime, timedelta, timezone

from onedoor.domain.household import (
    FollowUpVisit, HouseholdState, LinkedCase, address_key, calm_until, calmer, next_visit, reminder_due, risk_after_case,
)
from onedoor.domain.labels import RiskGrade
from onedoor.domain.policy import HouseholdPolicy

POLICY = HouseholdPolicy()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
RED, YELLOW, BLUE = RiskGrade.RED, RiskGrade.YELLOW, RiskGrade.BLUE


def case(n: int, grade: RiskGrade = BLUE, days: float = 0) -> LinkedCase:
    return LinkedCase(case_no=f"139001-2026-{n:06d}", grade=grade, at=T0 + timedelta(days=days))


def household(risk: RiskGrade | None = RED, visits: list[FollowUpVisit] | None = None, **fields) -> HouseholdState:
    return HouseholdState(household_id="HH-139001101-000001", township_code="139001101", opened_at=T0, risk=risk,
                          visits=visits or [], calm_from=T0, **fields)


def visit(days: float) -> FollowUpVisit:
    return FollowUpVisit(seq=1, at=T0 + timedelta(days=days), visitor="网格员 韩秀兰", notes="家庭关系缓和", risk=RED)


def test_the_same_address_written_differently_is_the_same_household():
    same = address_key("139001101", "139001101201", "东关社区３号楼 2单元 301")
    assert same == address_key("139001101", "139001101201", " 东关社区3号楼2单元301 ")
    assert same != address_key("139001101", "139001101201", "东关社区3号楼2单元302")
    assert same != address_key("139001102", None, "东关社区3号楼2单元301")
    assert "东关" not in same and len(same) == 64


def test_a_first_case_gives_the_file_the_case_grade():
    first = case(1, YELLOW)
    assert risk_after_case(POLICY, None, first, [first])[0] == YELLOW


def test_repeated_cases_within_a_year_raise_the_risk_to_yellow_then_red():
    cases = [case(1), case(2, days=100), case(3, days=300)]
    assert risk_after_case(POLICY, BLUE, cases[1], cases[:2]) == (YELLOW, "365日内纠纷 2 件")
    risk, reason = risk_after_case(POLICY, YELLOW, cases[2], cases)
    assert risk == RED and "重复纠纷" in reason


def test_cases_older_than_the_window_do_not_count_as_repeats():
    cases = [case(1), case(2, days=400)]
    assert risk_after_case(POLICY, BLUE, cases[1], cases)[0] == BLUE


def test_a_new_case_never_lowers_the_risk():
    cases = [case(1, RED), case(2, BLUE, days=500)]
    risk, reason = risk_after_case(POLICY, RED, cases[1], cases)
    assert risk == RED and reason.startswith("维持红色")


def test_visits_follow_the_risk_weekly_monthly_quarterly():
    assert next_visit(POLICY, household(RED)) == T0 + timedelta(days=7)
    assert next_visit(POLICY, household(YELLOW)) == T0 + timedelta(days=30)
    assert next_visit(POLICY, household(BLUE)) == T0 + timedelta(days=90)
    assert next_visit(POLICY, household(RED, [visit(10)])) == T0 + timedelta(days=17)  # counted from the last visit


def test_a_missed_visit_is_reminded_when_due_then_once_per_interval():
    due = T0 + timedelta(days=7)
    assert reminder_due(POLICY, household(next_visit_at=due)) == due
    assert reminder_due(POLICY, household(next_visit_at=due, reminded_at=due)) == due + timedelta(days=7)
    later = due + timedelta(days=3)  # a visit moved the due time past the last reminder
    assert reminder_due(POLICY, household(next_visit_at=later, reminded_at=due)) == later


def test_calm_period_lowers_the_risk_one_grade_at_a_time_and_blue_closes():
    assert [calmer(RED), calmer(YELLOW), calmer(BLUE)] == [YELLOW, BLUE, None]
    assert calm_until(POLICY, household()) == T0 + timedelta(days=90)
