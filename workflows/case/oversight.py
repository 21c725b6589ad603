"""Decisions on the clocks and on the handling itself: an operator's pause and resume, a supervisor's extension, an
admin's new calendar; a higher center's 督办 (supervision order), 交办 (hand down) and 提级 (lift up)."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.calendar import CaseCalendars
    from onedoor.domain.clocks import relaid
    from onedoor.domain.decisions import Extension, Handover, LevelUp, PauseRequest, ResumeRequest, SignedIn, SupervisionRequest
    from onedoor.domain.labels import Audience, ClockName, ClockStatus, LevelEndKind, NoticeKind, Stage, StepKind
    from onedoor.domain.messages import StepParts
    from onedoor.domain.revisions import Revision
    from onedoor.domain.routing import LADDER, centers_from, next_center
    from onedoor.domain.state import CaseState, Pause, SupervisionOrder
    from workflows.clock import beijing, wait_until

from workflows.case.decisions import CaseDecisions
from workflows.case.register import SYSTEM
from workflows.case.state import LevelEnd, known
from workflows.refusals import OutOfTurn


class CaseOversight(CaseDecisions):
    @workflow.update
    async def pause(self, request: PauseRequest) -> CaseState:
        running = [r for r in self.timing.runners if r.clock.status == ClockStatus.RUNNING and self.stops(r.clock)]
        for runner in running:
            runner.pause(request.actor, request.reason)
        self.state.paused = pause = Pause(at=workflow.now(), by=request.actor, reason=request.reason)
        note = f"{request.actor} 暂停计时（等待当事人）：{request.reason}"
        if self.revision >= Revision.CASE_CALENDARS:  # what it stopped, and when it resumes by itself
            pause.stopped, pause.until = [r.clock.id for r in running], request.until or workflow.now() + self.case.policy.clocks.longest_pause
            kept = [c for c in self.state.clocks if c.status == ClockStatus.RUNNING]
            note += f"；暂停{'、'.join(self.clock_label(r.clock) for r in running)}，{beijing(pause.until)} 自动恢复" + (
                f"；{'、'.join(self.clock_label(c) for c in kept)}照常计时" if kept else "")
            asyncio.create_task(self.resume_by_itself(pause))
        await self.record(StepKind.PAUSED, note, by=request.actor, role="operator", user=request.signed_in)
        return self.status()

    async def resume_by_itself(self, pause: Pause) -> None:
        """Revision 9: at the pause's end, unless resumed before, the clocks resume and the parties are told."""
        until = known(pause.until)
        if await wait_until(until, lambda: self.state.paused is not pause or not self.state.stage.is_open, f"暂停期满 {beijing(until)}", self.timing.arming):
            return
        text = f"暂停期满（{beijing(until)}），自动恢复计时"
        await self.resume_clocks(SYSTEM, text, role="system", user=None)
        self.tell_parties(NoticeKind.RESUMED, f"案件 {self.case.case_no}：{text}")

    @pause.validator
    def check_pause(self, request: PauseRequest) -> None:
        self.check_open()
        if self.state.paused is not None:
            raise OutOfTurn("计时已暂停 (clocks already paused)")
        if not any(c.status == ClockStatus.RUNNING and self.stops(c) for c in self.state.clocks):
            raise OutOfTurn("没有可暂停的时限 (no clock the pause stops is running)")
        if request.until is not None:
            longest = self.case.policy.clocks.longest_pause
            if self.revision < Revision.CASE_CALENDARS:
                raise OutOfTurn("until: 本案受理时尚不支持定时恢复 (the case's revision has no timed resume)")
            if not workflow.now() < request.until <= workflow.now() + longest:
                raise OutOfTurn(f"until: 须在现在之后、{longest.days} 日之内 (within the longest pause)")

    @workflow.update
    async def resume(self, request: ResumeRequest) -> CaseState:
        await self.resume_clocks(request.actor, f"{request.actor} 恢复计时" + (f"：{request.note}" if request.note else ""), "operator", request.signed_in)
        return self.status()

    async def resume_clocks(self, actor: str, note: str, role: str, user: SignedIn | None) -> None:
        for runner in self.timing.runners:
            runner.resume()
        self.state.paused = None
        await self.record(StepKind.RESUMED, note, by=actor, role=role, user=user)

    @resume.validator
    def check_resume(self, request: ResumeRequest) -> None:
        if self.state.paused is None:
            raise OutOfTurn("计时未暂停 (clocks are not paused)")

    @workflow.update
    async def extend(self, request: Extension) -> CaseState:
        runner = self.runner(request.clock, request.unit_code)
        runner.extend(request.by, request.supervisor, request.reason)
        await self.record(StepKind.EXTENDED, f"{request.supervisor} 延长{request.clock.label}至 {beijing(runner.clock.extensions[-1].new_due)}：{request.reason}", by=request.supervisor, role="supervisor",
                          user=request.signed_in)
        return self.status()

    @extend.validator
    def check_extension(self, request: Extension) -> None:
        clock = self.state.clock(request.clock, request.unit_code)
        if clock is None or not clock.is_open:
            raise OutOfTurn(f"没有可延长的{request.clock.label}" + (f"（{request.unit_code}）" if request.unit_code else "") + " (no such open clock)")
        if request.clock == ClockName.MEDIATION:
            raise OutOfTurn("调解期限只能经双方当事人同意延长 (mediation needs both parties' consent)")
        self.check_handling_center(request.signed_in, "延长时限")

    def check_handling_center(self, user: SignedIn | None, what: str) -> None:
        """A decision for the center handling the case, or a center above it."""
        level = known(self.state.level)
        rule = f"{what}须由办理本案的{level.label}级综治中心（{self.state.jurisdiction_code}）或其上级作出"
        self.check_authority(user, centers_from(level, self.state.centers), rule)

    @workflow.signal
    async def recalendar(self, calendars: CaseCalendars) -> None:
        """Revision 9: a calendar edited after intake (a holiday entered later) reaches the clocks not yet due: each running
        one keeps the working days or office time it had left on the old calendar, laid on the new one (domain.clocks.relaid);
        natural clocks do not move. The signal carries the whole snapshot, so the history replays."""
        if self.timing.calendars is None or not self.state.stage.is_open:
            return
        self.timing.calendars, now, moved = calendars, workflow.now(), []
        for runner in self.timing.runners:
            clock, new = runner.clock, self.calendar(runner.clock.level)
            if clock.status == ClockStatus.RUNNING and clock.due_at > now:
                old = clock.due_at
                runner.move_due(relaid(now, clock.started_at, old, clock.basis, runner.calendar, new))
                if clock.due_at != old:
                    moved.append(f"{self.clock_label(clock)}由 {beijing(old)} 改至 {beijing(clock.due_at)}")
            runner.calendar = new
        if moved:
            await self.record(StepKind.RECALENDARED, f"工作日历更新：{'；'.join(moved)}")

    @workflow.signal
    async def supervise(self, request: SupervisionRequest) -> None:
        """督办 from a higher center: on the case's record, and a supervision document to the unit.
        A signal (the API checks the case first): the order stands whatever the case is doing."""
        unit = request.unit_code or self.state.lead_unit
        if not self.state.stage.is_open or unit is None:
            workflow.logger.warning("supervision order for a closed or undispatched case ignored", extra={"case_no": self.case.case_no})
            return
        self.state.supervision_orders.append(SupervisionOrder(at=workflow.now(), unit_code=unit, to_level=self.state.level, order=request.order, by=request.supervisor))
        number = len(self.state.supervision_orders)
        await self.record(StepKind.SUPERVISED, f"{request.supervisor} 督办 {unit}：{request.order}", by=request.supervisor, role="supervisor", user=request.signed_in,
                          body=unit, parts=StepParts(order=request.order))
        self.send_supervision(number, unit, request.order, request.supervisor)
        self.tell(Audience.UNIT, unit, NoticeKind.SUPERVISION, f"案件 {self.case.case_no} 督办：{request.order}（{request.supervisor}）")

    @workflow.update
    async def hand_over(self, request: Handover) -> CaseState:
        note = f"{request.supervisor} 决定交办至{request.to_level.label}级：{request.reason}"
        end = LevelEnd(LevelEndKind.HANDOVER, request.reason, request.supervisor, to_level=request.to_level)
        return await self.move_level(end, StepKind.HANDOVER, note, request.signed_in)

    @hand_over.validator
    def check_handover(self, request: Handover) -> None:
        self.check_being_handled("交办", request.signed_in)
        level = known(self.state.level)
        if LADDER.index(request.to_level) >= LADDER.index(level) or request.to_level not in self.state.centers:
            raise OutOfTurn(f"只能交办给下级综治中心（现由{level.label}级办理）(hand over to a lower level with a center)")

    @workflow.update
    async def lift(self, request: LevelUp) -> CaseState:
        above = known(next_center(self.route.level, self.state.centers))
        end = LevelEnd(LevelEndKind.LIFTED, f"{request.supervisor} 决定提级：{request.reason}", request.supervisor, to_level=above)
        return await self.move_level(end, StepKind.LIFTED, f"{request.supervisor} 决定提级至{above.label}级：{request.reason}", request.signed_in)

    @lift.validator
    def check_lift(self, request: LevelUp) -> None:
        self.check_being_handled("提级", request.signed_in)
        level = known(self.state.level)
        if next_center(level, self.state.centers) is None:
            raise OutOfTurn(f"本案已由最高一级（{level.label}级）办理，不能再提级 (already at the top)")

    async def move_level(self, end: LevelEnd, step: StepKind, note: str, user: SignedIn | None) -> CaseState:
        """A supervisor's decision that ends the handling at this level (交办 down, 提级 up)."""
        self.decided.level_end = end
        return await self.hand_on(step, note, by=end.by, role="supervisor", user=user)

    def check_being_handled(self, what: str, user: SignedIn | None) -> None:
        """A supervisor's decision on the handling itself: while a level handles the case, by its center or one above."""
        self.check_open()
        if self.state.stage not in (Stage.DISPATCHED, Stage.HANDLING) or self.decided.level_end is not None:
            raise OutOfTurn(f"本案当前不在办理中，不能{what} (not being handled)")
        self.check_handling_center(user, what)
