"""What a case looks like at any moment: returned by the workflow's query, shown by the API."""

from datetime import datetime

from pydantic import BaseModel, computed_field

from domain.decisions import UnitFeedback, UnitResponse
from domain.labels import Category, ClockName, ClockStatus, Level, RiskGrade, Source, Stage


class Clock(BaseModel):
    name: ClockName
    started_at: datetime
    due_at: datetime
    status: ClockStatus = ClockStatus.RUNNING
    done_at: datetime | None = None
    breached_at: datetime | None = None


class Escalation(BaseModel):
    """A breach and the supervision order (督办) it raised to the level above."""

    at: datetime
    clock: ClockName
    unit_code: str
    from_level: Level
    to_level: Level | None
    order: str


class Step(BaseModel):
    at: datetime
    stage: Stage
    note: str


class CaseState(BaseModel):
    case_no: str
    stage: Stage
    source: Source
    category: Category
    township_code: str
    received_at: datetime
    grade: RiskGrade | None = None
    grade_reasons: list[str] = []
    level: Level | None = None
    jurisdiction_code: str | None = None
    lead_unit: str | None = None
    clocks: list[Clock] = []
    escalations: list[Escalation] = []
    response: UnitResponse | None = None
    feedback: UnitFeedback | None = None
    steps: list[Step] = []
    closed_at: datetime | None = None

    def clock(self, name: ClockName) -> Clock | None:
        return next((c for c in self.clocks if c.name == name), None)

    @computed_field
    @property
    def next_deadline(self) -> datetime | None:
        running = [c.due_at for c in self.clocks if c.status == ClockStatus.RUNNING]
        return min(running, default=None)

    @computed_field
    @property
    def overdue(self) -> bool:
        return any(c.status == ClockStatus.BREACHED for c in self.clocks)
