"""What workflows hand to activities and get back: the contracts of every side effect."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from onedoor.domain.case import Place
from onedoor.domain.decisions import SignedIn
from onedoor.domain.documents import Document
from onedoor.domain.labels import Audience, Backstop, Category, Channel, Level, Result, RiskGrade, Stage, UnitKind
from onedoor.domain.routing import Route
from onedoor.domain.state import Clock


class PriorityChange(BaseModel):
    """The case's tasks and activities queue at this key from now on (its grade's: domain.grading.QUEUE_PRIORITY)."""

    case_no: str
    priority_key: int = Field(ge=1, le=5)


class StepParts(BaseModel):
    """What a paper prints on its own lines from a step whose note says it in one sentence: an
    agreement's terms and the date they are performed by (调解协议书, 人民调解法 §29), a refusal's
    reason (不予受理告知书), a supervisor's order (督办单), the clocks a dispatch started (派单/转办单).
    Sealed in the register, as the note is."""

    terms: str | None = None
    performance_due: date | None = None
    reason: str | None = None
    order: str | None = None
    clocks: list[int] | None = Field(None, description="a dispatch's response and feedback clocks by id, the lead unit's first")


class StepRecord(BaseModel):
    """One step for the register: a timeline row keyed (case_no, seq), and the row's new values.

    ``stage`` is the case's new stage, or None for a step that does not move it (a delivery).
    """

    case_no: str
    seq: int
    kind: str
    stage: Stage | None
    at: datetime
    note: str
    grade: RiskGrade | None = None
    level: Level | None = None
    jurisdiction_code: str | None = None
    lead_unit: str | None = None
    mediator_id: str | None = None
    result: Result | None = None
    next_deadline: datetime | None = None
    overdue: bool | None = None
    escalation_count: int = 0
    satisfied: bool | None = None
    clocks: list[Clock] = []
    actor: str = Field("系统", description="who made the change: a person, a unit code or the system's timers")
    role: str = Field("system", description="operator, unit, mediator, supervisor, leader, court, body, visitor or system")
    signed_in: SignedIn | None = Field(None, description="the signed-in user who took the decision (None: the system, or a history before it)")
    before: dict = Field({}, description="the case's fields this step changed, as they were")
    after: dict = Field({}, description="the same fields as they are now")
    body_code: str | None = Field(None, description="the body or unit the step was addressed to (the court a confirmation was applied to, the unit a supervisor ordered)")
    parts: StepParts | None = Field(None, description="the step's words a paper prints apart (None: the note says it all, or a history before them)")

    @property
    def key(self) -> str:
        return f"{self.seq:04d}-{self.kind}"


class RouteRequest(BaseModel):
    case_no: str
    grade: RiskGrade
    category: Category
    place: Place
    level: Level | None = Field(None, description="route at this level; by the grade when None")


class Routing(BaseModel):
    route: Route
    centers: dict[Level, str] = Field(description="the centers above the place, by level")
    leaders: dict[str, list[str]] = Field({}, description="each center's leaders, duty leader first")
    names: dict[str, str] = Field({}, description="the directory's names of the centers and units, by code (what the Temporal UI shows beside codes)")


class MediatorRequest(BaseModel):
    case_no: str
    jurisdiction_code: str
    gold_first: bool
    exclude: list[str] = []


class MediatorPick(BaseModel):
    mediator_id: str
    name: str
    gold: bool


class BackstopRequest(BaseModel):
    case_no: str
    kind: Backstop
    centers: dict[Level, str]


class DispatchOrder(BaseModel):
    """One document for one outside system (the gateway's input), under one idempotency key."""

    idempotency_key: str
    document: Document

    @property
    def recipient(self) -> str:
        return self.document.recipient


class DispatchReceipt(BaseModel):
    unit_code: str
    status_code: int
    unit_reference: str | None = None
    channel: Channel = Channel.WEBHOOK  # inbox: nothing was sent, the unit works from its inbox


class Notice(BaseModel):
    """One notification for the notification port (log, webhook, SMS), once per idempotency key."""

    key: str
    case_no: str | None = None
    audience: Audience
    recipient: str = Field(description="unit code, leader's name, center code (operators) or the party's name")
    phone: str | None = Field(None, description="a party's phone, for SMS; personal data, masked in logs")
    kind: str
    text: str


class ClockNotice(BaseModel):
    """A reminder (催办) at the clock's reminder point; a breach and its supervision order (督办);
    or a lapse: a deadline of the parties' own ran out, which no unit is blamed for."""

    case_no: str
    kind: Literal["reminder", "breach", "lapse"]
    clock_id: int
    clock: Clock
    to_level: Level | None = None
    text: str
    nth: int = Field(1, description="which of the clock's reminders (revision 9: several thresholds)")


class AlertNotice(BaseModel):
    """应急处置: the command center and the leader of a center are alerted about a red case."""

    case_no: str
    center_code: str
    leader: str
    level: Level
    at: datetime
    due_at: datetime
    text: str


class LinkRequest(BaseModel):
    """Which outside system plays a part: the police platform, or the partner center of a province."""

    case_no: str
    kind: UnitKind
    province_code: str | None = None


class LinkPick(BaseModel):
    unit_code: str | None = Field(None, description="None: the directory has no such system")
