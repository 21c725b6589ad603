"""The household file (家庭和谐服务档案) as its workflow keeps it: opened by a case, its risk raised by each
case and by repeats, a grid worker reminded when a visit falls due and again while it is missed, one
grade down after each calm period until it closes, and continued-as-new with its whole state. Its
intervals last seconds (HouseholdPolicy in the file's input)."""

import uuid
from datetime import UTC, datetime, timedelta

from onedoor.domain.household import REVISION, HouseholdFile, HouseholdState, HouseholdStatus, LinkedCase, VisitReport
from onedoor.domain.labels import Audience, RiskGrade
from onedoor.domain.policy import HouseholdPolicy
from tests.workflows.conftest import TOWNSHIP, VILLAGE, eventually, refused
from workflows.clock import beijing
from workflows.household import HouseholdWorkflow as File, household_workflow_id

VISIT = VisitReport(visitor="网格员 王芳", notes="夫妻关系缓和，已约定下月再访")
DAYS = timedelta(days=1000)  # an interval that never comes in a test


def household_policy(**seconds: float) -> HouseholdPolicy:
    """Visit intervals and the calm period in seconds; the rest as a deployment has them."""
    lengths = dict(red_visit_every=DAYS, yellow_visit_every=DAYS, blue_visit_every=DAYS, calm_period=DAYS) | {
        name: timedelta(seconds=value) for name, value in seconds.items()}
    return HouseholdPolicy(**lengths)


async def open_file(cases, policy: HouseholdPolicy, revision: int = REVISION, history_limit: int | None = None, **start):
    household_id = f"H-{uuid.uuid4().hex[:10]}"
    state = HouseholdState(household_id=household_id, township_code=TOWNSHIP, village_code=VILLAGE, grid_worker_id="G-0001", grid_worker_name="王芳",
                           opened_at=datetime.now(UTC))
    if history_limit:
        policy = policy.model_copy(update={"history_limit": history_limit})
    return await cases.started_one(File.run, HouseholdFile(policy=policy, state=state, revision=revision), household_workflow_id(household_id), **start)


def case(grade: RiskGrade, case_no: str | None = None) -> LinkedCase:
    return LinkedCase(case_no=case_no or f"139001-2026-{uuid.uuid4().hex[:6]}", grade=grade, at=datetime.now(UTC))


async def state_of(cases, handle, predicate, timeout: float = 15) -> HouseholdState:
    """The file as its run now (after any continue-as-new) has it, once predicate holds."""
    newest = cases.client.get_workflow_handle(handle.id)

    async def matching() -> HouseholdState | None:
        state = await newest.query(File.status)
        return state if predicate(state) else None

    return await eventually(matching, timeout=timeout)


async def test_a_visit_is_refused_before_a_case_opens_the_file_and_once_it_has_closed(cases, departments):
    telling = departments.hold("notify")  # the closing file waits for its reminders to get through
    handle = await open_file(cases, household_policy(blue_visit_every=1, calm_period=2), task_timeout=timedelta(seconds=1))
    assert await refused(handle, File.record_visit, VISIT) == ("OutOfTurn", "档案尚未纳入纠纷，暂无走访安排 (no case linked yet)")
    await handle.signal(File.link_case, case(RiskGrade.BLUE))
    await state_of(cases, handle, lambda s: s.status == HouseholdStatus.CLOSED, timeout=20)
    assert await refused(handle, File.record_visit, VISIT) == ("OutOfTurn", "本户档案已销档，不再走访 (household file is closed)")
    telling.release()
    closed = await handle.result()
    assert (closed.status, closed.visits, [c.risk for c in closed.risk_history]) == (HouseholdStatus.CLOSED, [], [RiskGrade.BLUE, None])


