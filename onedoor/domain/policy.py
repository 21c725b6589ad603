"""Policy values: the seed's numbers are defaults, a deployment configures its own.

A snapshot of the policy travels with each case, so a change applies to new cases only.
Sources: the centers' published practice (响应2小时、反馈24小时、一个月内调结), the People's
Mediation Law (人民调解法 §33: apply for judicial confirmation within 30 days), local policy
for the rest (marked below).
"""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from onedoor.domain.calendar import OfficeHours
from onedoor.domain.labels import Audience, ClockBasis, ClockName, RiskGrade
from onedoor.domain.timezone import SHANGHAI, as_utc


class GradingPolicy(BaseModel):
    red_people: int = Field(30, description="红色人数：≥ this many people → red")
    red_police_calls_30d: int = Field(3, description="红色警情次数：≥ this many police calls about the parties in 30 days → red")
    yellow_people: int = Field(5, description="黄色人数：≥ this many people → yellow")
    yellow_amount: Decimal = Field(Decimal(50_000), description="黄色金额：≥ this amount (CNY) at stake → yellow")
    yellow_prior_visits: int = Field(2, description="黄色来访次数：≥ this many earlier visits on the matter → yellow")


def seconds_if_number(value):
    """Environment variables arrive as text: "30" means 30 seconds, like an ISO "PT30S"."""
    return float(value) if isinstance(value, str) and value.replace(".", "", 1).isdigit() else value


Duration = Annotated[timedelta, BeforeValidator(seconds_if_number)]
MONTH_DAYS = 30  # a months clock's nominal length per month (its due date is the calendar's)


NUMERALS = dict(zip("一二两三四五六七八九", (1, 2, 2, 3, 4, 5, 6, 7, 8, 9)))
UNITS = {  # the words a rule is written in → how it counts and one unit's length
    "分钟": (ClockBasis.NATURAL, timedelta(minutes=1)),
    "小时": (ClockBasis.NATURAL, timedelta(hours=1)),
    "个小时": (ClockBasis.NATURAL, timedelta(hours=1)),
    "日": (ClockBasis.NATURAL, timedelta(days=1)),
    "天": (ClockBasis.NATURAL, timedelta(days=1)),
    "工作小时": (ClockBasis.WORKING, timedelta(hours=1)),
    "工作日": (ClockBasis.WORKING_DAYS, timedelta(days=1)),
    "个工作日": (ClockBasis.WORKING_DAYS, timedelta(days=1)),
    "个月": (ClockBasis.MONTHS, timedelta(days=MONTH_DAYS)),
    "月": (ClockBasis.MONTHS, timedelta(days=MONTH_DAYS)),
}
TERM = re.compile(r"^\s*(\d+(?:\.\d+)?|[一二两三四五六七八九十]{1,3})\s*(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")\s*$")


def number(text: str) -> float:
    """"3", "2.5", "两", "十五", "三十" → the number."""
    if text[0].isdigit():
        return float(text)
    if "十" not in text:
        return NUMERALS[text]
    tens, _, ones = text.partition("十")
    return NUMERALS.get(tens, 1) * 10 + NUMERALS.get(ones, 0)


def parse_term(text: str) -> dict:
    """A rule as written ("3个工作日", "2小时", "一个月", "30日") → its length and basis."""
    match = TERM.match(text)
    if not match:
        raise ValueError(f"时限 {text!r} 无法识别：写作数字加单位，如 2小时、30日、一个月、3个工作日、24工作小时 (unknown term)")
    basis, one = UNITS[match[2]]
    count = number(match[1])
    if basis in (ClockBasis.WORKING_DAYS, ClockBasis.MONTHS) and count != int(count):
        raise ValueError(f"时限 {text!r}：工作日和月须为整数 (whole working days or months)")
    return {"length": one * count, "basis": basis}


def share(value):
    """A single share (the setting before several thresholds) is a list of one."""
    return [value] if isinstance(value, (int, float, str)) else value


Shares = Annotated[list[Annotated[float, Field(gt=0, lt=1)]], BeforeValidator(share)]


