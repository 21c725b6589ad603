"""Decisions people make on a case. Each arrives as a workflow update; its validator checks the
actor and the case's stage, so a decision out of turn or from the wrong party is refused."""

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from onedoor.domain.case import Code, Name, Note, Strict, Text
from onedoor.domain.labels import Backstop, ClockName, HandlingMode, Level, MediationOutcome, RiskGrade, Role, Source


class SignedIn(BaseModel):
    """The signed-in user a decision is bound to: the audit's who, and what the case checks they may do.
    The name a person types in a decision stays its display name."""

    user_id: str
    role: Role
    jurisdiction_code: str | None = None


class Decision(Strict):
    # Set by the API from the caller's key, whatever the body says; absent in histories recorded before it.
    signed_in: SkipJsonSchema[SignedIn | None] = None


class UnitResponse(Decision):
    """响应: the unit acknowledges the dispatch and names who handles it."""

    unit_code: Code
    handler: Name = Field(description="承办人")
    note: Note | None = None


class UnitFeedback(Decision):
    """反馈: the unit reports how it handled the case."""

    unit_code: Code
    handler: Name
    summary: Note = Field(description="处理情况")


class GradeOverride(Decision):
    """An operator sets the grade by hand, with a reason."""

    operator: Name
    grade: RiskGrade
    reason: Note


class NewFacts(Decision):
    """New facts that re-grade the case."""

    reporter: Name
    police_calls: int = Field(0, ge=0, le=100, description="further police calls about the parties")
    mediation_failed: bool = False
    high_social_impact: bool = False
    note: Note


class PauseRequest(Decision):
    """Waiting on a party: the running clocks the policy names stop and keep their remaining time
    (from revision 9; before, every running clock)."""

    actor: Name
    reason: Note
    until: datetime | None = Field(
        None, description="暂停至: the clocks resume by themselves then, with a notice (e.g. the party brings documents by Friday); "
        "at most the policy's longest pause, which is also when a pause without it ends"
    )


class ResumeRequest(Decision):
    actor: Name
    note: Note | None = None


class Extension(Decision):
    """A supervisor moves a deadline."""

    supervisor: Name
    clock: ClockName
    unit_code: Code | None = Field(None, description="for a unit's response or feedback clock")
    by: timedelta = Field(gt=timedelta(0), le=timedelta(days=180), description="seconds or ISO 8601 duration")
    reason: Note


class MediationSession(Decision):
    mediator_id: Code
    held_on: date
    mode: HandlingMode
    notes: Note


class MediationResult(Decision):
    mediator_id: Code
    outcome: MediationOutcome
    terms: Note | None = Field(None, description="协议内容 (agreement)")
    performance_due: date | None = Field(None, description="履行期限 (agreement)")
    seek_confirmation: bool = Field(False, description="parties intend to apply for judicial confirmation")
    backstop: Backstop | None = Field(None, description="where a failed or refused case goes, if not by category")
    reason: Note | None = None

    @model_validator(mode="after")
    def agreement_has_terms(self):
        if self.outcome == MediationOutcome.AGREEMENT and not self.terms:
            raise ValueError("terms: 达成协议须填写协议内容 (an agreement needs its terms)")
        if self.outcome != MediationOutcome.AGREEMENT and not self.reason:
            raise ValueError("reason: 须说明原因 (say why)")
        return self


class ConsentedExtension(Decision):
    """调解延期: only with both parties' recorded consent."""

    mediator_id: Code
    applicant_consents: bool
    respondent_consents: bool
    by: timedelta = Field(gt=timedelta(0), le=timedelta(days=90))
    reason: Note


class AlertAcknowledgement(Decision):
    center_code: Code
    leader: Name


class ReferralAnswer(Decision):
    body_code: Code
    reference: Annotated[Text, StringConstraints(max_length=64)] = Field(description="the body's own case reference")


class ConfirmationApplication(Decision):
    applicant: Name
    court_code: Code


def applied_to(court_code: str) -> str:
    """The words of the step that records an application for judicial confirmation (workflows/dispute_case.py).
    The register's scope for the court reads the step's body_code, not these (the note is sealed);
    migration 0013 read them once, to fill body_code for the steps written before."""
    return f"已向 {court_code} 申请司法确认"


class CourtDecision(Decision):
    court_code: Code
    confirmed: bool
    reference: Annotated[Text, StringConstraints(max_length=64)]
    reason: Note | None = None


class ReturnVisit(Decision):
    visitor: Name
    satisfied: bool
    notes: Note
    escalate: bool = Field(False, description="unsatisfied: reopen one level up instead of at the same level")


class Decline(Decision):
    """不予受理: the center does not take the case, with the reason."""

    operator: Name
    reason: Note


class PartnerReply(Decision):
    """跨省协作: the partner center across the border answers the notice, and may mediate jointly."""

    partner_code: Code
    joint_mediation: bool = Field(description="the partner takes part in joint mediation (联合调解)")
    mediator: Name | None = Field(None, description="the partner's mediator, for joint mediation")
    note: Note


class SupervisionRequest(Decision):
    """督办 from above: a supervisor of a higher center orders the unit (or the level) to act."""

    supervisor: Name
    unit_code: Code | None = Field(None, description="the unit ordered; the handling level's lead unit when empty")
    order: Note


class Handover(Decision):
    """交办: a higher center assigns the case down to a lower level, and keeps watching it."""

    supervisor: Name
    to_level: Level
    reason: Note


class LevelUp(Decision):
    """提级: a supervisor lifts the case to the next level up the ladder, e.g. after a breach kept in place."""

    supervisor: Name
    reason: Note


class IncidentLink(Decision):
    """A further police incident about the same parties joins the open case and re-grades it."""

    incident_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_-]{1,64}$")]
    reported_at: datetime
    summary: Note


class RepeatVisit(Decision):
    """重复来访: a further registration about the same parties (window, hotline, online) joins their
    open case instead of opening one; it counts one more visit and re-grades the case."""

    request_id: Annotated[Text, StringConstraints(max_length=64)] = Field(description="the registration's client_request_id: it joins once")
    source: Source
    summary: Note
    operator: Name = Field(description="who registered it")
