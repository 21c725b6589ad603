"""家庭和谐服务档案: a family with repeated disputes is followed up until things are calm.

The pure rules (risk after a new case, the visit schedule, de-escalation after a calm period),
the household file's state, and what its workflow hands to activities. Numbers come from
``HouseholdPolicy`` (domain/policy.py), which travels with the file.
"""

import hashlib
import unicodedata
from datetime import datetime

from pydantic import BaseModel, Field

from onedoor.domain.case import Place, Strict
from onedoor.domain.decisions import Name, Note
from onedoor.domain.labels import Labelled, RiskGrade
from onedoor.domain.policy import HouseholdPolicy

SEVERITY = [RiskGrade.BLUE, RiskGrade.YELLOW, RiskGrade.RED]


class HouseholdStatus(Labelled):
    OPEN = "open", "跟踪走访中"
    CLOSED = "closed", "已销档"


class LinkedCase(BaseModel):
    """A case about the household, with the grade triage gave it and when it was registered."""

    case_no: str
    grade: RiskGrade
    at: datetime


class FollowUpVisit(BaseModel):
    """A grid worker's visit; seq numbers the household's visits and keys the register's row."""

    seq: int
    at: datetime
    visitor: str
    notes: str
    risk: RiskGrade | None


class RiskChange(BaseModel):
    at: datetime
    risk: RiskGrade | None  # None: the file was closed
    reason: str


class HouseholdState(BaseModel):
    """The household file as it stands: the workflow's query result and, whole, its continue-as-new input.
    No names or addresses: the household is known by its id and place codes."""

    household_id: str
    township_code: str
    village_code: str | None = None
    grid_worker_id: str | None = None
    grid_worker_name: str | None = None
    opened_at: datetime
    status: HouseholdStatus = HouseholdStatus.OPEN
    risk: RiskGrade | None = None
    risk_reason: str = ""
    cases: list[LinkedCase] = []
    visits: list[FollowUpVisit] = []
    risk_history: list[RiskChange] = []
    calm_from: datetime | None = Field(None, description="the last new case or de-escalation: the calm period counts from here")
    next_visit_at: datetime | None = None
    reminded_at: datetime | None = Field(None, description="the last reminder (走访提醒) sent to the grid worker")
    reminders: int = 0
    closed_at: datetime | None = None


class HouseholdFile(BaseModel):
    """HouseholdWorkflow's single input: the policy at opening and the whole state, so that a
    continue-as-new carries the file over exactly. Add fields with defaults."""

    policy: HouseholdPolicy
    state: HouseholdState
    revision: int = Field(1, description="the workflow behaviour the run was started with: a running file keeps its run's (see REVISION)")


# Workflow versioning by input, as for cases (domain.case.REVISION), with numbers of its own: a run
# keeps the revision it started with, so its history replays; a continue-as-new starts a fresh
# history and takes the current one. Revision 2 tells a visit reminder through the notification
# port (the notify local activity: notices register, log, webhook, SMS) instead of the
# remind_grid_worker log line.
REVISION = 2


class VisitReport(Strict):
    """A grid worker's visit, as reported through the API."""

    visitor: Name = Field(description="走访人 the grid worker (网格员)")
    notes: Note = Field(description="走访情况")


class HouseholdLink(BaseModel):
    """From a graded case to the household file (the address is personal data: only in this payload)."""

    case_no: str
    grade: RiskGrade
    at: datetime
    place: Place
    address: str
    policy: HouseholdPolicy


class HouseholdRecord(BaseModel):
    """The register's mirror of the file after a change, and the visit that changed it, if any."""

    household_id: str
    risk: RiskGrade | None
    status: HouseholdStatus
    next_visit_at: datetime | None
    case_count: int
    closed_at: datetime | None
    visit: FollowUpVisit | None = None


class VisitReminder(BaseModel):
    household_id: str
    township_code: str
    grid_worker_id: str | None
    due_at: datetime
    text: str


# ── rules ────────────────────────────────────────────────────────────────────────────────


def normalise_address(address: str) -> str:
    """One spelling per address: NFKC folds full-width digits and letters (３号楼 → 3号楼), spaces
    carry no meaning in a Chinese address, and letters ignore case (A座 = a座)."""
    return "".join(unicodedata.normalize("NFKC", address).split()).casefold()


def address_key(township_code: str, village_code: str | None, address: str) -> str:
    """The household's identity in the register: a digest, so the key itself shows no address."""
    return hashlib.sha256(f"{township_code}|{village_code or ''}|{normalise_address(address)}".encode()).hexdigest()


def higher(*grades: RiskGrade | None) -> RiskGrade:
    return max((g for g in grades if g is not None), key=SEVERITY.index)


def risk_after_case(policy: HouseholdPolicy, current: RiskGrade | None, new: LinkedCase, cases: list[LinkedCase]) -> tuple[RiskGrade, str]:
    """The file's risk once ``new`` (already in ``cases``) is linked: never lower than it was or
    than the case's own grade; repeated cases within the window raise it (重复纠纷)."""
    days = policy.repeat_window.days
    recent = sum(1 for case in cases if new.at - case.at < policy.repeat_window)
    repeat, why = None, f"新纠纷 {new.case_no} 评定为{new.grade.label}色"
    if recent >= policy.red_repeat_cases:
        repeat, why = RiskGrade.RED, f"{days}日内纠纷 {recent} 件（重复纠纷）"
    elif recent >= policy.yellow_repeat_cases:
        repeat, why = RiskGrade.YELLOW, f"{days}日内纠纷 {recent} 件"
    risk = higher(current, new.grade, repeat)
    if risk == current and risk != new.grade and risk != repeat:
        why = f"维持{risk.label}色（{why}）"
    return risk, why


def calmer(risk: RiskGrade) -> RiskGrade | None:
    """One step down after a calm period: red → yellow → blue → closed (None)."""
    index = SEVERITY.index(risk)
    return SEVERITY[index - 1] if index > 0 else None


def calm_until(policy: HouseholdPolicy, state: HouseholdState) -> datetime:
    assert state.calm_from is not None, "the calm period starts with the file's first case"
    return state.calm_from + policy.calm_period


def next_visit(policy: HouseholdPolicy, state: HouseholdState) -> datetime:
    """Visits follow the risk: the interval for the current grade after the last visit (or the
    opening), so a higher risk brings the next visit forward and a lower one pushes it back."""
    assert state.risk is not None, "visits are scheduled for a graded file only"
    since = state.visits[-1].at if state.visits else state.opened_at
    return since + policy.visit_every(state.risk)


def visit_missed(state: HouseholdState) -> bool:
    """Whether the visit about to be reminded of was already due at the last reminder (逾期), rather
    than falling due now; read before the reminder is counted."""
    assert state.next_visit_at is not None, "a file is reminded only while it has a visit scheduled"
    return state.reminded_at is not None and state.reminded_at >= state.next_visit_at


def reminder_due(policy: HouseholdPolicy, state: HouseholdState) -> datetime:
    """When the grid worker is reminded: when the visit falls due, then once per interval while it is missed."""
    assert state.risk is not None and state.next_visit_at is not None, "a file is reminded only while it is graded and has a visit scheduled"
    if state.reminded_at is None or state.reminded_at < state.next_visit_at:
        return state.next_visit_at
    return state.reminded_at + policy.visit_every(state.risk)
