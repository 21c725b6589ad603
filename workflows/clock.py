"""A case clock as a durable timer that can be paused, resumed and extended.

The updatable-timer pattern: the runner sleeps in `wait_condition` until the next point (the
reminder, then the due time) and re-reads the clock whenever it is paused, resumed or extended.
"""

import asyncio
from enum import IntEnum
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.clocks import after, measured, time_left
    from onedoor.domain.labels import ClockStatus
    from onedoor.domain.revisions import Revision
    from onedoor.domain.calendar import WorkCalendar
    from onedoor.domain.state import Clock, DeadlineChange, Pause
    from onedoor.domain.timezone import as_shanghai

Callback = Callable[["ClockRunner"], Awaitable[None]]

# Temporal starts a timer when the workflow task that asked for it completes, and a task that also
# writes the register (local activities) can take seconds to complete under load: a deadline armed
# in it would fire that much late. Revision 3 let a clock first sleep to a point before its target
# (APPROACH before, or halfway when nearer), then arm the exact rest in a task of its own: two timers
# per deadline. Revision 8 ends the task first with a hand-off timer (HANDOFF, named as such) and arms
# the deadline's one timer in the task that wakes from it.
APPROACH = timedelta(minutes=5)
HANDOFF = timedelta(milliseconds=1)  # the shortest timer, only to end a task: revision 8's arming, revision 4's recorded breach


class Arming(IntEnum):
    """How a deadline's timer is armed: by the case's revision (domain/revisions.py), from the one that brought it in."""

    AT_ONCE = Revision.ORIGINAL  # revisions 1–2: one timer, started with whatever task asked for it
    APPROACH = Revision.TWO_STEP_ARMING  # revisions 3–7: a timer to APPROACH before the deadline, then one for the rest
    HANDOFF = Revision.HANDOFF_ARMING  # from revision 8: a hand-off timer ends the asking task, then one timer to the deadline

    @classmethod
    def of(cls, revision: int) -> "Arming":
        return max(arming for arming in cls if arming <= revision)


async def wait_until(due: datetime, condition: Callable[[], bool], summary: str, arming: Arming) -> bool:
    """Wait until the condition holds (True) or the due time comes (False)."""
    if arming == Arming.HANDOFF:
        # The same commands whatever the clock says: a point already due still gets its (shortest)
        # timer. Revision 3's loop armed none when a slow local activity had carried workflow.now()
        # past the point, and such a history replayed with another command sequence.
        if await within(condition, HANDOFF, f"交接：随后计时至 {summary}"):
            return True
        return await within(condition, max(due - workflow.now(), HANDOFF), summary)
    approach = arming == Arming.APPROACH
    while (wait := due - workflow.now()) > timedelta(0):
        if await within(condition, wait - min(APPROACH, wait / 2) if approach else wait, f"临近{summary}" if approach else summary):
            return True
        if not approach:
            return False
        approach = False
    return condition()


async def within(condition: Callable[[], bool], timeout: timedelta, summary: str) -> bool:
    """The condition held within the timeout (True), or the timer named `summary` fired (False)."""
    try:
        await workflow.wait_condition(condition, timeout=timeout, timeout_summary=summary)
        return True
    except asyncio.TimeoutError:
        return False


def beijing(moment: datetime) -> str:
    return as_shanghai(moment).strftime("%Y-%m-%d %H:%M")


