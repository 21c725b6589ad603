"""HouseholdWorkflow: a family's file (家庭和谐服务档案) from its first case until things are calm.

Cases about the family link to it by signal, sent with signal-with-start from each case's
triage, so a household has one workflow however many cases arrive. Its risk follows their
grades and how often they repeat; the grid worker (网格员) is reminded when a visit falls due
(red weekly, yellow monthly, blue quarterly by default) by a notice to the township's center,
whose operators grid workers are, and records each visit through the API (an update); a calm
period with no new case lowers the risk one grade, and a calm blue file is closed. A file runs
for years: it continues-as-new, carrying its whole state, long before its history reaches
Temporal's limits.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

from workflows.calls import REGISTER, send_notice
from workflows.refusals import OutOfTurn

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.household import (
        REVISION, FollowUpVisit, HouseholdFile, HouseholdRecord, HouseholdState, HouseholdStatus, LinkedCase, RiskChange, VisitReminder,
        VisitReport, calm_until, calmer, next_visit, reminder_due, risk_after_case, visit_missed,
    )
    from onedoor.domain.labels import Audience, RiskGrade
    from onedoor.domain.messages import Notice
    from workflows import search_attributes as sa
    from workflows.clock import beijing


HOUSEHOLD_PREFIX = "household-"


def household_workflow_id(household_id: str) -> str:
    return HOUSEHOLD_PREFIX + household_id


def household_summary(state: HouseholdState) -> str:
    """What the Temporal UI lists: the file's id and place codes, never a name or an address."""
    return f"家庭和谐服务档案 {state.household_id} · {state.village_code or state.township_code}"


