"""What the case workflow keeps, grouped by concern: CaseBase declares it for every part, and
DisputeCaseWorkflow.__init__ sets it. The case as queries, the register and the API see it is
`state` (domain.state.CaseState); the rest is the workflow's own, never returned nor stored."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.calendar import CaseCalendars, WorkCalendar
    from onedoor.domain.case import CaseFile, RiskFactors
    from onedoor.domain.documents import PoliceStatusDocument
    from onedoor.domain.labels import Backstop, LevelEndKind, Level
    from onedoor.domain.revisions import Revision
    from onedoor.domain.routing import Route
    from onedoor.domain.state import CaseState, Visit
    from workflows.clock import Arming, ClockRunner

T = TypeVar("T")


def known(value: T | None) -> T:
    """What an earlier step of the process set (the grade at triage, the mediation at dispatch, the referral
    when it was sent), where a validator or the process's order makes sure it was. None here is a bug: the
    workflow task fails, and is retried until a fixed worker takes it."""
    if value is None:
        raise LookupError("read before the step that sets it")
    return value


@dataclass
class LevelEnd:
    """What ended the handling at a level: the process acts on it (resolve)."""

    kind: LevelEndKind
    reason: str
    by: str
    backstop: Backstop | None = None
    to_level: Level | None = None


@dataclass
class Decided:
    """People's decisions the process acts on next. A decision that hands the process something to act
    on is counted (`hand`), so that from revision 7 its answer can wait until the process has (`taken_up`)."""

    answers_after: bool  # revision 7: a decision's answer shows the case after the process acted on it
    level_end: LevelEnd | None = None  # what ends the handling at this level
    visit: Visit | None = None  # the return visit the process waits for
    reopen_up: bool = False  # an unsatisfied visit asked to reopen the case one level up
    seek_confirmation: bool = False  # the parties go for judicial confirmation of their agreement
    handed: int = 0  # decisions handed to the process
    taken: int = 0  # how many of them it has acted on

    def hand(self) -> int:
        """A decision gives the process something to act on: its number, for taken_up. Counted as it
        happens, so the process cannot pass it unseen."""
        self.handed += 1
        return self.handed

    async def taken_up(self, number: int | None) -> None:
        """Revision 7: the decision's answer waits until the process has acted on it and waits on people again,
        so it shows the case as it now stands (a refusal answers `referral`, not `dispatched`)."""
        if self.answers_after and number is not None:
            await workflow.wait_condition(lambda: self.taken >= number)

    async def wait_for_people(self, condition: Callable[[], bool]) -> None:
        """The process waits on a person's decision: every decision handed to it so far has taken effect."""
        if not condition():
            self.taken = self.handed
        await workflow.wait_condition(condition)


@dataclass
class Timing:
    """How the case's clocks run."""

    arming: Arming  # how a deadline's timer is armed, by the case's revision
    office: WorkCalendar  # before revision 9 every clock counts on the policy's office hours over the worker's holiday library
    calendars: CaseCalendars | None  # revision 9: the calendars the case carries (a recalendar signal replaces them)
    duty_clocks: bool  # revision 7: a rotating unit's clocks start on its next duty day, unless policy says otherwise
    runners: list[ClockRunner] = field(default_factory=list)


@dataclass
class Shown:
    """What the Temporal UI shows beside codes and as the last step (current details): the directory's names
    from routing, and a step's label, never its note (which may hold a person's words)."""

    names: dict[str, str] = field(default_factory=dict)
    last_step: str = ""
    reasons: list[str] = field(default_factory=list)  # the grade's reasons as the UI shows them: an override's own words left out

    def named(self, code: str) -> str:
        """A center's or unit's name beside its code, when routing brought it from the directory."""
        return f"{self.names[code]}（{code}）" if code in self.names else code


@dataclass
class Written:
    """The register's side: how many steps were written (numbering each step's key), and the case's fields
    as the audit log last saw them."""

    audited: dict[str, object]
    steps: int = 0


@dataclass
class PoliceFeed:
    """警情流转 back: every status for the police platform, in order, and how many have gone."""

    documents: list[PoliceStatusDocument] = field(default_factory=list)
    sent: int = 0
    platform: str | None = None  # looked up at the first status; "" when the directory has none
    sender: asyncio.Task[object] | None = None


@dataclass
class SideWork:
    """Work beside the process (deliveries, notices, the police feed), which settle() waits for, and the red
    alert's chain of leaders, which it stops."""

    tasks: list[asyncio.Task[object]] = field(default_factory=list)
    notices: int = 0  # notices sent: numbers each one's key
    alert: asyncio.Task[None] | None = None


class CaseBase:
    """What every part of the case workflow reads (set by DisputeCaseWorkflow.__init__)."""

    case: CaseFile  # the input: intake, policy snapshot, calendars
    revision: Revision  # the behaviour the case started with (domain/revisions.py)
    state: CaseState
    factors: RiskFactors  # what grading reads: the intake's, with what joined the case since
    route: Route  # the level, center and units handling the case: set by triage, changed by each move
    queue_priority: int  # the priority key the case's tasks queue at, as last set
    decided: Decided
    timing: Timing
    shown: Shown
    written: Written
    police: PoliceFeed
    side: SideWork