class ClockRule(BaseModel):
    """One clock of a grade, written as the rule says it (`term`: "3个工作日", "2小时", "一个月",
    "30日"), or as a length and a basis (ONEDOOR_CLOCKS__RED__RESPONSE__LENGTH=30 is 30 seconds).
    A working-days clock falls due at the close of office hours on its Nth working day (the start
    day not counted); a months clock on the same date N months on; its length holds 30 days a
    month, the share a reminder is a part of being measured on the clock's own span."""

    length: Duration = Field(description="时长：seconds or ISO 8601; with basis working_days, the days; with months, 30 days a month")
    basis: ClockBasis = Field(ClockBasis.NATURAL, description="计时方式：natural, working (office hours), working_days, months")
    remind_at: Shares | None = Field(
        [0.75], description="催办时点：shares of the clock when a reminder (催办) fires, e.g. 0.75 or [0.5, 0.9]; none: no reminder"
    )

    @model_validator(mode="before")
    @classmethod
    def written(cls, data):
        if isinstance(data, str):
            return parse_term(data)
        if isinstance(data, dict) and data.get("term") is not None:
            data = {key: value for key, value in data.items() if key not in ("term", "length", "basis")} | parse_term(str(data["term"]))
        return data

    @property
    def term(self) -> str:
        """The rule in the words a center writes it."""
        if self.basis == ClockBasis.WORKING_DAYS:
            return f"{self.length.days}个工作日"
        if self.basis == ClockBasis.MONTHS:
            return f"{self.length.days // MONTH_DAYS}个月"
        hours = self.length / timedelta(hours=1)
        if self.basis == ClockBasis.WORKING:
            return f"{hours:g}工作小时"
        if self.length % timedelta(days=1) == timedelta(0):
            return f"{self.length.days}日"
        if self.length % timedelta(hours=1) == timedelta(0):
            return f"{hours:g}小时"
        if self.length % timedelta(minutes=1) == timedelta(0):
            return f"{self.length / timedelta(minutes=1):g}分钟"
        return f"{self.length.total_seconds():g}秒"


def rule(term: str, remind_at: tuple[float, ...] | None = (0.75,)) -> ClockRule:
    return ClockRule.model_validate({"term": term, "remind_at": remind_at})  # `term` is read by ClockRule.written


class ClockSet(BaseModel):
    """Every clock of a grade, each in the unit its source uses; where the source is silent on the
    unit, the one a center would choose (docs/concepts.md, Rules: sources and reasoning)."""

    # 2小时内响应、24小时内反馈 (the centers' published practice): for yellow and blue counted in office
    # time and read as one working day, as a unit's office works them (a natural 24 h breaches over a
    # weekend, a natural 2 h in the night); red keeps natural time (below).
    response: ClockRule = Field(default_factory=lambda: rule("2工作小时"), description="响应：a unit's first response to a dispatch")
    feedback: ClockRule = Field(default_factory=lambda: rule("1个工作日"), description="反馈：a unit's report of how it handled the case")
    mediation: ClockRule = Field(default_factory=lambda: rule("一个月"), description="调解：the mediator concludes")  # 一个月内调结 (practice)
    confirmation: ClockRule = Field(  # 人民调解法 §33: 三十日内, natural days
        default_factory=lambda: rule("30日"), description="司法确认申请：the parties apply for judicial confirmation of an agreement"
    )
    referral: ClockRule = Field(  # local policy: a body accepts a referral in its office days
        default_factory=lambda: rule("5个工作日"), description="转介受理：a backstop body accepts a referral"
    )
    return_visit: ClockRule = Field(default_factory=lambda: rule("7日", None), description="回访：the return visit after closure")  # local policy: a week after closure
    emergency_ack: ClockRule = Field(  # local policy: a leader acknowledges a red alert, day or night
        default_factory=lambda: rule("15分钟", None), description="红色预警签收：a leader acknowledges a red alert, else the next leader up"
    )
    partner_reply: ClockRule = Field(  # local policy: the partner center across the border, in its office days
        default_factory=lambda: rule("2个工作日"), description="跨省协作回复：the partner center across the border replies"
    )


def red_clocks() -> ClockSet:
    # 应急处置: a red case's units answer day or night, sooner, in natural time (local policy).
    return ClockSet(response=rule("1小时"), feedback=rule("12小时"))


class ClockPolicy(BaseModel):
    red: ClockSet = Field(default_factory=red_clocks, description="红色案件：units respond and report sooner, in natural time, day or night (应急处置)")
    yellow: ClockSet = Field(default_factory=ClockSet, description="黄色案件")
    blue: ClockSet = Field(default_factory=ClockSet, description="蓝色案件")
    office_hours: OfficeHours = Field(default_factory=OfficeHours, description="办公时间：where the register keeps no calendar")
    pause_stops: list[ClockName] = Field(
        [ClockName.FEEDBACK, ClockName.MEDIATION], description="暂停范围：the clocks a pause (waiting on a party) stops (revision 9); a unit's first response keeps running, "
        "as peers keep it, and so do the statutory and the other bodies' clocks"
    )
    longest_pause: Duration = Field(timedelta(days=30), description="最长暂停：a pause resumes by itself after this long at the latest")
    follow_rota: bool = Field(
        True, description="轮驻单位按值班日计时：a rotating unit's response and feedback clocks start when it is next on duty (onedoor/domain/rota.py); off: at dispatch"
    )

    def for_grade(self, grade: RiskGrade) -> ClockSet:
        return getattr(self, grade.value)


