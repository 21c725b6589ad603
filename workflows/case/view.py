"""What the Temporal UI shows a supervisor: the status query, the search attributes and the current details,
in fixed words (labels, codes with their names, times): never a party's data nor a person's own words."""

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.labels import ClockStatus
    from onedoor.domain.revisions import Revision
    from onedoor.domain.state import CaseState
    from workflows import search_attributes as sa
    from workflows.clock import beijing

from workflows.case.clocks import CaseClocks
from workflows.case.state import known


class CaseView(CaseClocks):
    @workflow.query
    def status(self) -> CaseState:
        """The case as it stands, with what remains of each open clock."""
        return self.state.model_copy(update={"clocks": self.clocks_now()})

    def publish(self, last: str, search: bool = True) -> None:
        """Search attributes and current details: what the Temporal UI shows a supervisor
        (without `search`, the details only). `last`: the step just taken, in fixed words."""
        state = self.state
        self.shown.last_step = f"{last}（{beijing(workflow.now())}）"
        workflow.set_current_details(self.details())
        if not search:
            return
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.CASE_STAGE.value_set(state.stage.value),
            sa.CATEGORY.value_set(state.category.value),
            sa.SOURCE.value_set(state.source.value),
            sa.TOWNSHIP.value_set(state.township_code),
            sa.OVERDUE.value_set(state.overdue),
            sa.ESCALATION_COUNT.value_set(len(state.escalations)),
            sa.NEXT_DEADLINE.value_set(state.next_deadline) if state.next_deadline else sa.NEXT_DEADLINE.value_unset(),
        ]
        if state.grade is not None and state.level is not None:
            updates += [
                sa.RISK_GRADE.value_set(state.grade.value),
                sa.CASE_LEVEL.value_set(state.level.value),
                sa.JURISDICTION.value_set(known(state.jurisdiction_code)),
                sa.LEAD_UNIT.value_set(known(state.lead_unit)),
            ]
        if self.revision >= Revision.REVISION_ATTRIBUTE:  # before, an upsert without it: the recorded commands stay as they were
            updates.append(sa.REVISION.value_set(int(self.revision)))
        workflow.upsert_search_attributes(updates)

    def details(self) -> str:
        """The current details the Temporal UI shows, plain (no codec needed): codes with their names,
        labels and times (Asia/Shanghai), never a party's data nor a person's own words. Markdown: the case's
        facts as a list, then each open clock on a line of its own, then the last step."""
        state, named = self.state, self.shown.named
        lines = [
            f"- **阶段**：{state.stage.label}" + ("（计时暂停）" if state.paused else ""),
            f"- **等级**：{state.grade.label + '色 — ' + '；'.join(self.shown.reasons) if state.grade else '待研判'}",
        ]
        if state.level:
            lines.append(f"- **办理**：{state.level.label}级综治中心 {named(known(state.jurisdiction_code))}")
        lines.append(f"- **承办单位**：{named(state.lead_unit) if state.lead_unit else '待分流'}")
        co = [a.unit_code for a in state.assignments if not a.lead and a.level == state.level]
        if co:
            lines.append(f"- **协办单位**：{'、'.join(named(code) for code in co)}")
        if state.mediation:
            mediation = state.mediation
            lines.append(f"- **调解员**：{mediation.mediator_name}（{mediation.mediator_id}{'，金牌' if mediation.gold else ''}）")
        for alert in state.alerts:
            answer = (f"{alert.acknowledged_by} 已于 {beijing(alert.acknowledged_at)} 确认" if alert.acknowledged_at
                      else f"待确认，限 {beijing(alert.due_at)} 前" if alert.due_at > workflow.now() else f"未在 {beijing(alert.due_at)} 前确认")
            lines.append(f"- **红色预警**：{beijing(alert.at)} 通知{alert.level.label}级 {named(alert.center_code)} {alert.leader}，{answer}")
        for order in state.supervision_orders:
            why = f"{order.clock.label}超时" if order.clock else "上级综治中心"
            lines.append(f"- **督办**：{beijing(order.at)} {why}，督办 {named(order.unit_code) if order.unit_code else '本级'}")
        if state.incident_id:
            linked = f"，另关联 {'、'.join(state.linked_incidents)}" if state.linked_incidents else ""
            lines.append(f"- **警情**：{state.incident_id}{linked}（状态回传 {self.police.sent}/{len(self.police.documents)}）")
        if state.handovers:
            handover = state.handovers[-1]
            lines.append(f"- **交办**：{named(handover.watched_by)} 交办至{handover.to_level.label}级，跟踪督办")
        if state.partner:
            partner = state.partner
            answer = ("参加联合调解" if partner.joint_mediation else "已回复") if partner.replied_at else "待回复"
            lines.append(f"- **跨省协作**：{partner.partner_code}（省级代码 {partner.province_code}）{answer}")
        if state.referral:
            referral = state.referral
            lines.append(f"- **转介**：{referral.kind.label} {referral.body_code}，{'已于 ' + beijing(referral.accepted_at) + ' 受理' if referral.accepted_at else '待受理'}")
        if state.result:
            lines.append(f"- **结果**：{state.result.label}")
        open_clocks = [c for c in state.clocks if c.is_open or c.status == ClockStatus.BREACHED]
        if open_clocks:
            lines += ["", "**时限**（北京时间）：", ""]
            lines += [f"- {c.name.label} · {named(c.unit_code) if c.unit_code else '本案'} · {beijing(c.due_at)} 到期 · {c.status.label}" for c in open_clocks]
        lines += ["", f"**最近一步**：{self.shown.last_step}"]
        return "\n".join(lines)