class ClockRunner:
    def __init__(self, clock: Clock, done: Callable[[], bool], calendar: WorkCalendar, on_remind: Callback, on_breach: Callback, arming: Arming,
                 named: Callable[[str], str]):
        self.clock = clock
        self.arming = arming
        self.named = named  # a unit's name beside its code, for the timers' summaries
        self.done = done
        self.calendar = calendar  # the handling center's, as the case carries it
        self.on_remind = on_remind
        self.on_breach = on_breach
        self.version = 0  # bumped by every change, so a sleeping runner re-reads the clock
        self.reminded = 0  # reminders sent: each threshold's is its own entry in the register
        self.stopped = False
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        clock = self.clock
        while not (self.done() or self.stopped):
            if clock.status != ClockStatus.RUNNING:
                # Paused, or breached and waiting for the late answer, which is still accepted.
                status = clock.status
                await workflow.wait_condition(lambda: self.done() or self.stopped or clock.status != status)
                continue
            reminder = clock.remind_at if clock.reminded_at is None else None  # the reminder point still ahead, if any
            reminding = reminder is not None
            target = reminder or clock.due_at
            version = self.version
            point = f"{clock.name.label}{'催办点' if reminding else '到期'} {beijing(target)}" + (f" · {self.named(clock.unit_code)}" if clock.unit_code else "")
            if await wait_until(target, lambda: self.done() or self.stopped or self.version != version, point, self.arming):
                continue  # answered, stopped, or the clock changed: look again
            if reminding:
                clock.reminded_at, self.reminded = workflow.now(), self.reminded + 1
                await self.on_remind(self)
                if clock.later_reminders:  # revision 9: on to the next threshold
                    clock.remind_at, clock.reminded_at = clock.later_reminders.pop(0), None
            else:
                clock.status, clock.breached_at = ClockStatus.BREACHED, workflow.now()
                await self.on_breach(self)
        self.settle()

    def settle(self) -> None:
        """Answered: the clock is met (late, after a breach) as of now."""
        clock = self.clock
        if self.done() and clock.status in (ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.BREACHED):
            clock.status = ClockStatus.MET_LATE if clock.breached_at else ClockStatus.MET
            clock.done_at = workflow.now()

    def end(self, final: bool = False) -> None:
        """The case moved on (escalated, concluded, closed): an open clock ends; a breached one
        keeps waiting for the late answer, until the case is settled (final)."""
        if self.clock.is_open:
            self.clock.status, self.clock.done_at, self.clock.remaining = ClockStatus.ENDED, workflow.now(), None
            self.stopped = True
        elif self.clock.status == ClockStatus.BREACHED:
            self.clock.moved_on = True  # no longer late now (the Overdue filter), still counted when answered
        self.stopped = self.stopped or final

    def pause(self, by: str, reason: str) -> None:
        clock = self.clock
        if clock.status != ClockStatus.RUNNING:
            return
        clock.remaining = time_left(workflow.now(), clock.due_at, clock.basis, self.calendar, clock.started_at)
        clock.status = ClockStatus.PAUSED
        clock.pauses.append(Pause(at=workflow.now(), by=by, reason=reason))
        self.version += 1

    def resume(self) -> None:
        """Re-arm with exactly the time that was left when it paused, from now or, for a clock that
        has not started yet (a rotating unit's, waiting for its duty day), from its start."""
        clock, remaining = self.clock, self.clock.remaining
        if clock.status != ClockStatus.PAUSED or remaining is None:  # a paused clock keeps what it had left
            return
        self.move_due(after(max(workflow.now(), clock.started_at), remaining, measured(clock.basis), self.calendar)[0])
        clock.status, clock.remaining = ClockStatus.RUNNING, None
        clock.pauses[-1].resumed_at = workflow.now()

    def extend(self, by: timedelta, who: str, reason: str) -> None:
        clock = self.clock
        old = clock.due_at
        if clock.status == ClockStatus.PAUSED and clock.remaining is not None:
            clock.remaining += by  # applied when it resumes
            new = after(old, by, clock.basis, self.calendar)[0]
        else:
            self.move_due(after(old, by, clock.basis, self.calendar)[0])
            new = clock.due_at
        clock.extensions.append(DeadlineChange(at=workflow.now(), by=who, reason=reason, old_due=old, new_due=new))

    def move_due(self, new_due: datetime) -> None:
        clock = self.clock
        if clock.remind_at is not None and clock.reminded_at is None:
            clock.remind_at = new_due - (clock.due_at - clock.remind_at)  # same lead before the deadline
        clock.later_reminders = [new_due - (clock.due_at - at) for at in clock.later_reminders]
        clock.due_at = new_due
        self.version += 1
