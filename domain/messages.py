"""What workflows hand to activities and get back: the contracts of every side effect."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from domain.case import Party, Place
from domain.labels import Category, ClockName, Level, RiskGrade, Stage


class StepRecord(BaseModel):
    """One step for the register: a timeline row keyed (case_no, key), and the row's new values.

    ``stage`` is the case's new stage, or None for a step that does not move it (a delivery).
    """

    case_no: str
    key: str
    kind: str
    stage: Stage | None
    at: datetime
    note: str
    grade: RiskGrade | None = None
    level: Level | None = None
    jurisdiction_code: str | None = None
    lead_unit: str | None = None
    next_deadline: datetime | None = None
    overdue: bool | None = None


class RouteRequest(BaseModel):
    case_no: str
    grade: RiskGrade
    category: Category
    place: Place


class DispatchDocument(BaseModel):
    """The versioned document a unit's system receives (一键派单)."""

    schema_version: Literal["onedoor.dispatch/v1"] = "onedoor.dispatch/v1"
    case_no: str
    unit_code: str
    category: Category
    grade: RiskGrade
    grade_reasons: list[str]
    summary: str
    place: Place
    parties: list[Party]
    respond_by: datetime
    feedback_by: datetime


class DispatchOrder(BaseModel):
    idempotency_key: str
    document: DispatchDocument


class DispatchReceipt(BaseModel):
    unit_code: str
    status_code: int
    unit_reference: str | None = None


class BreachNotice(BaseModel):
    """A clock ran out: the supervision order (督办) goes to the level above the handling one."""

    case_no: str
    clock: ClockName
    unit_code: str
    due_at: datetime
    breached_at: datetime
    from_level: Level
    to_level: Level | None
    order: str
