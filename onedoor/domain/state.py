"""What a case looks like at any moment: returned by the workflow's query, shown by the API."""

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field, computed_field

from onedoor.domain.decisions import UnitFeedback, UnitResponse
from onedoor.domain.labels import (
    Backstop, Category, ClockBasis, ClockName, ClockStatus, HandlingMode, Level, MediationOutcome, Result, RiskGrade, Source, Stage,
)

OPEN_CLOCK = (ClockStatus.RUNNING, ClockStatus.PAUSED)


class Pause(BaseModel):
    at: datetime
    by: str
    reason: str
    resumed_at: datetime | None = None
    until: datetime | None = None  # revision 9: when it resumes by itself
    stopped: list[int] = []  # revision 9: the ids of the clocks it stopped (the case's pause; each clock lists its own)


class DeadlineChange(BaseModel):
    at: datetime
    by: str
    reason: str
    old_due: datetime
    new_due: datetime


class Clock(BaseModel):
    id: int = 0  # its place in the case's list of clocks: keys the register's writes about it
    name: ClockName
    unit_code: str | None = None
    level: Level | None = None
    basis: ClockBasis = ClockBasis.NATURAL
    started_at: datetime
    due_at: datetime
    remind_at: datetime | None = None
    later_reminders: list[datetime] = []  # revision 9: the further reminder thresholds, in order
    status: ClockStatus = ClockStatus.RUNNING
    remaining: timedelta | None = None  # kept while paused; filled in for every open clock by the query
    reminded_at: datetime | None = None
    breached_at: datetime | None = None
    done_at: datetime | None = None
    calendar_note: str | None = None
    moved_on: bool = False  # breached, and the case has moved on (escalated, closed): still waits for the late answer, no longer late now
    pauses: list[Pause] = []
    extensions: list[DeadlineChange] = []

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CLOCK


class Assignment(BaseModel):
    """One unit's part in the case at one level (联合调处: the lead and each co-unit)."""

    unit_code: str
    lead: bool
    level: Level
    dispatched_at: datetime
    delivery: str | None = None
    response: UnitResponse | None = None
    feedback: UnitFeedback | None = None


class Escalation(BaseModel):
    at: datetime
    from_level: Level
    to_level: Level | None
    reason: str
    by: str


class SupervisionOrder(BaseModel):
    """督办: raised to the level above when a clock breaches, or ordered by a higher center's supervisor."""

    at: datetime
    clock: ClockName | None = None  # None: ordered by a supervisor, not by a breach
    unit_code: str | None
    to_level: Level | None
    order: str
    by: str | None = None  # the supervisor who ordered it


class HandoverRecord(BaseModel):
    """交办: a higher center assigned the case down and keeps watching it."""

    at: datetime
    from_level: Level
    to_level: Level
    by: str
    reason: str
    watched_by: str = Field(description="the higher center's code")


class PartnerLink(BaseModel):
    """跨省协作: the partner center in another province, told of the case, answering on its own clock."""

    partner_code: str
    province_code: str
    notified_at: datetime
    delivery: str | None = None
    replied_at: datetime | None = None
    joint_mediation: bool | None = None
    mediator: str | None = None
    note: str | None = None


class GradeChange(BaseModel):
    at: datetime
    grade: RiskGrade
    reasons: list[str]
    by: str


class Session(BaseModel):
    held_on: date
    mode: HandlingMode
    notes: str


class Mediation(BaseModel):
    level: Level
    mediator_id: str
    mediator_name: str
    gold: bool
    started_at: datetime
    sessions: list[Session] = []
    outcome: MediationOutcome | None = None
    terms: str | None = None
    performance_due: date | None = None
    reason: str | None = None
    concluded_at: datetime | None = None


class Alert(BaseModel):
    """应急处置: a red case alerts the command center and the level's leader."""

    center_code: str
    level: Level
    leader: str
    at: datetime
    due_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class Referral(BaseModel):
    kind: Backstop
    body_code: str
    sent_at: datetime
    delivery: str | None = None
    reference: str | None = None
    accepted_at: datetime | None = None


class Confirmation(BaseModel):
    court_code: str | None = None
    applied_at: datetime | None = None
    applicant: str | None = None
    confirmed: bool | None = None
    reference: str | None = None
    decided_at: datetime | None = None


class Visit(BaseModel):
    at: datetime
    visitor: str
    satisfied: bool
    notes: str


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
    grade_history: list[GradeChange] = []
    level: Level | None = None
    jurisdiction_code: str | None = None
    centers: dict[Level, str] = {}
    leaders: dict[str, list[str]] = {}
    lead_unit: str | None = None
    assignments: list[Assignment] = []
    clocks: list[Clock] = []
    paused: Pause | None = None
    mediations: list[Mediation] = []
    escalations: list[Escalation] = []
    supervision_orders: list[SupervisionOrder] = []
    alerts: list[Alert] = []
    referral: Referral | None = None
    confirmation: Confirmation | None = None
    handovers: list[HandoverRecord] = []
    partner: PartnerLink | None = None
    incident_id: str | None = None  # 警情流转: the police incident the case came from
    linked_incidents: list[str] = []  # further incidents about the same parties
    joined_registrations: list[str] = []  # 重复来访: the client request ids of further registrations about the same parties
    related_open_cases: list[str] = []  # the parties' other open cases when this one was registered apart from them
    separate_reason: str | None = None  # why it was (另案登记理由)
    result: Result | None = None
    result_note: str | None = None
    closed_at: datetime | None = None
    visits: list[Visit] = []
    steps: list[Step] = []

    def clock(self, name: ClockName, unit_code: str | None = None) -> Clock | None:
        """The newest clock of that name (and unit)."""
        matching = [c for c in self.clocks if c.name == name and c.unit_code == unit_code]
        return matching[-1] if matching else None

    def assignment(self, unit_code: str) -> Assignment | None:
        """The unit's newest assignment on the case."""
        matching = [a for a in self.assignments if a.unit_code == unit_code]
        return matching[-1] if matching else None

    @property
    def mediation(self) -> Mediation | None:
        return self.mediations[-1] if self.mediations else None

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property (python/mypy#1362); pydantic documents this ignore
    @property
    def next_deadline(self) -> datetime | None:
        return min((c.due_at for c in self.clocks if c.status == ClockStatus.RUNNING), default=None)

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type a decorated property (python/mypy#1362); pydantic documents this ignore
    @property
    def overdue(self) -> bool:
        """A clock is late now: breached, and the case still waits on what it measures (not one the case has moved on from)."""
        return any(c.status == ClockStatus.BREACHED and not c.moved_on for c in self.clocks)
