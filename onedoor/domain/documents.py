"""The versioned documents onedoor sends to outside systems, and the callbacks it accepts.

Each document names its format in ``schema_version`` (``onedoor.<name>/v<n>``): a change that a
receiver would notice is a new version, and docs/contracts.md renders every one of them (its contract
test fails when the models and that page drift apart).
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator

from onedoor.domain.bounds import InYears
from onedoor.domain.case import IncidentRef, Intake, Party, Place, RiskFactors, Strict, Text
from onedoor.domain.labels import Audience, Backstop, Category, Level, PoliceStatus, RiskGrade, Source

CLOCK_SKEW = timedelta(minutes=5)  # the police platform's clock may run a little ahead of ours


class DispatchDocument(BaseModel):
    """一键派单: the case as the lead unit or a co-unit receives it."""

    schema_version: Literal["onedoor.dispatch/v1"] = "onedoor.dispatch/v1"
    case_no: str = Field(description="案件编号 case number, e.g. 139001-2026-000042")
    unit_code: str = Field(description="the receiving unit")
    lead: bool = Field(True, description="true: the lead unit (牵头); false: a co-unit (协办, 联合调处)")
    level: Level | None = Field(None, description="the level whose center dispatched it")
    lead_unit: str | None = Field(None, description="the unit that leads (牵头) at this level: the recipient itself when lead is true")
    co_units: list[str] = Field([], description="the co-units (协办) dispatched with it at this level, the recipient left out")
    category: Category = Field(description="纠纷类型")
    grade: RiskGrade = Field(description="红黄蓝 risk grade")
    grade_reasons: list[str] = Field(description="why the grade (中文)")
    summary: str = Field(description="纠纷简要情况 what the dispute is about")
    place: Place = Field(description="where the dispute arose")
    parties: list[Party] = Field(description="当事人 the parties (personal data)")
    respond_by: datetime = Field(description="响应时限: respond (API, or callback kind response) before this")
    feedback_by: datetime = Field(description="反馈时限: report how it was handled (kind feedback) before this")

    @property
    def recipient(self) -> str:
        return self.unit_code


class ReferralDocument(BaseModel):
    """司法兜底: what a backstop body (arbitration, court, legal aid, notary) receives."""

    schema_version: Literal["onedoor.referral/v1"] = "onedoor.referral/v1"
    case_no: str = Field(description="案件编号 case number, e.g. 139001-2026-000042")
    body_code: str = Field(description="the receiving body: arbitration commission, court, legal aid center or notary office")
    kind: Backstop = Field(description="what the referral asks for")
    category: Category = Field(description="纠纷类型")
    summary: str = Field(description="纠纷简要情况 what the dispute is about")
    place: Place = Field(description="where the dispute arose")
    parties: list[Party] = Field(description="当事人 the parties (personal data)")
    mediation_history: list[str] = Field(description="each level's mediation outcome and reason")
    accept_by: datetime = Field(description="转介受理时限: accept (kind referral_acceptance, with your reference) before this")

    @property
    def recipient(self) -> str:
        return self.body_code


class PoliceStatusDocument(BaseModel):
    """警情流转 back to the police platform: each status change of a case it transferred, numbered
    from 1 so the platform can see it has every one, in order."""

    schema_version: Literal["onedoor.police-status/v1"] = "onedoor.police-status/v1"
    platform_code: str = Field(description="the police platform's unit code in our directory")
    incident_id: str = Field(description="警情编号, as the platform sent it")
    case_no: str = Field(description="案件编号 case number, e.g. 139001-2026-000042")
    seq: int = Field(ge=1, description="1, 2, 3 … per case: sent in this order, each once acknowledged")
    status: PoliceStatus = Field(description="the case's new status, as the platform records it")
    at: datetime = Field(description="when the case changed")
    note: str = Field(description="中文说明 what happened, for the police officer")
    unit_code: str | None = Field(None, description="the lead unit, once dispatched")

    @property
    def recipient(self) -> str:
        return self.platform_code


class PartnerNoticeDocument(BaseModel):
    """跨省协作: the partner center in the party's province is told of the case and asked to mediate jointly."""

    schema_version: Literal["onedoor.partner-notice/v1"] = "onedoor.partner-notice/v1"
    partner_code: str = Field(description="the partner center's unit code in our directory")
    province_code: str = Field(description="the partner's province (GB/T 2260, e.g. 37 山东)")
    case_no: str = Field(description="案件编号 case number, e.g. 139001-2026-000042")
    center_code: str = Field(description="our center handling the case")
    category: Category = Field(description="纠纷类型")
    grade: RiskGrade = Field(description="红黄蓝 risk grade")
    summary: str = Field(description="纠纷简要情况 what the dispute is about")
    place: Place = Field(description="where the dispute arose")
    parties: list[Party] = Field(description="当事人 the parties (personal data)")
    reply_by: datetime = Field(description="跨省协作回复时限: reply (kind partner_reply) before this")

    @property
    def recipient(self) -> str:
        return self.partner_code


