"""A case started at each live revision (onedoor/domain/revisions.py) runs with that revision's behaviour.

Revisions are gated by the case's input (CaseFile.revision), not by workflow.patched: a case keeps the
revision it started with for life, so any of them may be running today and a case can be started at
each. Recorded histories prove that old code paths replay (tests/test_replay.py); these prove that a
case at each revision still runs, to settled and through a breach, doing what its revision says."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from onedoor.domain.case import REVISION, IncidentRef
from onedoor.domain.decisions import IncidentLink, MediationResult, PauseRequest, ResumeRequest, ReturnVisit, UnitFeedback, UnitResponse
from onedoor.domain.labels import Audience, ClockName, ClockStatus, Level, MediationOutcome, PoliceStatus, Source, Stage
from tests.workflows.conftest import eventually, policy, until, wage_arrears
from workflows import search_attributes as sa
from workflows.dispute_case import DisputeCaseWorkflow as Case

REVISIONS = range(1, REVISION + 1)


def summary_of(event: HistoryEvent) -> str:
    """An event's summary as the Temporal UI shows it (user metadata is not sealed)."""
    data = event.user_metadata.summary.data
    return json.loads(data) if data else ""


def timer_summaries(events: list[HistoryEvent]) -> list[str]:
    return [summary_of(e) for e in events if e.timer_started_event_attributes.timer_id]


@pytest.mark.parametrize("revision", REVISIONS)
async def test_a_case_started_at_each_revision_runs_to_settled_as_that_revision_does(cases, departments, revision):
    intake = wage_arrears(source=Source.POLICE, incident=IncidentRef(incident_id="JQ1", reported_at=datetime.now(UTC)))
    handle = await cases.start(intake, revision=revision)
    case = await until(handle, lambda c: c.stage == Stage.DISPATCHED and bool(c.mediations))
    await handle.execute_update(Case.link_incident, IncidentLink(incident_id="JQ2", reported_at=datetime.now(UTC), summary="同一当事人再次报警"))

    # Revision 9: a pause stops the clocks the policy names; before, every running clock.
    paused = await handle.execute_update(Case.pause, PauseRequest(actor="窗口 张敏", reason="等待当事人补充材料"))
    stopped = {c.name for c in paused.clocks if c.status == ClockStatus.PAUSED}
    assert stopped == ({ClockName.FEEDBACK, ClockName.MEDIATION} if revision >= 9 else {ClockName.RESPONSE, ClockName.FEEDBACK, ClockName.MEDIATION})
    await handle.execute_update(Case.resume, ResumeRequest(actor="窗口 张敏"))

    for unit in ("T101-LDS", "T101-SFS"):
        await handle.execute_update(Case.respond, UnitResponse(unit_code=unit, handler="承办人"))
        await handle.execute_update(Case.give_feedback, UnitFeedback(unit_code=unit, handler="承办人", summary="已按职责处理"))
    concluded = await handle.execute_update(Case.conclude_mediation, MediationResult(mediator_id=case.mediations[-1].mediator_id,
                                                                                   outcome=MediationOutcome.AGREEMENT, terms="七日内付清"))
    if revision >= 7:  # revision 7: a decision's answer shows the case after the process acted on it
        assert concluded.stage == Stage.CLOSED
    await until(handle, lambda c: c.stage == Stage.CLOSED)
    visited = await handle.execute_update(Case.record_visit, ReturnVisit(visitor="回访员 李娜", satisfied=True, notes="当事人表示满意"))
    assert visited.stage == (Stage.SETTLED if revision >= 7 else Stage.CLOSED)  # before, settled only after the answer
    settled = await handle.result()
    assert (settled.stage, settled.result, settled.linked_incidents) == (Stage.SETTLED, "mediated", ["JQ2"])

    # Revision 2: the parties are told, beside the process; revision 1 tells no one.
    told = [(n.audience, n.kind) for n in departments.notices(handle.id)]
    assert told == ([] if revision == 1 else [(Audience.PARTY, "received"), (Audience.PARTY, "dispatched"), (Audience.PARTY, "closed")])
    # Revision 2: the police platform hears the case's statuses; revision 7: every incident joined to it does too.
    fed = [(d.incident_id, d.status) for d in departments.documents(handle.id, "onedoor.police-status/v1")]
    if revision == 1:
        assert fed == [("JQ2", PoliceStatus.RECEIVED)]  # only the link's own answer: revision 1 reported nothing else
    else:
        resolved = [("JQ1", PoliceStatus.RESOLVED)] + ([("JQ2", PoliceStatus.RESOLVED)] if revision >= 7 else [])
        assert fed == [("JQ1", PoliceStatus.RECEIVED), ("JQ1", PoliceStatus.DISPATCHED), ("JQ2", PoliceStatus.RECEIVED), *resolved]
    # Revision 5: the case's queue priority follows its grade from triage on (yellow: 2, ahead of blue's 3).
    assert [c.priority_key for c in departments.calls["keep_priority"]] == ([2] if revision >= 5 else [])
    # Revision 3 armed each point in two steps (临近…, then the rest), revision 8 behind a hand-off; before, one timer.
    timers = timer_summaries((await handle.fetch_history()).events)
    approach, handoff = any(s.startswith("临近") for s in timers), any(s.startswith("交接：随后计时至") for s in timers)
    assert (approach, handoff) == (3 <= revision <= 7, revision >= 8)
    # Revision 10: the case's revision is a search attribute, so a query finds the cases still on an old one.
    published = (await handle.describe()).typed_search_attributes.get(sa.REVISION)
    assert published == (revision if revision >= 10 else None)


