"""红黄蓝 grading by the default policy: the grade and the reasons that decided it."""

from decimal import Decimal

import pytest

from onedoor.domain.case import RiskFactors
from onedoor.domain.grading import grade
from onedoor.domain.labels import RiskGrade, VulnerableGroup
from onedoor.domain.policy import GradingPolicy

POLICY = GradingPolicy()


@pytest.mark.parametrize(
    ("factors", "expected", "reason"),
    [
        (RiskFactors(), RiskGrade.BLUE, "未见"),
        (RiskFactors(violence_risk=True), RiskGrade.RED, "暴力"),
        (RiskFactors(criminal_risk=True), RiskGrade.RED, "民转刑"),
        (RiskFactors(people_involved=30), RiskGrade.RED, "涉及 30 人"),
        (RiskFactors(police_calls_30d=3), RiskGrade.RED, "警情 3 次"),
        (RiskFactors(high_social_impact=True), RiskGrade.RED, "社会影响"),
        (RiskFactors(people_involved=29), RiskGrade.YELLOW, "涉及 29 人"),
        (RiskFactors(people_involved=5), RiskGrade.YELLOW, "涉及 5 人"),
        (RiskFactors(amount_at_stake=Decimal(50_000)), RiskGrade.YELLOW, "50000 元"),
        (RiskFactors(prior_mediation_failed=True), RiskGrade.YELLOW, "调解未成"),
        (RiskFactors(vulnerable_groups=[VulnerableGroup.ELDERLY]), RiskGrade.YELLOW, "老年人"),
        (RiskFactors(prior_visits=2), RiskGrade.YELLOW, "来访 2 次"),
        (RiskFactors(people_involved=4, amount_at_stake=Decimal("49999.99"), prior_visits=1, police_calls_30d=2), RiskGrade.BLUE, "未见"),
    ],
)
def test_grade_and_reason(factors, expected, reason):
    result = grade(factors, POLICY)
    assert result.grade == expected
    assert any(reason in r for r in result.reasons), result.reasons


def test_every_reason_is_listed_and_red_outranks_yellow():
    result = grade(RiskFactors(people_involved=40, violence_risk=True, prior_mediation_failed=True), POLICY)
    assert result.grade == RiskGrade.RED
    assert len(result.reasons) == 2  # the red reasons decide; yellow ones are not needed


def test_thresholds_come_from_the_deployment_policy():
    strict = GradingPolicy(yellow_people=3)
    assert grade(RiskFactors(people_involved=3), strict).grade == RiskGrade.YELLOW
    assert grade(RiskFactors(people_involved=3), POLICY).grade == RiskGrade.BLUE
