"""DisputeCaseWorkflow: one dispute from intake to closure, every deadline a durable timer.

intake → triage (grade + route) → dispatch → await response (2 h) → await feedback (24 h) → close.
A clock that runs out records a breach and raises a supervision order (督办) to the level above;
the late answer is still accepted. People's decisions arrive as updates whose validators refuse
anything out of turn or from the wrong unit, so a refused decision never enters the history.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.case import CaseFile
    from domain.decisions import UnitFeedback, UnitResponse
    from domain.grading import grade
    from domain.labels import ClockName, ClockStatus, Stage
    from domain.messages import BreachNotice, DispatchDocument, DispatchOrder, DispatchReceipt, RouteRequest, StepRecord
    from domain.routing import Route, level_above
    from domain.state import CaseState, Clock, Escalation, Step
    from domain.timezone import as_shanghai
    from workflows import search_attributes as sa

# Register writes are quick and safe to repeat; retry them patiently (the database may be restarting).
REGISTER = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
# A hung unit endpoint must not hold a worker slot: each attempt is short, retries back off to 5 min.
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
DELIVERY_ATTEMPT = timedelta(seconds=15)


def beijing(moment: datetime) -> str:
    return as_shanghai(moment).strftime("%Y-%m-%d %H:%M:%S")


class OutOfTurn(ApplicationError):
    """Raised by validators; the API turns it into 409 with this message."""

    def __init__(self, message: str):
        super().__init__(message, type="OutOfTurn", non_retryable=True)


class WrongActor(ApplicationError):
    """Raised by validators; the API turns it into 403 with this message."""

    def __init__(self, message: str):
        super().__init__(message, type="WrongActor", non_retryable=True)


@workflow.defn
class DisputeCaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseFile) -> None:
        self.case = case
        intake = case.intake
        self.state = CaseState(
            case_no=case.case_no,
            stage=Stage.RECEIVED,
            source=intake.source,
            category=intake.category,
            township_code=intake.place.township_code,
            received_at=case.received_at,
        )
        self.watchers: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, case: CaseFile) -> CaseState:
        await self.intake()
        route = await self.triage()
        await self.dispatch(route)
        await workflow.wait_condition(lambda: self.state.response is not None)
        await workflow.wait_condition(lambda: self.state.feedback is not None)
        await self.close()
        return self.state

    # ── steps ────────────────────────────────────────────────────────────────────────────

    async def intake(self) -> None:
        await workflow.execute_activity("record_intake", self.case, summary="登记受理 register the case", **REGISTER)
        self.note_step(Stage.RECEIVED, f"{self.case.intake.source.label}受理：{self.case.intake.category}纠纷", self.case.received_at)
        self.publish()

    async def triage(self) -> Route:
        grading = grade(self.case.intake.factors, self.case.policy.grading)
        route = await workflow.execute_activity(
            "route_case",
            RouteRequest(case_no=self.case.case_no, grade=grading.grade, category=self.case.intake.category, place=self.case.intake.place),
            result_type=Route,
            summary=f"按职责清单分流 route by the duty list ({grading.grade.label}色)",
            **REGISTER,
        )
        self.state.grade, self.state.grade_reasons = grading.grade, grading.reasons
        self.state.level, self.state.jurisdiction_code, self.state.lead_unit = route.level, route.jurisdiction_code, route.lead_unit
        await self.advance(
            Stage.TRIAGED,
            f"评定为{grading.grade.label}色（{'；'.join(grading.reasons)}），由{route.level.label}级 {route.jurisdiction_code} 的 {route.lead_unit} 承办",
        )
        return route

    async def dispatch(self, route: Route) -> None:
        now = workflow.now()
        clocks = self.case.policy.clocks
        response = self.start_clock(ClockName.RESPONSE, now, clocks.response, lambda: self.state.response is not None)
        feedback = self.start_clock(ClockName.FEEDBACK, now, clocks.feedback, lambda: self.state.feedback is not None)
        await self.advance(Stage.DISPATCHED, f"一键派单至 {route.lead_unit}，{beijing(response.due_at)} 前响应，{beijing(feedback.due_at)} 前反馈")
        document = DispatchDocument(
            case_no=self.case.case_no,
            unit_code=route.lead_unit,
            category=self.case.intake.category,
            grade=self.state.grade,
            grade_reasons=self.state.grade_reasons,
            summary=self.case.intake.summary,
            place=self.case.intake.place,
            parties=self.case.intake.parties,
            respond_by=response.due_at,
            feedback_by=feedback.due_at,
        )
        try:
            receipt = await workflow.execute_activity(
                "dispatch_to_unit",
                DispatchOrder(idempotency_key=f"{self.case.case_no}:dispatch:{route.lead_unit}", document=document),
                result_type=DispatchReceipt,
                summary=f"投递至 {route.lead_unit} 的系统 deliver to the unit's system",
                start_to_close_timeout=DELIVERY_ATTEMPT,
                # Past the feedback deadline a delivery is moot: the unit has long been escalated.
                schedule_to_close_timeout=feedback.due_at - now,
                retry_policy=DELIVERY_RETRY,
            )
            note = f"{route.lead_unit} 系统已接收（回执 {receipt.unit_reference or receipt.status_code}）"
        except ActivityError as failure:
            # The clocks keep running and the unit can still answer through the API.
            note = f"{route.lead_unit} 系统投递失败：{failure.cause or failure}，时限照常计算"
        await self.record("delivered", None, note)

    def start_clock(self, name: ClockName, now: datetime, length: timedelta, done: Callable[[], bool]) -> Clock:
        clock = Clock(name=name, started_at=now, due_at=now + length)
        self.state.clocks.append(clock)
        self.watchers.append(asyncio.create_task(self.watch(clock, done)))
        return clock

    async def watch(self, clock: Clock, done: Callable[[], bool]) -> None:
        """A durable timer for one clock: on expiry, breach and supervision order (督办)."""
        try:
            await workflow.wait_condition(
                done,
                timeout=clock.due_at - workflow.now(),
                timeout_summary=f"{clock.name.label}：{beijing(clock.due_at)} 到期",
            )
        except asyncio.TimeoutError:
            await self.breach(clock)

    async def breach(self, clock: Clock) -> None:
        now = workflow.now()
        clock.status, clock.breached_at = ClockStatus.BREACHED, now
        level = self.state.level
        above = level_above(level)
        order = (
            f"{self.state.lead_unit} 未在{clock.name.label}内完成（应于 {beijing(clock.due_at)} 前），"
            + (f"提请{above.label}级综治中心督办" if above else "由本级综治中心督办")
        )
        self.state.escalations.append(Escalation(at=now, clock=clock.name, unit_code=self.state.lead_unit, from_level=level, to_level=above, order=order))
        self.publish(last=order)
        workflow.logger.warning("clock breached, supervision order issued", extra={"case_no": self.case.case_no, "clock": clock.name.value})
        await workflow.execute_activity(
            "record_breach",
            BreachNotice(case_no=self.case.case_no, clock=clock.name, unit_code=self.state.lead_unit, due_at=clock.due_at, breached_at=now, from_level=level, to_level=above, order=order),
            summary=f"记录超时并督办 record the breach ({clock.name.label})",
            **REGISTER,
        )

    async def close(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self.watchers)  # a breach being recorded finishes first
        self.state.closed_at = workflow.now()
        await self.advance(Stage.CLOSED, f"办结：{self.state.feedback.summary}")

    # ── decisions (updates) ──────────────────────────────────────────────────────────────

    @workflow.update
    async def respond(self, answer: UnitResponse) -> CaseState:
        self.state.response = answer
        self.finish_clock(ClockName.RESPONSE)
        await self.advance(Stage.RESPONDED, f"{answer.unit_code} 已响应，承办人 {answer.handler}")
        return self.state

    @respond.validator
    def check_response(self, answer: UnitResponse) -> None:
        if self.state.clock(ClockName.RESPONSE) is None:
            raise OutOfTurn("本案尚未派单，不能响应 (not dispatched yet)")
        if self.state.response is not None:
            raise OutOfTurn("本案已响应，不能重复响应 (already responded)")
        self.check_unit(answer.unit_code)

    @workflow.update
    async def give_feedback(self, report: UnitFeedback) -> CaseState:
        self.state.feedback = report
        self.finish_clock(ClockName.FEEDBACK)
        await self.advance(Stage.FED_BACK, f"{report.unit_code} 已反馈：{report.summary}")
        return self.state

    @give_feedback.validator
    def check_feedback(self, report: UnitFeedback) -> None:
        if self.state.response is None:
            raise OutOfTurn("本案尚未响应，不能先反馈 (feedback before response)")
        if self.state.feedback is not None:
            raise OutOfTurn("本案已反馈，不能重复反馈 (feedback already given)")
        self.check_unit(report.unit_code)

    def check_unit(self, unit_code: str) -> None:
        if unit_code != self.state.lead_unit:
            raise WrongActor(f"单位 {unit_code} 不是本案承办单位 (not the unit this case was dispatched to)")

    @workflow.query
    def status(self) -> CaseState:
        return self.state

    # ── bookkeeping ──────────────────────────────────────────────────────────────────────

    def finish_clock(self, name: ClockName) -> None:
        clock = self.state.clock(name)
        clock.done_at = workflow.now()
        clock.status = ClockStatus.MET_LATE if clock.status == ClockStatus.BREACHED else ClockStatus.MET

    async def advance(self, stage: Stage, note: str) -> None:
        self.state.stage = stage
        self.note_step(stage, note, workflow.now())
        self.publish()
        await self.record(stage.value, stage, note)

    async def record(self, kind: str, stage: Stage | None, note: str) -> None:
        """Write the step to the register, keyed by case and step so a retry writes once."""
        state = self.state
        await workflow.execute_activity(
            "record_step",
            StepRecord(
                case_no=state.case_no,
                key=kind,
                kind=kind,
                stage=stage,
                at=workflow.now(),
                note=note,
                grade=state.grade,
                level=state.level,
                jurisdiction_code=state.jurisdiction_code,
                lead_unit=state.lead_unit,
                next_deadline=state.next_deadline,
                overdue=state.overdue,
            ),
            summary=f"登记：{note[:60]}",
            **REGISTER,
        )

    def note_step(self, stage: Stage, note: str, at: datetime) -> None:
        self.state.steps.append(Step(at=at, stage=stage, note=note))
        workflow.logger.info(note, extra={"case_no": self.case.case_no, "stage": stage.value})

    def publish(self, last: str | None = None) -> None:
        """Search attributes and current details: what the Temporal UI shows a supervisor."""
        state = self.state
        updates = [
            sa.CASE_STAGE.value_set(state.stage.value),
            sa.CATEGORY.value_set(state.category.value),
            sa.SOURCE.value_set(state.source.value),
            sa.TOWNSHIP.value_set(state.township_code),
            sa.OVERDUE.value_set(state.overdue),
            sa.ESCALATION_COUNT.value_set(len(state.escalations)),
            sa.NEXT_DEADLINE.value_set(state.next_deadline) if state.next_deadline else sa.NEXT_DEADLINE.value_unset(),
        ]
        if state.grade is not None:
            updates += [
                sa.RISK_GRADE.value_set(state.grade.value),
                sa.CASE_LEVEL.value_set(state.level.value),
                sa.JURISDICTION.value_set(state.jurisdiction_code),
                sa.LEAD_UNIT.value_set(state.lead_unit),
            ]
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(self.details(last or state.steps[-1].note))

    def details(self, last: str) -> str:
        state = self.state
        lines = [
            f"**阶段 stage**：{state.stage.label}",
            f"**等级 grade**：{state.grade.label + '色 — ' + '；'.join(state.grade_reasons) if state.grade else '待研判'}",
            f"**承办 unit**：{state.lead_unit or '待分流'}" + (f"（{state.level.label}级 {state.jurisdiction_code}）" if state.level else ""),
        ]
        if state.clocks:
            lines += ["", "| 时限 clock | 到期（北京时间） | 状态 |", "|---|---|---|"]
            lines += [f"| {c.name.label} | {beijing(c.due_at)} | {c.status.label} |" for c in state.clocks]
        lines += ["", f"**最近 last**：{last}"]
        return "\n".join(lines)
