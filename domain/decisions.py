"""Decisions people make on a case. Each arrives as a workflow update; its validator checks the
actor and the case's stage, so a decision out of turn or from the wrong party is refused."""

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from domain.case import Code, Note, Strict, Text
from domain.labels import Backstop, ClockName, HandlingMode, Level, MediationOutcome, RiskGrade, Source

Name = Annotated[Text, StringConstraints(max_length=64)]


class UnitResponse(Strict):
    """响应: the unit acknowledges the dispatch and names who handles it."""

    unit_code: Code
    handler: Name = Field(description="承办人")
    note: Note | None = None


class UnitFeedback(Strict):
    """反馈: the unit reports how it handled the case."""

    unit_code: Code
    handler: Name
    summary: Note = Field(description="处理情况")


class GradeOverride(Strict):
    """An operator sets the grade by hand, with a reason."""

    operator: Name
    grade: RiskGrade
    reason: Note


class NewFacts(Strict):
    """New facts that re-grade the case."""

    reporter: Name
    police_calls: int = Field(0, ge=0, le=100, description="further police calls about the parties")
    mediation_failed: bool = False
    high_social_impact: bool = False
    note: Note


class PauseRequest(Strict):
    """Waiting on a party: every running clock stops and keeps its remaining time."""

    actor: Name
    reason: Note


class ResumeRequest(Strict):
    actor: Name
    note: Note | None = None


class Extension(Strict):
    """A supervisor moves a deadline."""

    supervisor: Name
    clock: ClockName
    unit_code: Code | None = Field(None, description="for a unit's response or feedback clock")
    by: timedelta = Field(gt=timedelta(0), le=timedelta(days=180), description="seconds or ISO 8601 duration")
    reason: Note


class MediationSession(Strict):
    mediator_id: Code
    held_on: date
    mode: HandlingMode
    notes: Note


class MediationResult(Strict):
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


class ConsentedExtension(Strict):
    """调解延期: only with both parties' recorded consent."""

    mediator_id: Code
    applicant_consents: bool
    respondent_consents: bool
    by: timedelta = Field(gt=timedelta(0), le=timedelta(days=90))
    reason: Note


class AlertAcknowledgement(Strict):
    center_code: Code
    leader: Name


class ReferralAnswer(Strict):
    body_code: Code
    reference: Annotated[Text, StringConstraints(max_length=64)] = Field(description="the body's own case reference")


class ConfirmationApplication(Strict):
    applicant: Name
    court_code: Code


class CourtDecision(Strict):
    court_code: Code
    confirmed: bool
    reference: Annotated[Text, StringConstraints(max_length=64)]
    reason: Note | None = None


class ReturnVisit(Strict):
    visitor: Name
    satisfied: bool
    notes: Note
    escalate: bool = Field(False, description="unsatisfied: reopen one level up instead of at the same level")


class Decline(Strict):
    """不予受理: the center does not take the case, with the reason."""

    operator: Name
    reason: Note


class PartnerReply(Strict):
    """跨省协作: the partner center across the border answers the notice, and may mediate jointly."""

    partner_code: Code
    joint_mediation: bool = Field(description="the partner takes part in joint mediation (联合调解)")
    mediator: Name | None = Field(None, description="the partner's mediator, for joint mediation")
    note: Note


class SupervisionRequest(Strict):
    """督办 from above: a supervisor of a higher center orders the unit (or the level) to act."""

    supervisor: Name
    unit_code: Code | None = Field(None, description="the unit ordered; the handling level's lead unit when empty")
    order: Note


class Handover(Strict):
    """交办: a higher center assigns the case down to a lower level, and keeps watching it."""

    supervisor: Name
    to_level: Level
    reason: Note


class IncidentLink(Strict):
    """A further police incident about the same parties joins the open case and re-grades it."""

    incident_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z_-]{1,64}$")]
    reported_at: datetime
    summary: Note


class RepeatVisit(Strict):
    """重复来访: a further registration about the same parties (window, hotline, online) joins their
    open case instead of opening one; it counts one more visit and re-grades the case."""

    request_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(description="the registration's client_request_id: it joins once")
    source: Source
    summary: Note
    operator: Name = Field(description="who registered it")
