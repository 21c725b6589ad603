"""Policy values: the seed's numbers are defaults, a deployment configures its own.

A snapshot of the policy travels with each case, so a change applies to new cases only.
Sources: the centers' published practice (响应2小时、反馈24小时、一个月内调结), the People's
Mediation Law (人民调解法 §33: apply for judicial confirmation within 30 days), local policy
for the rest (marked below).
"""

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from domain.calendar import OfficeHours
from domain.labels import ClockBasis, RiskGrade


class GradingPolicy(BaseModel):
    red_people: int = Field(30, description="≥ this many people → red")
    red_police_calls_30d: int = Field(3, description="≥ this many police calls about the parties in 30 days → red")
    yellow_people: int = Field(5, description="≥ this many people → yellow")
    yellow_amount: Decimal = Field(Decimal(50_000), description="≥ this amount (CNY) at stake → yellow")
    yellow_prior_visits: int = Field(2, description="≥ this many earlier visits on the matter → yellow")


def seconds_if_number(value):
    """Environment variables arrive as text: "30" means 30 seconds, like an ISO "PT30S"."""
    return float(value) if isinstance(value, str) and value.replace(".", "", 1).isdigit() else value


Duration = Annotated[timedelta, BeforeValidator(seconds_if_number)]


class ClockRule(BaseModel):
    length: Duration
    basis: ClockBasis = ClockBasis.NATURAL
    remind_at: float | None = Field(0.75, gt=0, lt=1, description="share of the clock when the reminder (催办) fires")


def rule(**length) -> ClockRule:
    return ClockRule(length=timedelta(**length))


class ClockSet(BaseModel):
    """Every clock of a case at one grade; each counts natural or working time."""

    response: ClockRule = Field(default_factory=lambda: rule(hours=2))  # from dispatch
    feedback: ClockRule = Field(default_factory=lambda: rule(hours=24))  # from dispatch
    mediation: ClockRule = Field(default_factory=lambda: rule(days=30))  # 一个月内调结
    confirmation: ClockRule = Field(default_factory=lambda: rule(days=30))  # 人民调解法 §33
    referral: ClockRule = Field(default_factory=lambda: rule(days=7))  # local policy: the body accepts a referral
    return_visit: ClockRule = Field(default_factory=lambda: ClockRule(length=timedelta(days=7), remind_at=None))  # local policy
    emergency_ack: ClockRule = Field(default_factory=lambda: ClockRule(length=timedelta(minutes=15), remind_at=None))  # local policy
    partner_reply: ClockRule = Field(default_factory=lambda: rule(hours=48))  # local policy: the partner center across the border answers


def red_clocks() -> ClockSet:
    # 应急处置: red cases get shorter unit clocks (local policy).
    return ClockSet(response=rule(hours=1), feedback=rule(hours=12))


class ClockPolicy(BaseModel):
    red: ClockSet = Field(default_factory=red_clocks)
    yellow: ClockSet = Field(default_factory=ClockSet)
    blue: ClockSet = Field(default_factory=ClockSet)
    office_hours: OfficeHours = Field(default_factory=OfficeHours)
    follow_rota: bool = Field(
        True, description="轮驻: a rotating unit's response and feedback clocks start when it is next on duty (domain/rota.py); off: at dispatch"
    )

    def for_grade(self, grade: RiskGrade) -> ClockSet:
        return getattr(self, grade.value)


class HouseholdPolicy(BaseModel):
    """家庭和谐服务档案: how often a family at risk is visited and when its file calms down (local policy)."""

    red_visit_every: Duration = Field(timedelta(days=7), description="red households: a visit every week")
    yellow_visit_every: Duration = Field(timedelta(days=30), description="yellow: every month")
    blue_visit_every: Duration = Field(timedelta(days=90), description="blue: every quarter")
    calm_period: Duration = Field(timedelta(days=90), description="with no new case for this long the risk drops one grade; blue closes the file")
    repeat_window: Duration = Field(timedelta(days=365), description="linked cases counted for the repeat rule")
    red_repeat_cases: int = Field(3, ge=1, description="≥ this many cases in the window → red")
    yellow_repeat_cases: int = Field(2, ge=1, description="≥ this many cases in the window → at least yellow")
    history_limit: int = Field(10_000, ge=1, description="continue-as-new past this many history events (Temporal may suggest it sooner)")

    def visit_every(self, risk: RiskGrade) -> timedelta:
        return getattr(self, f"{risk.value}_visit_every")


class DeliveryPolicy(BaseModel):
    """How long a unit's system may be down before its documents go to its inbox (the clocks keep running)."""

    outage_window: Duration = Field(timedelta(minutes=30), description="retry a delivery this long, then fall back to the unit's inbox and tell the operator")
    first_retry: Duration = Field(timedelta(seconds=2), description="first retry after this long, doubling each time")
    longest_retry: Duration = Field(timedelta(minutes=5), description="retries never wait longer than this")


class LadderPolicy(BaseModel):
    """分层递进 and lateness. Lateness is supervised, it is not a verdict: a unit's breach always brings a
    supervision order (督办) from the level above, and never sends a case to the judicial backstop."""

    breach_escalates: bool = Field(
        True, description="提级: a lead unit's or the mediation's breach also lifts the case one level (the seed's practice); "
        "false: the case stays at its level under the order, with a new clock, for a supervisor to decide (交办/提级 by hand). "
        "At the top of the ladder a breach always stays under the top center's supervision",
    )


class Policy(BaseModel):
    grading: GradingPolicy = Field(default_factory=GradingPolicy)
    ladder: LadderPolicy = Field(default_factory=LadderPolicy)
    clocks: ClockPolicy = Field(default_factory=ClockPolicy)
    household: HouseholdPolicy = Field(default_factory=HouseholdPolicy)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
