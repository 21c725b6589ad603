"""Register activities: idempotent writes keyed by case and step, and directory reads for triage."""

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.case import CaseFile
from domain.messages import BreachNotice, RouteRequest, StepRecord
from domain.routing import Route, handling_level, route
from store import directory, register

STAGE_COLUMNS = {
    "received": "received_at",
    "triaged": "triaged_at",
    "dispatched": "dispatched_at",
    "responded": "responded_at",
    "fed_back": "feedback_at",
    "closed": "closed_at",
}


class RegisterActivities:
    # Sync activities: SQLAlchemy's sessions are blocking, so they run on the worker's thread pool.
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    @activity.defn
    def record_intake(self, case: CaseFile) -> None:
        with self.sessions() as session:
            register.record_intake(session, case, note=f"{case.intake.source.label}受理：{case.intake.category}")
        activity.logger.info("register: intake recorded", extra={"case_no": case.case_no})

    @activity.defn
    def record_step(self, step: StepRecord) -> None:
        columns = step.model_dump(include={"grade", "level", "jurisdiction_code", "lead_unit", "next_deadline", "overdue"}, exclude_none=True)
        if step.stage is not None:
            columns["stage"] = step.stage.value
        if step.kind in STAGE_COLUMNS:
            columns[STAGE_COLUMNS[step.kind]] = step.at
        columns.setdefault("next_deadline", None)  # None: no clock is running any more
        with self.sessions() as session:
            register.record_step(session, step.case_no, step.key, step.kind, step.at, step.note, columns)
        activity.logger.info("register: step recorded", extra={"case_no": step.case_no, "step": step.key})

    @activity.defn
    def route_case(self, request: RouteRequest) -> Route:
        place = request.place
        with self.sessions() as session:
            centers = directory.centers_above(session, place.village_code or place.township_code)
            try:
                level = handling_level(request.grade, centers)
                duties = directory.duty_list(session, centers[level])
                return route(duties, level, centers[level], request.category)
            except LookupError as gap:
                # Retried with backoff: the case waits, visibly, until an admin completes the directory.
                raise ApplicationError(f"职责清单不完整 (directory gap): {gap}", type="DirectoryGap") from gap

    @activity.defn
    def record_breach(self, notice: BreachNotice) -> None:
        with self.sessions() as session:
            register.record_supervision_order(
                session,
                dict(
                    case_no=notice.case_no,
                    clock=notice.clock.value,
                    unit_code=notice.unit_code,
                    from_level=notice.from_level.value,
                    to_level=notice.to_level.value if notice.to_level else None,
                    due_at=notice.due_at,
                    issued_at=notice.breached_at,
                    text=notice.order,
                ),
            )
        activity.logger.warning("register: breach recorded, supervision order issued", extra={"case_no": notice.case_no, "clock": notice.clock.value})
