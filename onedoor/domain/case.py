"""What an operator registers about a dispute, and the case file a workflow carries."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from onedoor.domain.calendar import CaseCalendars
from onedoor.domain.labels import Category, Source, VulnerableGroup
from onedoor.domain.policy import Policy
from onedoor.domain.revisions import LATEST



def without_nul(text: str) -> str:
    # PostgreSQL refuses a NUL character in text: refused here, naming the field, not by the register as a 500.
    if "\x00" in text:
        raise ValueError("不得含 NUL 字符 (NUL character)")
    return text


# Every free text a person types: bounded (a note's length at most; names and the like bound it
# further) and without NUL. A field of this type cannot forget either.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), AfterValidator(without_nul)]
Note = Text  # a person's own words: the longest a text may be
Name = Annotated[Text, StringConstraints(max_length=64)]  # a person's, a unit's or a body's name, a reference
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_-]{1,32}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Party(Strict):
    """当事人. Personal data: it never goes into search attributes, summaries or logs."""

    name: Annotated[Text, StringConstraints(max_length=64)] = Field(description="姓名或单位名称 name of the person or organisation")
    role: Annotated[str, StringConstraints(pattern="^(applicant|respondent|other)$")] = Field("applicant", description="申请人 applicant, 被申请人 respondent, other")
    id_number: Annotated[str, StringConstraints(pattern=r"^\d{17}[\dXx]$")] | None = Field(None, description="居民身份证号码 (18 characters)")
    phone: Annotated[str, StringConstraints(pattern=r"^\+?\d{5,15}$")] | None = Field(None, description="联系电话")
    address: Annotated[Text, StringConstraints(max_length=200)] | None = Field(None, description="住址")
    province_code: Annotated[str, StringConstraints(pattern=r"^\d{2}$")] | None = Field(
        None, description="省级行政区划代码 of the party's address (GB/T 2260, e.g. 37 山东): another province makes the case cross-province"
    )


class Place(Strict):
    """Where the dispute arose: the township always, the village or community when known."""

    township_code: Code = Field(description="乡镇/街道代码 in the directory")
    village_code: Code | None = Field(None, description="村/社区代码 in the directory, when known")


class RiskFactors(Strict):
    """The facts grading (红黄蓝) reads: nature, scale, mediation difficulty, social impact."""

    violence_risk: bool = Field(False, description="有暴力或极端行为风险 risk of violence or an extreme act")
    criminal_risk: bool = Field(False, description="民转刑风险 risk of a civil dispute turning criminal")
    people_involved: int = Field(1, ge=1, le=100_000, description="涉及人数")
    amount_at_stake: Decimal = Field(Decimal(0), ge=0, le=10**12, description="涉及金额 (元 CNY)")
    prior_mediation_failed: bool = Field(False, description="此前调解未成")
    prior_visits: int = Field(0, ge=0, le=1000, description="此前就同一事项来访次数")
    police_calls_30d: int = Field(0, ge=0, le=1000, description="30 日内涉同一当事人警情次数")
    high_social_impact: bool = Field(False, description="媒体/网络曝光等重大社会影响")
    vulnerable_groups: list[VulnerableGroup] = Field(default_factory=list, description="弱势群体")


class IncidentRef(Strict):
    """警情流转: the police incident a case came from; statuses go back to the platform under its id."""

    incident_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_-]{1,64}$")]
    reported_at: datetime


class Intake(Strict):
    """统一受理: one registration of a dispute, from any source."""

    source: Source
    category: Category
    summary: Note = Field(description="纠纷简要情况")
    place: Place
    parties: list[Party] = Field(min_length=1, max_length=500)
    factors: RiskFactors = Field(default_factory=RiskFactors)
    legal_aid_eligible: bool = Field(False, description="当事人符合法律援助条件 (economic hardship etc.)")
    household_address: Annotated[Text, StringConstraints(max_length=200)] | None = Field(
        None, description="家庭住址: when the dispute concerns a family; with the place it identifies the household's file (家庭和谐服务档案)"
    )
    incident: IncidentRef | None = Field(None, description="set by the police incident feed (POST /incidents), not by operators")
    separate_reason: Note | None = Field(
        None, description="另案登记理由: the parties have an open case and this is a different matter (POST /cases answers 409 without it, or join_case)"
    )


class CaseFile(BaseModel):
    """The workflow's single input: add fields with defaults so running cases keep decoding."""

    case_no: str
    intake: Intake
    received_at: datetime
    policy: Policy = Field(description="policy in force at intake; later policy changes apply to new cases only")
    revision: int = Field(1, description="the workflow behaviour the case was started with: running cases keep theirs (see REVISION)")
    calendars: CaseCalendars | None = Field(
        None, description="revision 9: the working calendars in force at intake (the county's, its centers'), as the register and the holiday library had them"
    )
    related_open_cases: list[str] = Field(default_factory=list, description="the open cases about the same parties when it was registered apart from them")

    def separation(self) -> str:
        """What the intake's note adds when the parties had other open cases: which, and why this one stands apart."""
        if not self.related_open_cases:
            return ""
        return f"；当事人另有未结案件 {'、'.join(self.related_open_cases)}，另案登记：{self.intake.separate_reason}"


REVISION = LATEST  # the revision new cases start at: what each changed is in domain/revisions.py