class HouseholdPolicy(BaseModel):
    """家庭和谐服务档案: how often a family at risk is visited and when its file calms down (local policy)."""

    red_visit_every: Duration = Field(timedelta(days=7), description="红色走访间隔：red households, a visit every week")
    yellow_visit_every: Duration = Field(timedelta(days=30), description="黄色走访间隔：yellow, every month")
    blue_visit_every: Duration = Field(timedelta(days=90), description="蓝色走访间隔：blue, every quarter")
    calm_period: Duration = Field(timedelta(days=90), description="平稳期：with no new case for this long the risk drops one grade; blue closes the file (销档)")
    repeat_window: Duration = Field(timedelta(days=365), description="重复纠纷统计窗口：linked cases counted for the repeat rule")
    red_repeat_cases: int = Field(3, ge=1, description="红色重复次数：≥ this many cases in the window → red")
    yellow_repeat_cases: int = Field(2, ge=1, description="黄色重复次数：≥ this many cases in the window → at least yellow")
    history_limit: int = Field(10_000, ge=1, description="历史事件上限：continue-as-new past this many history events (Temporal may suggest it sooner)")

    def visit_every(self, risk: RiskGrade) -> timedelta:
        return getattr(self, f"{risk.value}_visit_every")


class DeliveryPolicy(BaseModel):
    """How long a unit's system may be down before its documents go to its inbox (the clocks keep running)."""

    outage_window: Duration = Field(timedelta(minutes=30), description="断线窗口：retry a delivery this long, then fall back to the unit's inbox and tell the operator")
    first_retry: Duration = Field(timedelta(seconds=2), description="首次重试：first retry after this long, doubling each time")
    longest_retry: Duration = Field(timedelta(minutes=5), description="最长重试间隔：retries never wait longer than this")


class LadderPolicy(BaseModel):
    """分层递进 and lateness. Lateness is supervised, it is not a verdict: a unit's breach always brings a
    supervision order (督办) from the level above, and never sends a case to the judicial backstop."""

    breach_escalates: bool = Field(
        True, description="超时提级：a lead unit's or the mediation's breach also lifts the case one level (提级, the seed's practice); "
        "false: the case stays at its level under the supervision order and a new clock, and a supervisor lifts it (`POST /cases/{no}/escalation`). "
        "At the top of the ladder a breach always stays under the top center's supervision",
    )


class NoticePolicy(BaseModel):
    """Quiet hours (免打扰): a notice to a person (a party, a leader) is held until they end, unless the
    case is red (local policy). Units' systems and operators' worklists are told at once."""

    quiet_from: time = Field(time(22, 0), description="免打扰开始：quiet hours begin (Beijing time)")
    quiet_until: time = Field(time(8, 0), description="免打扰结束：quiet hours end, held notices go out then")
    quiet_for: list[Audience] = Field([Audience.PARTY, Audience.LEADER], description="免打扰对象：who quiet hours spare")

    def held_until(self, now: datetime) -> datetime | None:
        """When a notice to a person sent now may go: the end of quiet hours, or None outside them (in UTC)."""
        local = now.astimezone(SHANGHAI)
        begins, ends = self.quiet_from, self.quiet_until
        inside = begins <= local.time() < ends if begins < ends else (local.time() >= begins or local.time() < ends)
        if not inside:
            return None
        day = local.date() + timedelta(days=1) if begins > ends and local.time() >= begins else local.date()
        return as_utc(datetime.combine(day, ends, tzinfo=SHANGHAI))


class Policy(BaseModel):
    grading: GradingPolicy = Field(default_factory=GradingPolicy)
    ladder: LadderPolicy = Field(default_factory=LadderPolicy)
    clocks: ClockPolicy = Field(default_factory=ClockPolicy)
    household: HouseholdPolicy = Field(default_factory=HouseholdPolicy)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
    notices: NoticePolicy = Field(default_factory=NoticePolicy)
