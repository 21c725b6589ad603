"""When a clock's reminder point or deadline comes: a reminder (催办) to whoever the clock waits on; at the
deadline a supervision order (督办) from the level above, and for the lead unit or the mediation, from
revision 7 where policy lets a breach climb, the end of the handling at this level."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.labels import Audience, ClockName, Level, LevelEndKind, NoticeKind, Stage
    from onedoor.domain.messages import ClockNotice
    from onedoor.domain.revisions import Revision
    from onedoor.domain.routing import next_center
    from onedoor.domain.state import Clock, SupervisionOrder
    from workflows.clock import HANDOFF, ClockRunner, beijing

from workflows.calls import REGISTER
from workflows.case.links import CaseLinks
from workflows.case.register import SYSTEM
from workflows.case.state import LevelEnd, known

# How the register's local activity is named in the history, by the notice's kind.
RECORDED_AS = {NoticeKind.REMINDER: "催办 ", NoticeKind.BREACH: "超时督办 ", NoticeKind.LAPSE: "期限届满 "}


class CaseLateness(CaseLinks):
    async def remind(self, runner: ClockRunner) -> None:
        clock = runner.clock
        who = clock.unit_code or (known(self.state.mediation).mediator_name if clock.name == ClockName.MEDIATION else "当事人")
        text = f"催办：{who} 的{clock.name.label}将于 {beijing(clock.due_at)} 到期"
        await self.notify_clock(NoticeKind.REMINDER, clock, None, text, runner.reminded)

    async def breach(self, runner: ClockRunner) -> None:
        """A clock ran out: a supervision order (督办) to the level above; a lead unit's or the
        mediation's breach also ends the handling at this level, which escalates the case."""
        clock = runner.clock
        if clock.name == ClockName.CONFIRMATION:
            await self.notify_clock(NoticeKind.LAPSE, clock, None, "当事人未在30日内申请司法确认")
            return
        here, supervised = known(clock.level), self.revision >= Revision.SUPERVISED
        above = next_center(here, self.state.centers)
        who = clock.unit_code or (known(self.state.mediation).mediator_name if clock.name == ClockName.MEDIATION else "本级综治中心")
        late = f"{who} 未在{clock.name.label}内完成（应于 {beijing(clock.due_at)} 前），"
        ends_level = self.ends_level(clock)
        # Revision 7: lateness is not a verdict — only a level above (and the policy) lifts the case; at the top,
        # or where policy keeps it in place, the case stays with its unit under the order and a new clock.
        climbs = ends_level and (not supervised or (above is not None and self.case.policy.ladder.breach_escalates))
        if supervised and ends_level and not climbs:
            renewed = self.start_clock(clock.name, getattr(self.clock_set(), clock.name.value), clock.unit_code, runner.done)
            order = late + f"由{(above or here).label}级综治中心督办，限 {beijing(renewed.due_at)} 前完成"
        else:
            order = late + (f"提请{above.label}级综治中心督办" if above else "由本级综治中心督办")
        self.state.supervision_orders.append(SupervisionOrder(at=workflow.now(), clock=clock.name, unit_code=clock.unit_code, to_level=above, order=order))
        number = len(self.state.supervision_orders)
        await self.notify_clock(NoticeKind.BREACH, clock, above, order)  # the breach is on record before the case moves
        if supervised and clock.name in (ClockName.RESPONSE, ClockName.FEEDBACK):
            level = above or here  # the late unit's own system receives the order, as it would a supervisor's
            self.send_supervision(number, known(clock.unit_code), order, f"{level.label}级综治中心（{self.state.centers[level]}）")
        if climbs and self.decided.level_end is None:
            self.decided.level_end = LevelEnd(LevelEndKind.BREACH, order, SYSTEM)

    def ends_level(self, clock: Clock) -> bool:
        if self.decided.level_end is not None or clock.level != self.state.level or self.state.stage not in (Stage.DISPATCHED, Stage.HANDLING):
            return False
        if clock.name in (ClockName.MEDIATION, ClockName.PARTNER_REPLY):
            return True
        assignment = self.state.assignment(clock.unit_code) if clock.unit_code else None
        return clock.name in (ClockName.RESPONSE, ClockName.FEEDBACK) and assignment is not None and assignment.lead

    async def notify_clock(self, kind: NoticeKind, clock: Clock, to_level: Level | None, text: str, nth: int = 1) -> None:
        """A reminder, breach or lapse: in the UI, the register and the log, and told to the unit (and leader)."""
        # A search-attribute upsert costs the server a visibility write, which in a storm of
        # deadlines every breach waited for: from revision 6 a breach's follows with its notices.
        quiet = kind == NoticeKind.BREACH and self.revision >= Revision.QUIET_BREACH
        breach_first = self.revision >= Revision.BREACH_FIRST
        shown = f"{kind.label}：{clock.name.label}" + (f" · {self.shown.named(clock.unit_code)}" if clock.unit_code else "")
        self.publish(shown, search=not quiet)
        if not breach_first:
            self.tell_clock(kind, clock, to_level, text)
        workflow.logger.warning(text, extra={"case_no": self.case.case_no, "clock": clock.name.value, "kind": kind.value})
        await workflow.execute_local_activity(
            "record_clock_notice",
            ClockNotice(case_no=self.case.case_no, kind=kind, clock_id=clock.id, clock=clock, to_level=to_level, text=text, nth=nth),
            summary=RECORDED_AS[kind] + clock.name.label,
            **REGISTER,
        )
        if breach_first:
            if kind == NoticeKind.BREACH:
                # A task holds its worker slot until its last local activity: ending it here lets the
                # other deadlines due now be recorded before this case's notices and escalation.
                await workflow.sleep(HANDOFF, summary="交接：超时已登记，随后通知并升级")
                if quiet:
                    self.publish(shown)
            self.tell_clock(kind, clock, to_level, text)

    def tell_clock(self, kind: NoticeKind, clock: Clock, to_level: Level | None, text: str) -> None:
        """The unit hears of its reminder or breach; a breach also goes to the leader it goes up to."""
        self.tell(Audience.UNIT, clock.unit_code, kind, f"案件 {self.case.case_no}：{text}")
        if kind == NoticeKind.BREACH:
            center = self.state.centers.get(known(to_level or clock.level))
            leaders = self.state.leaders.get(center, []) if center else []
            self.tell(Audience.LEADER, next(iter(leaders), None), kind, f"案件 {self.case.case_no}：{text}")
