"""Links to outside systems: deliveries to units and bodies, notices to people, the police feed, the partner
center in another province, and the red alert to the leaders. Each runs beside the process (revision 2), so an
outside system being slow or down never holds the case."""

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.documents import DispatchDocument, PartnerNoticeDocument, PoliceStatusDocument, SupervisionDocument
    from onedoor.domain.labels import Audience, Channel, ClockName, NoticeKind, PoliceStatus, RiskGrade, StepKind, UnitKind
    from onedoor.domain.messages import AlertNotice, DispatchOrder, DispatchReceipt, LinkPick, LinkRequest, Notice
    from onedoor.domain.revisions import Revision
    from onedoor.domain.routing import LADDER
    from onedoor.domain.state import Alert, Assignment, PartnerLink, Referral
    from workflows.clock import beijing, wait_until

from workflows.calls import DELIVERY_ATTEMPT, DELIVERY_RETRY, REGISTER, send_notice
from workflows.case.register import CaseRegister
from workflows.case.state import known


class CaseLinks(CaseRegister):
    def beside(self, work: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        """Run work beside the process (a delivery, a notice, the police feed): settle() waits for it."""
        task = asyncio.create_task(work)
        self.side.tasks.append(task)
        return task

    def tell(self, audience: Audience, recipient: str | None, kind: NoticeKind, text: str, phone: str | None = None) -> None:
        """A notification through the notification port (revision 2), sent beside the process."""
        if self.revision < Revision.BACKGROUND or not recipient:
            return
        self.side.notices += 1
        notice = Notice(key=f"{self.case.case_no}:notice:{self.side.notices}", case_no=self.case.case_no, audience=audience,
                        recipient=recipient, phone=phone, kind=kind, text=text)
        quiet = self.case.policy.notices
        # Revision 9: quiet hours hold a notice to a person until they end, unless the case is red.
        held = quiet.held_until(workflow.now()) if self.revision >= Revision.CASE_CALENDARS and audience in quiet.quiet_for and self.state.grade != RiskGrade.RED else None
        self.beside(self.hold(held, notice) if held else send_notice(notice, case_no=self.case.case_no))

    async def hold(self, until: datetime, notice: Notice) -> None:
        """Held to the end of quiet hours; at once if the case turns red meanwhile (one told at intake is not graded yet)."""
        await wait_until(until, lambda: self.state.grade == RiskGrade.RED, f"免打扰：{notice.audience.label}通知留至 {beijing(until)}", self.timing.arming)
        await send_notice(notice, case_no=self.case.case_no)

    def tell_parties(self, kind: NoticeKind, text: str) -> None:
        for party in self.case.intake.parties:
            if party.phone:
                self.tell(Audience.PARTY, party.name, kind, text, phone=party.phone)

    async def deliver(self, order: DispatchOrder, give_up_at: datetime) -> str:
        """POST a document to an outside system (the gateway records a delivery in the register);
        a failure is recorded here, and the clocks keep running.

        Revision 2: retried with backoff for the policy's outage window, then the document waits in
        the unit's inbox and the handling center's operators are told."""
        delivery, background = self.case.policy.delivery, self.revision >= Revision.BACKGROUND
        retry = RetryPolicy(initial_interval=delivery.first_retry, maximum_interval=delivery.longest_retry) if background else DELIVERY_RETRY
        # Revision 1 gave up at the deadline, but at least one whole attempt; revision 2 at the window's end.
        give_up = delivery.outage_window if background else max(give_up_at - workflow.now(), DELIVERY_ATTEMPT)
        try:
            receipt = await workflow.execute_activity(
                "dispatch_to_unit",
                order,
                result_type=DispatchReceipt,
                summary=f"投递至 {self.shown.named(order.recipient)} 的系统",
                start_to_close_timeout=min(DELIVERY_ATTEMPT, give_up),
                schedule_to_close_timeout=give_up,
                retry_policy=retry,
            )
            if receipt.channel == Channel.INBOX:
                return f"已推送至 {order.recipient} 收件箱"
            return f"系统已接收（回执 {receipt.unit_reference or receipt.status_code}）"
        except ActivityError as failure:
            if not background:
                note = f"{order.recipient} 系统投递失败：{failure.cause or failure}，可在收件箱办理，时限照常计算"
                await self.record(StepKind.DELIVERED, note)
                return note
            cause = failure.cause
            why = f"系统拒收：{cause.message}" if isinstance(cause, ApplicationError) and cause.type == "UnitRejected" else f"系统 {delivery.outage_window} 内未能接收"
            note = f"{order.recipient} {why}，已转入其收件箱办理，时限照常计算 (fell back to the inbox)"
            await self.record(StepKind.FALLBACK, note)
            self.tell(Audience.OPERATOR, self.state.jurisdiction_code or self.state.township_code, NoticeKind.FALLBACK, f"案件 {self.case.case_no}：{note}")
            return note

    async def deliver_dispatch(self, assignment: Assignment) -> None:
        unit = assignment.unit_code
        response, feedback = known(self.state.clock(ClockName.RESPONSE, unit)), known(self.state.clock(ClockName.FEEDBACK, unit))
        together = [a for a in self.state.assignments if a.level == assignment.level and a.dispatched_at == assignment.dispatched_at]
        document = DispatchDocument(
            case_no=self.case.case_no, unit_code=unit, lead=assignment.lead, level=assignment.level,
            lead_unit=next(a.unit_code for a in together if a.lead), co_units=[a.unit_code for a in together if not a.lead and a.unit_code != unit],
            category=self.case.intake.category, grade=self.state.grade, grade_reasons=self.state.grade_reasons,
            summary=self.case.intake.summary, place=self.case.intake.place, parties=self.case.intake.parties,
            respond_by=response.due_at, feedback_by=feedback.due_at,
        )
        key = f"{self.case.case_no}:dispatch:{len(self.state.assignments)}:{unit}"
        assignment.delivery = await self.deliver(DispatchOrder(idempotency_key=key, document=document), feedback.due_at)

    async def deliver_referral(self, referral: Referral, order: DispatchOrder) -> None:
        referral.delivery = await self.deliver(order, workflow.now())

    async def deliver_partner_notice(self, partner: PartnerLink, order: DispatchOrder) -> None:
        partner.delivery = await self.deliver(order, workflow.now())

    def send_supervision(self, number: int, unit: str, order: str, by: str) -> None:
        """督办 to the unit's system (onedoor.supervision/v1), the case's `number`th order, beside the process."""
        now = workflow.now()
        document = SupervisionDocument(case_no=self.case.case_no, unit_code=unit, order=order, by=by, at=now)
        dispatch = DispatchOrder(idempotency_key=f"{self.case.case_no}:supervision:{number}:{unit}", document=document)
        self.beside(self.deliver(dispatch, now + self.case.policy.delivery.outage_window))

    async def find_link(self, kind: UnitKind, province_code: str | None = None) -> str | None:
        pick = await workflow.execute_local_activity(
            "find_link",
            LinkRequest(case_no=self.case.case_no, kind=kind, province_code=province_code),
            result_type=LinkPick,
            summary=f"查找{kind.label}",
            **REGISTER,
        )
        return pick.unit_code

    async def notify_partner(self) -> None:
        """跨省协作: a party living in another province brings in that province's partner center,
        which answers on its own clock; a late answer escalates the case like a late lead unit."""
        home = self.case.intake.place.township_code[:2]
        provinces = sorted({p.province_code for p in self.case.intake.parties if p.province_code and p.province_code != home})
        if not provinces:
            return
        code = await self.find_link(UnitKind.PARTNER, provinces[0])
        if code is None:
            note = f"当事人住所在外省（{provinces[0]}），目录中没有该省协作中心，请人工联系 (no partner center)"
            await self.record(StepKind.PARTNER, note)
            self.tell(Audience.OPERATOR, self.state.jurisdiction_code, NoticeKind.PARTNER, f"案件 {self.case.case_no}：{note}")
            return
        partner = PartnerLink(partner_code=code, province_code=provinces[0], notified_at=workflow.now())
        self.state.partner = partner
        clock = self.start_clock(ClockName.PARTNER_REPLY, self.clock_set().partner_reply, code, lambda: partner.replied_at is not None)
        intake = self.case.intake
        document = PartnerNoticeDocument(
            partner_code=code, province_code=provinces[0], case_no=self.case.case_no, center_code=self.state.jurisdiction_code,
            category=intake.category, grade=self.state.grade, summary=intake.summary, place=intake.place, parties=intake.parties,
            reply_by=clock.due_at,
        )
        await self.record(StepKind.PARTNER, f"跨省协作：已通知 {code}（{provinces[0]}），{beijing(clock.due_at)} 前回复")
        self.beside(self.deliver_partner_notice(partner, DispatchOrder(idempotency_key=f"{self.case.case_no}:partner:{clock.id}:{code}", document=document)))

    async def report_to_police(self, status: PoliceStatus, note: str, unit_code: str | None = None, incident_id: str | None = None) -> None:
        """警情流转 back: every status of a case goes to the platform for each incident behind it (the one it
        came from, and from revision 7 each one joined to it), in order (one sender, one document at a time),
        retried until the platform acknowledges it; `incident_id`: to that incident only."""
        incidents: list[str]
        if self.revision >= Revision.SUPERVISED:
            incidents = [incident_id] if incident_id else [i for i in (self.state.incident_id, *self.state.linked_incidents) if i]
        else:
            incidents = [incident_id or self.state.incident_id] if self.state.incident_id else []
        if not incidents:
            return
        feed = self.police
        if feed.platform is None:
            feed.platform = await self.find_link(UnitKind.POLICE) or ""
            if not feed.platform:
                await self.record(StepKind.POLICE, "目录中没有公安警情平台，警情状态无法回传 (no police platform in the directory)")
        if not feed.platform:
            return
        feed.documents += [
            PoliceStatusDocument(platform_code=feed.platform, incident_id=incident, case_no=self.case.case_no,
                                 seq=len(feed.documents) + 1 + n, status=status, at=workflow.now(), note=note, unit_code=unit_code)
            for n, incident in enumerate(incidents)
        ]
        if feed.sender is None or feed.sender.done():
            feed.sender = self.beside(self.send_police_feed())

    async def send_police_feed(self) -> None:
        feed = self.police
        while feed.sent < len(feed.documents):
            document = feed.documents[feed.sent]
            try:
                await workflow.execute_activity(
                    "dispatch_to_unit",
                    DispatchOrder(idempotency_key=f"{self.case.case_no}:police:{document.seq}", document=document),
                    result_type=DispatchReceipt,
                    summary=f"警情回传 {document.seq}：{document.status.label}",
                    start_to_close_timeout=DELIVERY_ATTEMPT,
                    retry_policy=RetryPolicy(initial_interval=self.case.policy.delivery.first_retry, maximum_interval=self.case.policy.delivery.longest_retry),
                )
            except ActivityError as failure:  # refused (4xx): retrying cannot help, the operators follow up
                note = f"警情平台拒收状态 {document.seq}（{document.status.label}）：{failure.cause or failure}"
                await self.record(StepKind.POLICE, note)
                self.tell(Audience.OPERATOR, self.state.jurisdiction_code or self.state.township_code, NoticeKind.REJECTED, f"案件 {self.case.case_no}：{note}")
            feed.sent += 1

    def start_emergency(self) -> None:
        if self.side.alert is None:
            self.side.alert = asyncio.create_task(self.alert_leaders())

    async def alert_leaders(self) -> None:
        """应急处置: alert the command center and the handling level's duty leader; unacknowledged
        within the window, the alert goes one leader up (the center's list, then the level above)."""
        window = self.clock_set().emergency_ack.length
        state = self.state
        chain = [(level, state.centers[level], leader) for level in LADDER[LADDER.index(known(state.level)):] if level in state.centers
                 for leader in state.leaders.get(state.centers[level], [])]
        for level, center, leader in chain:
            alert = Alert(center_code=center, level=level, leader=leader, at=workflow.now(), due_at=workflow.now() + window)
            state.alerts.append(alert)
            text = f"红色预警：{self.case.intake.category}纠纷（{'；'.join(state.grade_reasons)}），请{level.label}级综治中心 {leader} 于 {beijing(alert.due_at)} 前确认"
            await workflow.execute_local_activity(
                "record_alert",
                AlertNotice(case_no=self.case.case_no, center_code=center, leader=leader, level=level, at=alert.at, due_at=alert.due_at, text=text),
                summary=f"应急处置：通知指挥中心和 {leader}",
                **REGISTER,
            )
            self.publish(f"红色预警：已通知{level.label}级 {self.shown.named(center)} {leader}")
            self.tell(Audience.LEADER, leader, NoticeKind.ALERT, text)
            if await wait_until(alert.due_at, lambda: alert.acknowledged_at is not None, f"{leader} 确认时限 {beijing(alert.due_at)}", self.timing.arming):
                return
            workflow.logger.warning("alert not acknowledged, going one leader up", extra={"case_no": self.case.case_no, "center": center})