class SupervisionDocument(BaseModel):
    """督办: a supervision order (from a breach or from a higher center) as the unit receives it."""

    schema_version: Literal["onedoor.supervision/v1"] = "onedoor.supervision/v1"
    case_no: str = Field(description="案件编号 case number, e.g. 139001-2026-000042")
    unit_code: str = Field(description="the supervised unit")
    order: str = Field(description="督办内容 the order, in Chinese")
    by: str = Field(description="the center or supervisor who issued it")
    at: datetime = Field(description="when it was issued")

    @property
    def recipient(self) -> str:
        return self.unit_code


Document = Annotated[
    DispatchDocument | ReferralDocument | PoliceStatusDocument | PartnerNoticeDocument | SupervisionDocument,
    Field(discriminator="schema_version"),
]


class NotificationDocument(BaseModel):
    """What the webhook notification adapter POSTs: one notice to one recipient."""

    schema_version: Literal["onedoor.notification/v1"] = "onedoor.notification/v1"
    key: str = Field(description="idempotency key: the same notice is never counted twice")
    case_no: str | None = Field(None, description="the case the notice is about, if any")
    audience: Audience = Field(description="who the notice is for")
    recipient: str = Field(description="a unit code, a leader's name, a center code (operators), or the party's name")
    kind: str = Field(description="intake, progress, closed, reminder, breach, supervision, fallback, rejected, alert …")
    text: str = Field(description="中文 message as the recipient reads it")
    at: datetime = Field(description="when it was sent")


class UnitCallback(BaseModel):
    """A unit's (or a body's, or a partner's) system answering through our signed webhook
    ``POST /callbacks/{unit_code}``: lands as the same workflow update as the API's route."""

    schema_version: Literal["onedoor.callback/v1"] = "onedoor.callback/v1"
    kind: Literal["response", "feedback", "referral_acceptance", "partner_reply"] = Field(description="what the callback answers: the update it lands as")
    case_no: Annotated[Text, StringConstraints(max_length=32)] = Field(description="案件编号 case number")
    handler: Annotated[Text, StringConstraints(max_length=64)] | None = Field(None, description="承办人 (response, feedback)")
    summary: Annotated[Text, StringConstraints(max_length=4000)] | None = Field(None, description="处理情况 (feedback) or the partner's note")
    reference: Annotated[Text, StringConstraints(max_length=64)] | None = Field(None, description="the body's own reference (referral_acceptance)")
    joint_mediation: bool | None = Field(None, description="partner_reply: the partner mediates jointly")
    mediator: Annotated[Text, StringConstraints(max_length=64)] | None = Field(None, description="partner_reply: the partner's mediator")


class PoliceIncidentDocument(Strict):
    """警情流转 inbound: a dispute-type incident (纠纷类警情) as the police platform transfers it
    (``POST /incidents`` with the platform's API key)."""

    schema_version: Literal["onedoor.police-incident/v1"] = "onedoor.police-incident/v1"
    # At most 57 characters, so its intake request id police-<id> fits the register's 64.
    incident_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_-]{1,57}$")] = Field(
        description="警情编号: sending the same incident again gives the same case"
    )
    reported_at: Annotated[AwareDatetime, InYears] = Field(description="接警时间, with its UTC offset")
    place: Place
    category: Category
    summary: Annotated[Text, StringConstraints(max_length=4000)] = Field(description="简要警情")
    parties: list[Party] = Field(min_length=1, max_length=500)
    factors: RiskFactors = Field(default_factory=RiskFactors, description="as far as the police know; the incident itself counts as one police call")
    household_address: Annotated[Text, StringConstraints(max_length=200)] | None = Field(None, description="家庭住址, for a family dispute")

    @field_validator("reported_at")
    @classmethod
    def not_in_the_future(cls, reported_at: datetime) -> datetime:
        if reported_at > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("接警时间不能晚于当前时间 (in the future)")
        return reported_at.astimezone(UTC)  # UTC inside: the register compares it with its own times

    def intake(self) -> Intake:
        calls = max(1, self.factors.police_calls_30d)
        return Intake(
            source=Source.POLICE,
            category=self.category,
            summary=self.summary,
            place=self.place,
            parties=self.parties,
            factors=self.factors.model_copy(update={"police_calls_30d": calls}),
            household_address=self.household_address,
            incident=IncidentRef(incident_id=self.incident_id, reported_at=self.reported_at),
        )


# Every format onedoor sends out or accepts from outside: docs/contracts.md renders these.
CONTRACTS: list[type[BaseModel]] = [
    DispatchDocument, ReferralDocument, PoliceStatusDocument, PartnerNoticeDocument, SupervisionDocument, NotificationDocument, UnitCallback,
    PoliceIncidentDocument,
]


