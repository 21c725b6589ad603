"""What the API returns. Times leave the API in Beijing time (Asia/Shanghai); inside they are UTC."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from onedoor.domain.case import Intake, Text
from onedoor.domain.case_number import PATTERN as CASE_NUMBER
from onedoor.domain.timezone import as_shanghai
from onedoor.store.incidents import POLICE_REQUEST_PREFIX


def in_beijing_time(value):
    """The same value with every datetime in it shown in Asia/Shanghai."""
    if isinstance(value, datetime):
        return as_shanghai(value)
    if isinstance(value, BaseModel):
        return value.model_copy(update={name: in_beijing_time(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, list):
        return [in_beijing_time(item) for item in value]
    return value


class InputError(BaseModel):
    """One bad input, as FastAPI's validation names it, without the input it echoed (it may hold a
    party's personal data)."""

    model_config = ConfigDict(extra="allow")  # ctx: the bound the value broke (max_length, pattern…)

    loc: list[str | int] = Field(description="where: path, query, header or body, then the field's path")
    msg: str
    type: str


class Problem(BaseModel):
    """Every refusal and failure the API answers (4xx, 5xx): one sentence in Chinese naming the
    field, English beside; a 422 also lists each bad input."""

    detail: str = Field(description="说明：中文，点名出错的字段 (what is wrong, naming the field)")
    errors: list[InputError] | None = Field(None, description="422 only: each bad input (FastAPI's list without the echoed input)")


class NewCase(Intake):
    client_request_id: Annotated[Text, StringConstraints(min_length=8, max_length=64)] = Field(
        description="chosen by the client for this registration; sending it again returns the same case"
    )
    join_case: Annotated[str, StringConstraints(strip_whitespace=True, pattern=CASE_NUMBER.pattern)] | None = Field(
        None, description="并入案件: when the parties have open cases (409), the one this registration is about: it joins it (重复来访) instead of opening a case"
    )

    @field_validator("client_request_id")
    @classmethod
    def not_an_incident_id(cls, value: str) -> str:
        if value.startswith(POLICE_REQUEST_PREFIX):
            raise ValueError(f"以 {POLICE_REQUEST_PREFIX} 开头的编号留给警情流转 (reserved for police incidents)")
        return value

    @field_validator("incident")
    @classmethod
    def no_incident(cls, value):
        if value is not None:
            raise ValueError("警情只能经 POST /incidents 转入 (police incidents come through POST /incidents)")
        return value

    @field_validator("join_case")
    @classmethod
    def join_or_separate(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("separate_reason") is not None:
            raise ValueError("并入已有案件与另案登记（separate_reason）只能择一 (join a case or register apart, not both)")
        return value


class RelatedCase(BaseModel):
    """An open case about the same parties (a party's ID number, or name and phone, matches)."""

    case_no: str
    category: str
    township_code: str
    township_name: str | None
    received_at: datetime


class CaseCreated(BaseModel):
    case_no: str
    received_at: datetime = Field(description="when the case was received (joined: the case joined)")
    url: str
    joined: bool = Field(False, description="the registration joined an open case about the same parties (join_case) instead of opening one")
    related_open_cases: list[RelatedCase] = Field(
        default_factory=list, description="registered apart (separate_reason): the open cases about the same parties received before it"
    )


class RegistrationConflict(Problem):
    """409 on a registration: its client_request_id was used for another; or the parties have open
    cases (listed) and it says neither join_case nor separate_reason."""

    detail: str
    related_open_cases: list[RelatedCase] = Field(default_factory=list, description="the open cases about the same parties, newest first")


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    note: str


class RegisterClock(BaseModel):
    clock_id: int
    name: str
    unit_code: str | None
    level: str | None
    basis: str
    started_at: datetime
    due_at: datetime
    status: str
    remaining_seconds: int | None
    reminded_at: datetime | None
    breached_at: datetime | None
    done_at: datetime | None


class RegisterRecord(BaseModel):
    """The register's row for a case: each step's timestamp, and its timeline."""

    case_no: str
    stage: str
    grade: str | None
    level: str | None
    jurisdiction_code: str | None
    lead_unit: str | None
    mediator_id: str | None
    result: str | None
    received_at: datetime
    triaged_at: datetime | None
    dispatched_at: datetime | None
    responded_at: datetime | None
    feedback_at: datetime | None
    closed_at: datetime | None
    settled_at: datetime | None
    next_deadline: datetime | None
    overdue: bool
    escalation_count: int
    clocks: list[RegisterClock]
    timeline: list[TimelineEntry]


class Pending(BaseModel):
    """A decision accepted and still taking effect: where to read the case."""

    detail: str
    case_no: str
    url: str


class AuditRecord(BaseModel):
    at: datetime
    actor: str = Field(description="the name given with the change (a person's, a unit's code, the channel, or 系统)")
    role: str
    user_id: str | None = Field(None, description="the signed-in user the change is bound to (None: the system's own step)")
    user_role: str | None = None
    user_jurisdiction: str | None = None
    action: str
    before: dict
    after: dict


class SupervisionRecord(BaseModel):
    clock: str
    unit_code: str | None
    from_level: str
    to_level: str | None
    due_at: datetime
    issued_at: datetime
    text: str


class DocumentRecord(BaseModel):
    """A document sent to an outside system: its metadata, not its content (the content is the case file)."""

    kind: str = Field(description="dispatch 派单 or referral 转介")
    recipient: str
    at: datetime
    receipt: str


class CaseArchive(RegisterRecord):
    """人民调解法 §27: the case file kept for the record — every step, every document sent, the outcome."""

    schema_version: Literal["onedoor.archive/v1"] = "onedoor.archive/v1"
    source: str
    category: str
    township_code: str
    village_code: str | None
    summary: str
    parties: list[dict]
    satisfied: bool | None
    household_id: str | None
    supervision_orders: list[SupervisionRecord]
    documents: list[DocumentRecord]
    audit: list[AuditRecord]
    archived_at: datetime
