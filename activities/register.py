"""Register activities: idempotent writes keyed by case and step, and the directory reads of triage,
mediator assignment and referral."""

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import database_activity
from domain.case import CaseFile
from domain.messages import (
    AlertNotice, BackstopRequest, ClockNotice, LinkPick, LinkRequest, MediatorPick, MediatorRequest, RouteRequest, Routing, StepRecord,
)
from store import directory, register


def directory_gap(problem: str) -> ApplicationError:
    # Retried with backoff: the case waits, visibly, until an admin completes the directory.
    return ApplicationError(f"目录不完整 (directory gap): {problem}", type="DirectoryGap")


class RegisterActivities:
    # Sync activities: SQLAlchemy's sessions are blocking, so they run on the worker's thread pool.
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    @database_activity
    def record_intake(self, case: CaseFile) -> None:
        with self.sessions() as session:
            register.record_intake(session, case)

    @database_activity
    def record_step(self, step: StepRecord) -> None:
        with self.sessions() as session:
            register.record_step(session, step)
        activity.logger.info("register: step recorded", extra={"case_no": step.case_no, "step": step.key})

    @database_activity
    def record_clock_notice(self, notice: ClockNotice) -> None:
        with self.sessions() as session:
            register.record_clock_notice(session, notice)

    @database_activity
    def record_alert(self, alert: AlertNotice) -> None:
        with self.sessions() as session:
            register.record_event(session, alert.case_no, f"alert-{alert.center_code}-{alert.leader}"[:64], "alert", alert.at, alert.text)
        activity.logger.warning("emergency alert", extra={"case_no": alert.case_no, "center": alert.center_code})

    @database_activity
    def route_case(self, request: RouteRequest) -> Routing:
        with self.sessions() as session:
            try:
                return directory.routing(session, request.place, request.grade, request.category, request.level)
            except LookupError as gap:
                raise directory_gap(str(gap)) from gap

    @database_activity
    def assign_mediator(self, request: MediatorRequest) -> MediatorPick:
        with self.sessions() as session:
            mediator = directory.pick_mediator(session, request.jurisdiction_code, request.gold_first, request.exclude)
            if mediator is None:
                raise directory_gap(f"{request.jurisdiction_code} 没有可指派的调解员 (no mediator)")
            return MediatorPick(mediator_id=mediator.id, name=mediator.name, gold=mediator.gold)

    @database_activity
    def find_backstop_body(self, request: BackstopRequest) -> str:
        with self.sessions() as session:
            body = directory.backstop_body(session, request.kind, request.centers)
            if body is None:
                raise directory_gap(f"没有{request.kind.label}机构 (no {request.kind.value} body)")
            return body.code

    @database_activity
    def find_link(self, request: LinkRequest) -> LinkPick:
        with self.sessions() as session:
            unit = directory.link_unit(session, request.kind, request.province_code)
            return LinkPick(unit_code=unit.code if unit else None)

    def all(self) -> list:
        return [self.record_intake, self.record_step, self.record_clock_notice, self.record_alert,
                self.route_case, self.assign_mediator, self.find_backstop_body, self.find_link]