async def test_a_visit_falling_due_is_told_to_the_grid_workers_township_and_told_again_while_it_is_missed(cases, departments):
    handle = await open_file(cases, household_policy(red_visit_every=1))
    await handle.signal(File.link_case, case(RiskGrade.RED))
    told = await eventually(lambda: len(departments.calls["notify"]) >= 2 and departments.calls["notify"], timeout=15)
    state = await handle.query(File.status)
    due = beijing(state.next_visit_at)
    assert [(n.audience, n.recipient, n.kind) for n in told[:2]] == [(Audience.OPERATOR, TOWNSHIP, "visit_reminder")] * 2
    assert told[0].text == f"走访提醒：红色家庭 {state.household_id}（{VILLAGE}）应于 {due} 前走访，已到期，请网格员 G-0001 安排走访"
    assert told[1].text == f"走访提醒：红色家庭 {state.household_id}（{VILLAGE}）应于 {due} 前走访，已逾期，请网格员 G-0001 安排走访"
    assert told[0].key != told[1].key and state.reminders >= 2
    # The visit is recorded, and the next one falls due an interval after it.
    visited = await handle.execute_update(File.record_visit, VISIT)
    [visit] = visited.visits
    assert (visit.seq, visit.risk, visited.next_visit_at) == (1, RiskGrade.RED, visit.at + timedelta(seconds=1))
    written = [r for r in departments.calls["record_household"] if r.visit is not None]
    assert [r.visit.seq for r in written] == [1]


async def test_at_revision_1_a_reminder_is_the_grid_worker_log_line_and_a_continued_file_takes_the_current_revision(cases, departments):
    handle = await open_file(cases, household_policy(red_visit_every=1), revision=1, history_limit=20)
    await handle.signal(File.link_case, case(RiskGrade.RED))
    [reminder] = await eventually(lambda: departments.calls["remind_grid_worker"][:1], timeout=15)
    assert reminder.text.startswith(f"走访提醒：红色家庭 {reminder.household_id} 应于 ") and reminder.text.endswith("请网格员 王芳安排")
    assert departments.calls["notify"] == []
    # Past its history limit the file continues as new, whole, at the current revision: its reminders become notices.
    for _ in range(3):
        await handle.signal(File.link_case, case(RiskGrade.BLUE))
    continued = await state_of(cases, handle, lambda s: len(s.cases) == 4)
    assert continued.household_id == reminder.household_id and continued.risk == RiskGrade.RED
    await eventually(lambda: departments.calls["notify"], timeout=15)
    newest = await cases.client.get_workflow_handle(handle.id).describe()
    assert newest.run_id != handle.first_execution_run_id


async def test_cases_raise_the_risk_repeats_make_it_red_and_the_same_case_counts_once(cases, departments):
    handle = await open_file(cases, household_policy())
    first = case(RiskGrade.BLUE)
    await handle.signal(File.link_case, first)
    await handle.signal(File.link_case, first)  # a retried link
    await handle.signal(File.link_case, case(RiskGrade.BLUE))
    yellow = await state_of(cases, handle, lambda s: len(s.cases) == 2)
    assert (yellow.risk, yellow.risk_reason) == (RiskGrade.YELLOW, "365日内纠纷 2 件")
    await handle.signal(File.link_case, case(RiskGrade.BLUE))
    red = await state_of(cases, handle, lambda s: len(s.cases) == 3)
    assert (red.risk, red.risk_reason) == (RiskGrade.RED, "365日内纠纷 3 件（重复纠纷）")
    assert [r.case_count for r in departments.calls["record_household"]][-1] == 3


async def test_a_calm_file_steps_down_a_grade_each_calm_period_and_closes(cases, departments):
    handle = await open_file(cases, household_policy(calm_period=1))
    await handle.signal(File.link_case, case(RiskGrade.RED))
    closed = await handle.result()
    assert [c.risk for c in closed.risk_history] == [RiskGrade.RED, RiskGrade.YELLOW, RiskGrade.BLUE, None]
    assert closed.risk_history[-1].reason == "平稳期内无新纠纷，销档" and closed.closed_at is not None
    assert departments.calls["record_household"][-1].status == HouseholdStatus.CLOSED
