"""红黄蓝 grading: a pure function of the case's factors that also says why."""

from pydantic import BaseModel

from onedoor.domain.case import RiskFactors
from onedoor.domain.labels import RiskGrade
from onedoor.domain.policy import GradingPolicy


# Temporal works a backlogged task queue lowest priority key first (keys 1–5): the tasks of a red
# case pass a busy hour's blue backlog instead of queueing behind it.
QUEUE_PRIORITY = {RiskGrade.RED: 1, RiskGrade.YELLOW: 2, RiskGrade.BLUE: 3}
UNSET_PRIORITY = 3  # the key Temporal gives a workflow started without one


class Grading(BaseModel):
    grade: RiskGrade
    reasons: list[str]


def grade(factors: RiskFactors, policy: GradingPolicy) -> Grading:
    """Red if any red reason holds, else yellow if any yellow reason holds, else blue."""
    red = [
        reason
        for holds, reason in (
            (factors.violence_risk, "有暴力或极端行为风险"),
            (factors.criminal_risk, "有民转刑风险"),
            (factors.people_involved >= policy.red_people,
             f"涉及 {factors.people_involved} 人（≥{policy.red_people}）"),
            (factors.police_calls_30d >= policy.red_police_calls_30d,
             f"30 日内警情 {factors.police_calls_30d} 次（≥{policy.red_police_calls_30d}）"),
            (factors.high_social_impact, "社会影响大（媒体或网络曝光）"),
        )
        if holds
    ]
    if red:
        return Grading(grade=RiskGrade.RED, reasons=red)
    yellow = [
        reason
        for holds, reason in (
            (factors.people_involved >= policy.yellow_people,
             f"涉及 {factors.people_involved} 人（≥{policy.yellow_people}）"),
            (factors.amount_at_stake >= policy.yellow_amount,
             f"涉及金额 {factors.amount_at_stake} 元（≥{policy.yellow_amount}）"),
            (factors.prior_mediation_failed, "此前调解未成"),
            (bool(factors.vulnerable_groups),
             "涉及弱势群体：" + "、".join(g.label for g in factors.vulnerable_groups)),
            (factors.prior_visits >= policy.yellow_prior_visits,
             f"此前来访 {factors.prior_visits} 次（≥{policy.yellow_prior_visits}）"),
        )
        if holds
    ]
    if yellow:
        return Grading(grade=RiskGrade.YELLOW, reasons=yellow)
    return Grading(grade=RiskGrade.BLUE, reasons=["未见红、黄色风险因素"])
