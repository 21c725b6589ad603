"""Writing the case's steps to the register: each with its audit entry, and what the Temporal UI shows of it."""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onedoor.domain.decisions import SignedIn
    from onedoor.domain.labels import Stage, StepKind
    from onedoor.domain.messages import StepParts, StepRecord
    from onedoor.domain.state import Step

from workflows.calls import REGISTER
from workflows.case.view import CaseView

SYSTEM = "系统"  # the actor of what the clocks decide


class CaseRegister(CaseView):
    async def advance(self, stage: Stage, note: str, by: str = SYSTEM, role: str = "system", user: SignedIn | None = None, parts: StepParts | None = None) -> None:
        """The case moves to a stage: on its timeline, in the UI and in the register."""
        self.settle_answered_clocks()
        self.state.stage = stage
        self.note_step(stage, note, workflow.now())
        self.publish(StepKind(stage.value).label)
        await self.record(StepKind(stage.value), note, by, role, user, stage=stage, parts=parts)

    async def record(self, kind: StepKind, note: str, by: str = SYSTEM, role: str = "system", user: SignedIn | None = None,
                     body: str | None = None, stage: Stage | None = None, parts: StepParts | None = None) -> None:
        """Write the step to the register, keyed by case and step number so a retry writes once,
        with its audit entry: who did it (the name they gave, and the signed-in user the API bound the
        decision to), in which role, and the fields it changed; `body`, the body or unit it was
        addressed to (a confirmation's court: the register's scope for that body); `stage`, the stage it
        moved the case to (advance); `parts`, the words the case's papers print apart from the note. A local activity's input is not compared on replay: a new field changes no recorded history."""
        self.written.steps += 1
        state = self.state
        if stage is None:
            self.settle_answered_clocks()
            self.publish(kind.label)
        now = self.audit_fields()
        written = self.written
        changed = [name for name, value in now.items() if written.audited[name] != value]
        before, written.audited = written.audited, now
        await workflow.execute_local_activity(
            "record_step",
            StepRecord(
                case_no=state.case_no, seq=written.steps, kind=kind, stage=stage, at=workflow.now(), note=note,
                grade=state.grade, level=state.level, jurisdiction_code=state.jurisdiction_code, lead_unit=state.lead_unit,
                mediator_id=state.mediation.mediator_id if state.mediation else None, result=state.result,
                next_deadline=state.next_deadline, overdue=state.overdue, escalation_count=len(state.escalations),
                satisfied=now["satisfied"], clocks=self.clocks_now(), actor=by, role=role, signed_in=user,
                before={name: before[name] for name in changed}, after={name: now[name] for name in changed}, body_code=body, parts=parts,
            ),
            summary=f"登记步骤：{kind.label}",  # never the note: it may hold a person's words
            **REGISTER,
        )

    def audit_fields(self) -> dict[str, object]:
        """The case's fields an audit entry compares, as plain JSON values."""
        state, visit = self.state, self.decided.visit
        return {
            "stage": state.stage.value, "grade": state.grade and state.grade.value, "level": state.level and state.level.value,
            "jurisdiction_code": state.jurisdiction_code, "lead_unit": state.lead_unit,
            "mediator_id": state.mediation and state.mediation.mediator_id, "result": state.result and state.result.value,
            "overdue": state.overdue, "paused": state.paused is not None, "satisfied": visit and visit.satisfied,
        }

    def note_step(self, stage: Stage, note: str, at: datetime) -> None:
        self.state.steps.append(Step(at=at, stage=stage, note=note))
        # The stage, never the note: it may hold a person's words, and logs keep none (README › Security).
        workflow.logger.info("case step", extra={"case_no": self.case.case_no, "stage": stage.value})