@workflow.defn
class HouseholdWorkflow:
    @workflow.init
    def __init__(self, file: HouseholdFile) -> None:
        self.policy = file.policy
        self.state = file.state
        self.inbox: list[LinkedCase] = []  # linked cases waiting for the main loop
        self.acted = False  # only a run that changed the file continues-as-new (else a tiny limit would loop)
        self.writes = asyncio.Lock()  # register writes one at a time, so the newest mirror lands last
        self.notices = file.revision >= 2  # revision 2: visit reminders through the notification port
        self.sending: list[asyncio.Task] = []  # notices on their way, beside the file's own steps

    @workflow.run
    async def run(self, file: HouseholdFile) -> HouseholdState:
        if workflow.info().continued_run_id:
            workflow.set_current_details(self.details("档案续存，状态原样带入"))
        await workflow.wait_condition(lambda: bool(self.inbox) or self.state.risk is not None)  # a file opens with a case
        while True:
            await self.take_links()
            if self.state.status == HouseholdStatus.CLOSED or (self.acted and self.history_is_long()):
                # Nothing may be left half-done: a visit being written finishes, a notice gets
                # through, a case that arrived meanwhile is linked (and reopens a file that was closing).
                await workflow.wait_condition(lambda: workflow.all_handlers_finished() and all(task.done() for task in self.sending))
                if self.inbox:
                    continue
                if self.state.status == HouseholdStatus.CLOSED:
                    return self.state
                # The next run's history starts empty: it takes the current revision.
                workflow.continue_as_new(HouseholdFile(policy=self.policy, state=self.state, revision=REVISION))
            await self.wait_for_next()

    # ── the file ─────────────────────────────────────────────────────────────────────────

    async def take_links(self) -> None:
        while self.inbox:
            await self.link(self.inbox.pop(0))

    async def link(self, case: LinkedCase) -> None:
        """A new case: the risk rises with its grade and with repeats; the calm period starts again."""
        state = self.state
        reopened = state.status == HouseholdStatus.CLOSED
        if reopened:
            state.status, state.closed_at = HouseholdStatus.OPEN, None
        state.cases.append(case)
        risk, reason = risk_after_case(self.policy, state.risk, case, state.cases)
        state.calm_from = workflow.now()
        self.set_risk(risk, reason)
        await self.write(f"纠纷 {case.case_no}（{case.grade.label}色）纳入档案" + ("，重新开档" if reopened else "") + f"：{reason}")

    async def wait_for_next(self) -> None:
        """Sleep until the calm period ends or a visit falls due, unless a case or a visit comes first."""
        calm, remind = calm_until(self.policy, self.state), reminder_due(self.policy, self.state)
        calming = calm <= remind
        wait, seen = min(calm, remind) - workflow.now(), len(self.state.visits)
        if wait > timedelta(0):
            try:
                await workflow.wait_condition(
                    lambda: bool(self.inbox) or len(self.state.visits) != seen,
                    timeout=wait,
                    timeout_summary=f"平稳期满 {beijing(calm)}" if calming else f"走访到期 {beijing(remind)}",
                )
                return
            except asyncio.TimeoutError:
                pass
        await (self.calm_down() if calming else self.remind())

    async def calm_down(self) -> None:
        """No new case for a calm period: one grade down (red → yellow → blue); a calm blue file closes."""
        state = self.state
        old = state.risk
        assert old is not None, "only a graded file calms down"
        new = calmer(old)
        state.calm_from = workflow.now()
        if new is None:
            state.status, state.closed_at, state.next_visit_at = HouseholdStatus.CLOSED, workflow.now(), None
            self.set_risk(None, "平稳期内无新纠纷，销档")
            await self.write("平稳期内无新纠纷，家庭和谐服务档案销档")
        else:
            self.set_risk(new, f"平稳期内无新纠纷，由{old.label}色降为{new.label}色")
            await self.write(f"{state.risk_reason}，下次走访 {beijing(next_visit(self.policy, state))} 前")  # as set_risk set it

    async def remind(self) -> None:
        """The visit is due (or still missed an interval later): remind the grid worker."""
        state = self.state
        self.acted = True
        risk, due = state.risk, state.next_visit_at
        assert risk is not None and due is not None, "a file is reminded only while graded, with a visit scheduled (reminder_due)"
        missed = visit_missed(state)
        state.reminded_at, state.reminders = workflow.now(), state.reminders + 1
        if self.notices:
            self.tell_grid_worker(missed, risk, due)
            return
        # Revision 1: a log line of the remind_grid_worker activity.
        late = "已逾期，" if state.reminded_at > due else ""
        who = f"网格员 {state.grid_worker_name}" if state.grid_worker_name else f"{state.township_code} 综治中心（未配网格员）"
        text = f"走访提醒：{risk.label}色家庭 {state.household_id} 应于 {beijing(due)} 前走访，{late}请{who}安排"
        self.publish(text)
        await workflow.execute_local_activity(
            "remind_grid_worker",
            VisitReminder(household_id=state.household_id, township_code=state.township_code, grid_worker_id=state.grid_worker_id,
                          due_at=due, text=text),
            summary=f"提醒走访 {state.household_id}",
            **REGISTER,
        )

    def tell_grid_worker(self, missed: bool, risk: RiskGrade, due: datetime) -> None:
        """Revision 2: the reminder as a notice, sent beside the file's own steps (a channel being
        down for hours must not hold a new case's link). It goes to the township's center: grid
        workers sign in as operators of their township, and the directory knows no other way to
        reach one. The grid worker is named by id: the log channel writes the text out."""
        state = self.state
        who = f"请网格员 {state.grid_worker_id} 安排走访" if state.grid_worker_id else "本镇未配网格员，请综治中心安排走访"
        text = (f"走访提醒：{risk.label}色家庭 {state.household_id}（{state.village_code or state.township_code}）"
                f"应于 {beijing(due)} 前走访，{'已逾期' if missed else '已到期'}，{who}")
        # Per file and reminder number; a file closed and opened again is a new workflow whose count
        # starts again, so its first run's id tells its reminders from the earlier ones.
        key = f"{state.household_id}:reminder:{workflow.info().first_execution_run_id}:{state.reminders}"
        self.publish(text)
        notice = Notice(key=key, audience=Audience.OPERATOR, recipient=state.township_code, kind="visit_reminder", text=text)
        self.sending.append(asyncio.create_task(send_notice(notice, household_id=state.household_id)))

    def set_risk(self, risk: RiskGrade | None, reason: str) -> None:
        state = self.state
        if risk != state.risk:
            state.risk_history.append(RiskChange(at=workflow.now(), risk=risk, reason=reason))
        state.risk, state.risk_reason = risk, reason
        if risk is not None:
            state.next_visit_at = next_visit(self.policy, state)

    def history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self.policy.history_limit

    # ── cases and visits arrive ──────────────────────────────────────────────────────────

    @workflow.signal
    def link_case(self, case: LinkedCase) -> None:
        """A case about this household; the same case again (a retried link) is dropped."""
        if all(case.case_no != known.case_no for known in (*self.state.cases, *self.inbox)):
            self.inbox.append(case)

    @workflow.update
    async def record_visit(self, report: VisitReport) -> HouseholdState:
        state = self.state
        visit = FollowUpVisit(seq=(state.visits[-1].seq if state.visits else 0) + 1, at=workflow.now(),
                              visitor=report.visitor, notes=report.notes, risk=state.risk)
        state.visits.append(visit)
        state.next_visit_at = next_visit(self.policy, state)
        # The note is what the Temporal UI shows: the visit by its number, not the visitor's name as typed.
        await self.write(f"第 {visit.seq} 次走访已登记，下次走访 {beijing(state.next_visit_at)} 前", visit)
        return self.status()

    @record_visit.validator
    def check_visit(self, report: VisitReport) -> None:
        if self.state.status == HouseholdStatus.CLOSED:
            raise OutOfTurn("本户档案已销档，不再走访 (household file is closed)")
        if self.state.risk is None:
            raise OutOfTurn("档案尚未纳入纠纷，暂无走访安排 (no case linked yet)")

    @workflow.query
    def status(self) -> HouseholdState:
        return self.state

    # ── bookkeeping ──────────────────────────────────────────────────────────────────────

    async def write(self, note: str, visit: FollowUpVisit | None = None) -> None:
        """Mirror the file in the register (and write the visit, keyed by household and seq)."""
        self.acted = True
        self.publish(note)
        workflow.logger.info("household file step", extra={"household_id": self.state.household_id})  # never the note: a visit's words
        async with self.writes:
            state = self.state  # read under the lock: a write that waited sends the newest state
            record = HouseholdRecord(household_id=state.household_id, risk=state.risk, status=state.status, next_visit_at=state.next_visit_at,
                                     case_count=len(state.cases), closed_at=state.closed_at, visit=visit)
            await workflow.execute_local_activity("record_household", record, summary="登记档案", **REGISTER)

    def publish(self, last: str) -> None:
        """Search attributes and current details for the Temporal UI: codes and grades, no personal data."""
        state = self.state
        workflow.upsert_search_attributes([
            sa.TOWNSHIP.value_set(state.township_code),
            sa.JURISDICTION.value_set(state.village_code or state.township_code),
            sa.RISK_GRADE.value_set(state.risk.value) if state.risk else sa.RISK_GRADE.value_unset(),
            sa.NEXT_DEADLINE.value_set(state.next_visit_at) if state.next_visit_at else sa.NEXT_DEADLINE.value_unset(),
        ])
        workflow.set_current_details(self.details(last))

    def details(self, last: str) -> str:
        state = self.state
        lines = [
            f"**档案**：{state.household_id}（{state.village_code or state.township_code}）{state.status.label}",
            f"**风险**：{state.risk.label + '色 — ' + state.risk_reason if state.risk else '—'}",
            f"**网格员**：{state.grid_worker_name or '未配备'}",
            f"**纠纷**：{len(state.cases)} 件（{'、'.join(c.case_no for c in state.cases[-5:])}）",
            f"**走访**：{len(state.visits)} 次" + (f"，下次 {beijing(state.next_visit_at)} 前" if state.next_visit_at else ""),
        ]
        if state.status == HouseholdStatus.OPEN and state.calm_from:
            lines.append(f"**平稳期至**：{beijing(calm_until(self.policy, state))}（无新纠纷则降级）")
        lines += ["", f"**最近一步**：{last}"]
        return "\n".join(lines)
