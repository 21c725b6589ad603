"""Policy values: the seed's numbers are defaults, a deployment configures its own.

A snapshot of the policy travels with each case, so a change applies to new cases only.
"""

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, Field


class GradingPolicy(BaseModel):
    red_people: int = Field(30, description="≥ this many people → red")
    red_police_calls_30d: int = Field(3, description="≥ this many police calls about the parties in 30 days → red")
    yellow_people: int = Field(5, description="≥ this many people → yellow")
    yellow_amount: Decimal = Field(Decimal(50_000), description="≥ this amount (CNY) at stake → yellow")
    yellow_prior_visits: int = Field(2, description="≥ this many earlier visits on the matter → yellow")


class ClockPolicy(BaseModel):
    # The centers' published rule: a unit responds within 2 hours, gives feedback within 24 hours,
    # both counted from dispatch (一键派单, 2小时内响应、24小时内反馈).
    response: timedelta = timedelta(hours=2)
    feedback: timedelta = timedelta(hours=24)


class Policy(BaseModel):
    grading: GradingPolicy = Field(default_factory=GradingPolicy)
    clocks: ClockPolicy = Field(default_factory=ClockPolicy)
