"""Keeping the case's clocks: each starts on its handling center's calendar with a runner (workflows/clock.py)
that sleeps to its reminder points and deadline; what happens then is lateness.py's."""

from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.calendar import WorkCalendar
    from onedoor.domain.clocks import deadline, time_left
    from onedoor.domain.labels import ClockName, ClockStatus, Level
    from onedoor.domain.policy import ClockRule, ClockSet
    from onedoor.domain.revisions import Revision
    from onedoor.domain.state import Assignment, Clock
    from workflows.clock import ClockRunner

from workflows.case.state import CaseBase, known


class CaseClocks(CaseBase):
    # What a clock does at a reminder point and at its deadline (CaseLateness, lateness.py).
    remind: Callable[[ClockRunner], Awaitable[None]]
    breach: Callable[[ClockRunner], Awaitable[None]]

    def clock_set(self) -> ClockSet:
        """The policy's clocks for the case's grade."""
        return self.case.policy.clocks.for_grade(known(self.state.grade))

    def calendar(self, level: Level | None) -> WorkCalendar:
        """The calendar a clock at this level counts on: its handling center's (revision 9)."""
        calendars = self.timing.calendars
        return calendars.of(self.state.centers.get(level or known(self.state.level))) if calendars else self.timing.office

    def start_clock(self, name: ClockName, rule: ClockRule, unit_code: str | None, done: Callable[[], bool], rota: list[int] | None = None) -> Clock:
        calendar = self.calendar(self.state.level)
        due = deadline(workflow.now(), rule, calendar, rota)
        clock = Clock(
            id=len(self.state.clocks), name=name, unit_code=unit_code, level=self.state.level, basis=rule.basis,
            started_at=due.started_at, due_at=due.due_at, remind_at=due.remind_at, later_reminders=due.later_reminders, calendar_note=due.calendar_note,
        )
        if due.calendar_note:
            workflow.logger.warning(due.calendar_note, extra={"case_no": self.case.case_no, "clock": name.value})
        self.state.clocks.append(clock)
        self.timing.runners.append(ClockRunner(clock, done, calendar, self.remind, self.breach, self.timing.arming, self.shown.named))
        return clock

    def start_unit_clocks(self, assignment: Assignment, rota: list[int] | None) -> tuple[Clock, Clock]:
        """A unit's response and feedback clocks (a rotating unit's start on its duty day)."""
        clocks = self.clock_set()
        response = self.start_clock(ClockName.RESPONSE, clocks.response, assignment.unit_code, lambda: assignment.response is not None, rota)
        feedback = self.start_clock(ClockName.FEEDBACK, clocks.feedback, assignment.unit_code, lambda: assignment.feedback is not None, rota)
        return response, feedback

    def end_clocks(self, level: Level | None = None, final: bool = False) -> None:
        for runner in self.timing.runners:
            if level is None or runner.clock.level == level:
                runner.end(final)

    def runner(self, name: ClockName, unit_code: str | None) -> ClockRunner:
        """The runner of the newest clock of that name (and unit): a validator made sure there is one."""
        clock = self.state.clock(name, unit_code)
        return next(r for r in self.timing.runners if r.clock is clock)

    def stops(self, clock: Clock) -> bool:
        """Whether a pause stops this clock: from revision 9 only those the policy names (a unit's
        first response keeps running); before, every clock."""
        return self.revision < Revision.CASE_CALENDARS or clock.name in self.case.policy.clocks.pause_stops

    @staticmethod
    def clock_label(clock: Clock) -> str:
        return clock.name.label + (f"（{clock.unit_code}）" if clock.unit_code else "")

    def clocks_now(self) -> list[Clock]:
        """The case's clocks, each running one with what remains of it now."""
        now = workflow.now()
        return [
            clock.model_copy(update={"remaining": time_left(now, clock.due_at, clock.basis, self.calendar(clock.level), clock.started_at)}) if clock.status == ClockStatus.RUNNING else clock
            for clock in self.state.clocks
        ]

    def settle_answered_clocks(self) -> None:
        """A clock answered by this very step is met in what the step records, not one step later
        (its runner would only notice after the handler yields). Replay-safe without a patch: it
        changes values (the register record, search attribute values), never a command — the
        histories recorded before it replay (tests/test_replay.py)."""
        for runner in self.timing.runners:
            runner.settle()