async def test_a_breach_at_each_revision_is_supervised_as_that_revision_does(cases, departments):
    """All revisions at once (their clocks fall due together): the township's lead unit and its co-unit never respond."""
    handles = {revision: await cases.start(revision=revision, case_policy=policy(response=2, reminders=False)) for revision in REVISIONS}

    async def escalated(handle):
        """The case at the county, and its history until the escalation was written (the county's clocks run out later)."""
        case = await until(handle, lambda c: c.level == Level.COUNTY, timeout=30)
        events = (await handle.fetch_history()).events
        written = next(e.event_id for e in events if e.marker_recorded_event_attributes.marker_name and summary_of(e) == "登记步骤：升级办理")
        return case, [e for e in events if e.event_id < written]

    township = {"T101-LDS", "T101-SFS"}
    for revision, (case, events) in zip(REVISIONS, await asyncio.gather(*(escalated(handle) for handle in handles.values()))):
        handle = handles[revision]
        assert {(o.clock, o.unit_code, o.to_level) for o in case.supervision_orders} == {
            (ClockName.RESPONSE, "T101-LDS", Level.COUNTY), (ClockName.RESPONSE, "T101-SFS", Level.COUNTY)}, revision

        # Revision 7: the late units' own systems receive the order; revision 2: the units and the leader are told.
        def ordered() -> set[str]:
            return {d.unit_code for d in departments.documents(handle.id, "onedoor.supervision/v1")} & township

        def told() -> list[Audience]:
            return sorted(n.audience for n in departments.notices(handle.id, "breach") if any(unit in n.text for unit in township))

        await eventually(lambda: revision < 7 or ordered() == township)
        await eventually(lambda: revision == 1 or len(told()) == 4)
        assert ordered() == (township if revision >= 7 else set()), revision
        assert told() == ([] if revision == 1 else [Audience.LEADER, Audience.LEADER, Audience.UNIT, Audience.UNIT]), revision

        breach_tasks = {e.marker_recorded_event_attributes.workflow_task_completed_event_id for e in events
                        if e.marker_recorded_event_attributes.marker_name and summary_of(e) == "超时督办 响应时限"}
        upserts = {e.upsert_workflow_search_attributes_event_attributes.workflow_task_completed_event_id for e in events
                   if e.HasField("upsert_workflow_search_attributes_event_attributes")}
        handoffs = [e for e in events if e.timer_started_event_attributes.timer_id and summary_of(e) == "交接：超时已登记，随后通知并升级"]
        # Revision 4: a breach is on record first, then a hand-off ends its task before the notices and the escalation. On a
        # loaded machine the record and its hand-off were seen in consecutive tasks, so only their order is asserted here.
        assert len(breach_tasks) >= 1 and len(handoffs) == (2 if revision >= 4 else 0), revision
        assert all(e.timer_started_event_attributes.workflow_task_completed_event_id >= min(breach_tasks) for e in handoffs), revision
        # Revision 6: the task that wakes on the deadline and records the breach publishes no search attributes (a
        # visibility write fewer in a storm); before, it published them first.
        # The deadline's timer is the last one armed towards it (revisions 3–7: 临近…, then the rest unless the first fired past it).
        due = {e.timer_started_event_attributes.timer_id for e in events
               if e.timer_started_event_attributes.timer_id and summary_of(e).removeprefix("临近").startswith("响应时限到期")}
        fired = max(e.event_id for e in events if e.timer_fired_event_attributes.timer_id in due and e.event_id < min(breach_tasks))
        woke = min(e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and e.event_id > fired)
        assert any(woke <= task <= min(breach_tasks) for task in upserts) == (revision < 6), revision
