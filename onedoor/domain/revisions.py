"""The case workflow's revisions: what each one changed, and when its code may be deleted.

A case keeps the behaviour it started with. The API stamps each new case with the latest revision
(`CaseFile.revision`), and the workflow branches on the case's own (`self.revision >=
Revision.SUPERVISED`), so a case that started before a change replays with exactly the commands it
recorded. Revisions go by the case's input, not by `workflow.patched`: there is no patch id, no
marker in the history, and a case never changes revision midway. Every revision has recorded histories in
tests/histories/, replayed by tests/test_replay.py, which also checks that each revision has one.
Household files number their own revisions (domain.household.REVISION).

From revision 10 a case publishes its revision as the `OnedoorRevision` search attribute (Int);
cases started before carry none.

Deleting a revision's code. What only cases before revision N run (each `self.revision >=
Revision.…` test for N or older, and the branches behind it) may be deleted when both hold:

1. no running case is older than N: in the Temporal UI's list, or with the CLI, `temporal workflow count --query
   'WorkflowType="DisputeCaseWorkflow" AND ExecutionStatus="Running" AND (OnedoorRevision < N OR OnedoorRevision IS NULL)'`
   counts 0 (IS NULL finds the cases started before revision 10, which carry no OnedoorRevision; the
   workflow type leaves out the household files and weekly reports, which never carry one);
2. the namespace's history retention (`temporal operator namespace describe`, "retention") has
   passed since the last such case closed: until Temporal deletes a closed history, a query on
   that case (the API's, the UI's) or a reset replays it on the worker's current code.

The revisions before N then leave this enum with their fixtures in tests/histories/, and N is the
oldest revision a worker can run (a case at a revision it does not know fails its workflow task,
and waits, retried, for a worker that does).
"""

from enum import IntEnum
from typing import TYPE_CHECKING, Self


class Revision(IntEnum):
    """A revision of the case workflow's behaviour: its number (`CaseFile.revision`), and what it changed.
    ``Revision(n)`` looks one up by its number."""

    changed: str

    if TYPE_CHECKING:  # what a type checker sees of a call: the lookup by number (a member's sentence is checked when the class is built)
        def __new__(cls, number: int) -> Self: ...
    else:
        def __new__(cls, number: int, changed: str):
            member = int.__new__(cls, number)
            member._value_ = number
            member.changed = changed
            return member

    ORIGINAL = 1, "the process awaits each delivery (given up at the clock's deadline); one timer per deadline; no notices, police feed nor partner center"
    BACKGROUND = 2, (
        "deliveries, notices and the police feed run beside the process: a unit's system being down never holds a result or an escalation, and after "
        "the policy's outage window the document waits in the unit's inbox and the operators are told; the police platform and the partner center hear the case"
    )
    TWO_STEP_ARMING = 3, (
        "each deadline and red alert window is armed in two steps (a timer to 5 minutes before, or halfway, then one for the rest), so it falls due on time "
        "however long the task that set it took to complete"
    )
    BREACH_FIRST = 4, "a breach is recorded first, alone in the task that wakes on the deadline; it is told and escalated in a task of its own"
    PRIORITY_BY_GRADE = 5, "the case's queue priority follows its grade whenever the grade changes, triage included (activities/queue.py)"
    QUIET_BREACH = 6, "a breach's search attributes are published with its notices, not in the task that records it (each upsert is a visibility write)"
    SUPERVISED = 7, (
        "lateness is supervised, not a verdict: a breach sends its 督办 to the late unit's system, and at the top of the ladder (or where policy keeps "
        "breaches in place) the case stays with its unit under a new clock; a decision's answer waits until the process has acted on it; a case made red "
        "on its way up alerts the level it goes to; every police incident joined to the case hears its statuses; a rotating unit's clocks start on duty"
    )
    HANDOFF_ARMING = 8, (
        "each clock point and red alert window is one timer, armed in the task that wakes from a hand-off timer (交接) ending the task that set it, "
        "also when the point is already due: the commands never depend on workflow.now()"
    )
    CASE_CALENDARS = 9, (
        "clocks count on the calendars the case carries (its handling center's), with several reminders each; a pause stops only the clocks policy "
        "names and may end by itself; a notice to a party or a leader waits out quiet hours unless the case is red"
    )
    REVISION_ATTRIBUTE = 10, "the case publishes its revision as the OnedoorRevision search attribute, so a query shows when no running case is on an old one"


LATEST = max(Revision)  # what the API starts new cases at
