"""考核 Unit assessment: each unit's timeliness and results over a period, computed from the
register's rows by the definitions below, so that a unit can recompute its own score.

Which rows belong to a period (Beijing calendar dates, both ends included):
- a dispatch (派单) and its response clock by the time the response clock started; a feedback
  clock by the time it started (the same dispatch moment);
- a breach (超时) by the time it breached; a supervision order (督办) by the time it was issued;
- a closing (结案), a return visit (回访) and an escalation (升级) by the time of that step.

Timeliness counts a clock by the status the register holds for it now: a clock still running
(or paused) is pending and counts nowhere yet; an ended clock (the case was escalated or
closed before the answer was due) counts neither for nor against the unit.
"""

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, computed_field

from onedoor.domain.labels import ClockName, ClockStatus, Result
from onedoor.domain.timezone import as_utc

# 化解: the case was settled by mediation, with or without a court's confirmation. A referral to
# the judicial backstop, a decline or a withdrawal closes a case without resolving it.
RESOLVED = frozenset({Result.MEDIATED, Result.CONFIRMED})

MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")


@dataclass(frozen=True)
class Period:
    """Beijing calendar dates [first, last], both included; in UTC the half-open [start, end)."""

    first: date
    last: date

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(f"{self.last} is before {self.first}")
        if not date.min < self.first <= self.last < date.max:  # a day to spare: the UTC bounds must exist
            raise ValueError("dates out of range")

    @classmethod
    def month(cls, text: str) -> "Period":
        """`2026-11` → 1 to 30 November 2026; ValueError for anything else."""
        found = MONTH.match(text)
        if found is None:
            raise ValueError(text)
        first = date(int(found["year"]), int(found["month"]), 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @property
    def start(self) -> datetime:
        return as_utc(datetime.combine(self.first, time()))  # midnight, read as Beijing time

    @property
    def end(self) -> datetime:
        return as_utc(datetime.combine(self.last + timedelta(days=1), time()))

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


@dataclass(frozen=True)
class ClockRow:
    """A unit's clock as the register holds it (case_clocks)."""

    case_no: str
    name: ClockName
    unit_code: str
    started_at: datetime
    status: ClockStatus
    breached_at: datetime | None = None
    done_at: datetime | None = None  # the answer; for an ended clock, when it ended


@dataclass(frozen=True)
class OrderRow:
    """A supervision order (督办) about one of the unit's clocks."""

    case_no: str
    unit_code: str
    issued_at: datetime


@dataclass(frozen=True)
class StepRow:
    """An audit-log row: one step of a case, with only the fields the step changed."""

    case_no: str
    at: datetime
    action: str
    before: dict
    after: dict


def percent(part: int, whole: int) -> float | None:
    """part / whole in per cent, rounded half up to one decimal; None when there is no whole."""
    if not whole:
        return None
    return float((Decimal(100 * part) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP))


class Timeliness(BaseModel):
    """One kind of clock (response or feedback) of the dispatches in the period."""

    on_time: int = 0  # 按时完成 met: answered by the due time (after any extension a supervisor granted)
    late: int = 0  # 超时后完成 met_late: answered after the clock breached
    unanswered: int = 0  # 超时未完成 breached: not answered (yet)
    pending: int = 0  # 未到期 running or paused: not decided yet, counted once it is
    ended: int = 0  # 随案结束 ended: the case moved on before the answer was due, not the unit's to give

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property (python/mypy#1362); pydantic documents this ignore
    @property
    def due(self) -> int:
        """The denominator: every clock that has been decided, on time or not."""
        return self.on_time + self.late + self.unanswered

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property (python/mypy#1362); pydantic documents this ignore
    @property
    def on_time_pct(self) -> float | None:
        return percent(self.on_time, self.due)


BUCKET = {
    ClockStatus.MET: "on_time",
    ClockStatus.MET_LATE: "late",
    ClockStatus.BREACHED: "unanswered",
    ClockStatus.RUNNING: "pending",
    ClockStatus.PAUSED: "pending",
    ClockStatus.ENDED: "ended",
}


def timeliness(clocks: Iterable[ClockRow]) -> Timeliness:
    counts: dict[str, int] = defaultdict(int)
    for clock in clocks:
        counts[BUCKET[clock.status]] += 1
    return Timeliness(**counts)


ANSWERED = (ClockStatus.MET, ClockStatus.MET_LATE)  # a met clock has its answer's time (done_at)


def median_minutes(clocks: Iterable[ClockRow]) -> float | None:
    """Median of the clock's start → answer in minutes (calendar time, pauses included) over the
    answered clocks, on time or late; the mean of the middle two for an even count; one decimal. A
    rotating unit's clock starts on its duty day (domain/rota.py): an answer before that took no time."""
    waits = [max(c.done_at - c.started_at, timedelta(0)) for c in clocks if c.status in ANSWERED and c.done_at is not None]
    if not waits:
        return None
    # typeshed types median over numbers only; it sorts and averages the middle two, which timedelta supports.
    middle = statistics.median(waits)  # type: ignore[type-var]
    return float((Decimal(middle // timedelta(microseconds=1)) / 60_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP))


class UnitScore(BaseModel):
    unit_code: str
    dispatches: int  # 收到派单 dispatches received: response clocks started in the period (lead or co-unit)
    response: Timeliness  # 响应 response (2 h)
    feedback: Timeliness  # 反馈 feedback (24 h)
    median_response_minutes: float | None  # 响应用时中位数
    breaches: int  # 超时 breaches: the unit's clocks that breached in the period, whenever dispatched
    supervision_orders: int  # 督办 supervision orders issued in the period about the unit's clocks
    resolved: int  # 化解 cases closed in the period as RESOLVED while the unit led them, each once
    escalated_away: int  # 升级移出 escalations in the period that took the lead from the unit
    visits: int  # 回访 return visits in the period to cases the unit led at the time
    satisfied_visits: int  # 回访满意

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property (python/mypy#1362); pydantic documents this ignore
    @property
    def satisfaction_pct(self) -> float | None:
        return percent(self.satisfied_visits, self.visits)


def replay(steps: Iterable[StepRow]) -> Iterator[tuple[StepRow, dict, dict]]:
    """Each step with its case's fields just before and just after it. The audit log keeps only
    what a step changed, so a field's value at a step is the last value any earlier step wrote;
    steps must come in the order they happened, each case from its first."""
    known: dict[str, dict] = {}
    for step in steps:
        before = {**known.get(step.case_no, {}), **step.before}
        after = {**before, **step.after}
        known[step.case_no] = after
        yield step, before, after


def assess(unit_codes: list[str], period: Period, clocks: Iterable[ClockRow], orders: Iterable[OrderRow], steps: Iterable[StepRow]) -> list[UnitScore]:
    """The figures of each unit for the period, in the order of unit_codes. The rows may include
    more than the period (the store fetches generously); the definitions here choose."""
    by_unit: dict[str, list[ClockRow]] = defaultdict(list)
    for clock in clocks:
        by_unit[clock.unit_code].append(clock)
    issued: dict[str, int] = defaultdict(int)
    for order in orders:
        if period.holds(order.issued_at):
            issued[order.unit_code] += 1
    # By the unit that led the case at the step (None: no unit did, and no unit is scored for it).
    resolved: dict[str | None, set[str]] = defaultdict(set)
    escalated_away: dict[str, int] = defaultdict(int)
    visits: dict[str | None, list[bool]] = defaultdict(list)
    for step, before, after in replay(steps):
        if not period.holds(step.at):
            continue
        holder = after.get("lead_unit")
        if step.action == "closed" and after.get("result") in RESOLVED:
            resolved[holder].add(step.case_no)  # closed, reopened and closed again: still one case
        elif step.action == "escalated" and before.get("lead_unit") not in (None, holder):
            escalated_away[before["lead_unit"]] += 1
        elif step.action == "visit" and after.get("satisfied") is not None:
            visits[holder].append(after["satisfied"])
    scores = []
    for unit in unit_codes:
        mine = by_unit[unit]
        responses = [c for c in mine if c.name == ClockName.RESPONSE and period.holds(c.started_at)]
        feedbacks = [c for c in mine if c.name == ClockName.FEEDBACK and period.holds(c.started_at)]
        scores.append(UnitScore(
            unit_code=unit,
            dispatches=len(responses),
            response=timeliness(responses),
            feedback=timeliness(feedbacks),
            median_response_minutes=median_minutes(responses),
            breaches=sum(1 for c in mine if period.holds(c.breached_at)),
            supervision_orders=issued[unit],
            resolved=len(resolved[unit]),
            escalated_away=escalated_away[unit],
            visits=len(visits[unit]),
            satisfied_visits=sum(visits[unit]),
        ))
    return scores
