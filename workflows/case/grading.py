"""Grading and routing: the case's grade (红黄蓝) from its factors or an operator, the queue priority that follows it,
and the route it gives (the level, center and units that handle the case)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.decisions import SignedIn
    from onedoor.domain.grading import QUEUE_PRIORITY, grade
    from onedoor.domain.labels import Level, LevelEndKind, RiskGrade, Stage, StepKind
    from onedoor.domain.messages import PriorityChange, RouteRequest, Routing
    from onedoor.domain.revisions import Revision
    from onedoor.domain.routing import LADDER, handling_level
    from onedoor.domain.state import GradeChange

from workflows.calls import REGISTER
from workflows.case.lateness import CaseLateness
from workflows.case.state import LevelEnd, known


class CaseGrading(CaseLateness):
    def set_grade(self, new: RiskGrade, reasons: list[str], by: str, shown: list[str] | None = None) -> None:
        self.state.grade, self.state.grade_reasons = new, reasons
        self.shown.reasons = shown or reasons
        self.state.grade_history.append(GradeChange(at=workflow.now(), grade=new, reasons=reasons, by=by))

    async def regrade(self, new: RiskGrade, reasons: list[str], by: str, role: str, note: str | None = None, user: SignedIn | None = None,
                      shown: list[str] | None = None) -> int | None:
        """Grade the case again; when the new grade belongs to a higher level, the handling here ends
        (the number the process acts on, for taken_up)."""
        old = known(self.state.grade)
        self.set_grade(new, reasons, by, shown)
        await self.keep_priority()
        await self.record(StepKind.GRADED, f"{by} {'调整' if new != old else '复核'}等级：{old.label}→{new.label}（{'；'.join(reasons)}）" + (f"。{note}" if note else ""),
                          by=by, role=role, user=user)
        wanted = handling_level(new, self.state.centers)
        moves = LADDER.index(wanted) > LADDER.index(self.route.level) and self.decided.level_end is None and self.state.stage in (Stage.DISPATCHED, Stage.HANDLING)
        if new == RiskGrade.RED and not (moves and self.revision >= Revision.SUPERVISED):  # moving, the level it moves to is alerted (escalate)
            self.start_emergency()
        if moves:
            self.decided.level_end = LevelEnd(LevelEndKind.REGRADED, f"等级升为{new.label}色，改由{wanted.label}级办理", by, to_level=wanted)
            return self.decided.hand()
        return None

    async def keep_priority(self) -> None:
        """The case's tasks and activities queue at its grade's priority from now on. Only a
        scheduling hint: when Temporal refuses, the case goes on and the next regrade asks again."""
        graded = known(self.state.grade)
        wanted = QUEUE_PRIORITY[graded]
        if self.revision < Revision.PRIORITY_BY_GRADE or wanted == self.queue_priority:
            return
        try:
            changed = await workflow.execute_local_activity(
                "keep_priority", PriorityChange(case_no=self.case.case_no, priority_key=wanted), result_type=bool,
                summary=f"排队优先级 {wanted}（{graded.label}色）",
                start_to_close_timeout=timedelta(seconds=10), retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except ActivityError as error:
            workflow.logger.warning("queue priority not kept", extra={"case_no": self.case.case_no, "error": str(error.cause)})
            return
        if changed:
            self.queue_priority = wanted

    async def reroute(self, level: Level | None) -> None:
        """Route the case by its grade (at triage), or to a level (up or down the ladder): 按职责清单分流."""
        graded = known(self.state.grade)
        routing = await workflow.execute_local_activity(
            "route_case",
            RouteRequest(case_no=self.case.case_no, grade=graded, category=self.case.intake.category, place=self.case.intake.place, level=level),
            result_type=Routing,
            summary=f"按职责清单分流（{graded.label}色）",
            **REGISTER,
        )
        self.route = routing.route
        self.state.centers, self.state.leaders = routing.centers, routing.leaders
        self.shown.names |= routing.names
        self.state.level, self.state.jurisdiction_code, self.state.lead_unit = self.route.level, self.route.jurisdiction_code, self.route.lead_unit

    def route_text(self) -> str:
        co = f"，协办 {'、'.join(self.route.co_units)}" if self.route.co_units else ""
        return f"{self.route.level.label}级（{self.route.jurisdiction_code}）{self.route.lead_unit}{co}"

    def now_handled_by(self) -> str:
        """Where the case stands, for a police incident that joins it after dispatch."""
        if self.state.lead_unit is None or self.state.stage in (Stage.RECEIVED, Stage.TRIAGED):
            return ""
        return f"（{self.state.stage.label}，{self.route.level.label}级 {self.state.lead_unit} 承办）"

    async def count_again(self, kind: StepKind, note: str, by: str, role: str, user: SignedIn | None) -> int | None:
        """A further police call or visit about the parties, already counted in the factors: the case is
        re-graded with it (what the process acts on, for taken_up), or, when it came before triage, triage grades with it."""
        if self.state.grade is None:
            await self.record(kind, f"{note}（研判时计入）", by=by, role=role, user=user)
            return None
        grading = grade(self.factors, self.case.policy.grading)
        return await self.regrade(grading.grade, grading.reasons, by, role=role, note=note, user=user)
