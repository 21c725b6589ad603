"""Household file activities: link a case to its family's file (signal-with-start of the file's
workflow), mirror the file in the register, and, for files of revision 1, log a visit reminder."""

import asyncio

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy

from activities import database_activity
from onedoor.domain.household import REVISION, HouseholdFile, HouseholdLink, HouseholdRecord, HouseholdState, LinkedCase, VisitReminder
from onedoor.store import households
from workflows.household import HouseholdWorkflow, household_summary, household_workflow_id


class HouseholdActivities:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    @activity.defn
    async def link_household(self, link: HouseholdLink) -> str:
        """The case joins its household's file; the file's workflow starts with it if none is running.
        Retried as a whole: the register write is idempotent and the workflow drops a case it has."""
        enrolment = await asyncio.to_thread(self.enrol, link)
        household = enrolment.household
        opening = HouseholdState(
            household_id=household.id, township_code=household.township_code, village_code=household.village_code,
            grid_worker_id=household.grid_worker_id, grid_worker_name=enrolment.grid_worker.name if enrolment.grid_worker else None,
            opened_at=household.opened_at, cases=enrolment.cases, visits=enrolment.visits,
        )
        # Signal-with-start: one workflow per household however many cases arrive at once; the
        # input only counts when this starts it (a new file, or one reopened after it was closed).
        await activity.client().start_workflow(
            HouseholdWorkflow.run,
            HouseholdFile(policy=link.policy, state=opening, revision=REVISION),
            id=household_workflow_id(household.id),
            task_queue=activity.info().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="link_case",
            start_signal_args=[LinkedCase(case_no=link.case_no, grade=link.grade, at=link.at)],
            static_summary=household_summary(opening),
        )
        activity.logger.info("case linked to its household file", extra={"household_id": household.id})
        return household.id

    def enrol(self, link: HouseholdLink) -> households.Enrolment:
        with self.sessions() as session:
            place = link.place
            return households.enrol(session, link.case_no, place.township_code, place.village_code, link.address, link.at)

    @database_activity
    def record_household(self, record: HouseholdRecord) -> None:
        with self.sessions() as session:
            households.mirror(session, record)

    @database_activity
    def remind_grid_worker(self, reminder: VisitReminder) -> None:
        # Revision 1 files only (revision 2 sends a notice): one log line per reminder for whoever
        # delivers them to the grid worker (the register keeps the due time on the household's row).
        activity.logger.warning(reminder.text, extra={
            "household_id": reminder.household_id, "township": reminder.township_code,
            "grid_worker_id": reminder.grid_worker_id, "due_at": reminder.due_at.isoformat(),
        })

    def all(self) -> list:
        return [self.link_household, self.record_household, self.remind_grid_worker]
