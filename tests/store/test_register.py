"""The register on its own (PostgreSQL in CI, SQLite locally): numbering, idempotent writes, routing."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from temporalio.testing import ActivityEnvironment

from activities.register import RegisterActivities
from onedoor.domain.case import CaseFile, Intake, Place
from onedoor.domain.labels import Backstop, Category, ClockName, ClockStatus, Level, RiskGrade, Stage
from onedoor.domain.messages import BackstopRequest, ClockNotice, MediatorRequest, RouteRequest, StepRecord
from onedoor.domain.policy import Policy
from onedoor.store import register
from onedoor.domain.state import Clock
from onedoor.store.db import make_engine
from onedoor.store.tables import AuditEntry, Base, Case, CaseClock, CaseEvent, SupervisionOrder
from tests.cases import wage_arrears

NOW = datetime(2026, 10, 9, 1, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def activities(sessions, keys):
    """The register's activities on the session's register, its directory seeded (by `keys`) with
    the units' systems at the session's simulator, which the other tests' cases deliver to."""
    return RegisterActivities(sessions)


def intake(**changes) -> Intake:
    form = wage_arrears(**changes)
    form.pop("client_request_id")
    return Intake.model_validate(form)


def test_case_numbers_count_up_per_county_and_year_and_repeat_for_the_same_request(sessions):
    with sessions() as session:
        form = intake()
        first, _, new1 = register.claim_case_number(session, "reg-a-0001", form, "139002", NOW)
        second, _, new2 = register.claim_case_number(session, "reg-a-0002", intake(summary="另一件"), "139002", NOW)
        again, received, new3 = register.claim_case_number(session, "reg-a-0001", form, "139002", NOW + timedelta(hours=1))
        next_year, _, _ = register.claim_case_number(session, "reg-a-0003", intake(), "139002", NOW.replace(year=2027))
    assert (first, second, next_year) == ("139002-2026-000001", "139002-2026-000002", "139002-2027-000001")
    assert (again, received, new1, new2, new3) == (first, NOW, True, True, False)


def test_concurrent_intakes_get_distinct_numbers(sessions):
    def claim(i: int) -> str:
        with sessions() as session:
            number = register.claim_case_number(session, f"reg-b-{i:04d}", intake(summary=f"第{i}件"), "139003", NOW)[0]
            session.commit()  # with the case row, in the API
            return number

    async def burst() -> list[str]:
        return await asyncio.gather(*(asyncio.to_thread(claim, i) for i in range(20)))

    numbers = asyncio.run(burst())
    assert sorted(numbers) == [f"139003-2026-{n:06d}" for n in range(1, 21)]


def test_steps_and_breaches_are_written_once_however_often_retried(sessions, activities):
    env = ActivityEnvironment()
    case = CaseFile(case_no="139001-2026-900001", intake=intake(), received_at=NOW, policy=Policy())
    clock = Clock(id=0, name=ClockName.RESPONSE, unit_code="T101-LDS", level=Level.TOWNSHIP, started_at=NOW, due_at=NOW + timedelta(hours=2))
    step = StepRecord(case_no=case.case_no, seq=2, kind="dispatched", stage=Stage.DISPATCHED, at=NOW, note="派单", lead_unit="T101-LDS",
                      next_deadline=clock.due_at, overdue=False, clocks=[clock])
    older = step.model_copy(update={"seq": 1, "kind": "triaged", "stage": Stage.TRIAGED, "clocks": []})
    breached = clock.model_copy(update={"status": ClockStatus.BREACHED, "breached_at": clock.due_at})
    breach = ClockNotice(case_no=case.case_no, kind="breach", clock_id=0, clock=breached, to_level=Level.COUNTY, text="督办")
    for _ in range(3):  # a retried activity, or a replayed workflow, writes the same thing again
        env.run(activities.record_intake, case)
        env.run(activities.record_step, step)
        env.run(activities.record_step, older)  # arrives late: its row and its time, but the stage does not regress
        env.run(activities.record_clock_notice, breach)
    with sessions() as session:
        row = session.get(Case, case.case_no)
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_no == case.case_no).order_by(CaseEvent.id)).all()
        orders = session.scalars(select(SupervisionOrder).where(SupervisionOrder.case_no == case.case_no)).all()
        stored = session.get(CaseClock, (case.case_no, 0))
        audited = session.scalars(select(AuditEntry.action).where(AuditEntry.case_no == case.case_no).order_by(AuditEntry.id)).all()
    assert kinds == ["received", "dispatched", "triaged", "breach"]
    assert audited == ["received", "dispatched", "triaged", "breach"]  # one audit entry per change, however often retried
    assert [(o.unit_code, o.from_level, o.to_level) for o in orders] == [("T101-LDS", "township", "county")]
    assert (row.stage, row.dispatched_at, row.triaged_at, row.last_step, row.overdue) == ("dispatched", NOW, NOW, 2, True)
    assert row.next_deadline == NOW + timedelta(hours=2)  # times come back aware and in UTC
    assert (stored.status, stored.breached_at) == ("breached", clock.due_at)
    assert row.parties[0]["name"] == "王建国"


def test_steps_written_out_of_order_keep_each_ones_stage_and_time(sessions, activities):
    """Two units answering at once: the case's steps are local activities running side by side, and the later
    one (a feedback, which moves no stage) may commit first. The register still shows the case handling,
    when it was responded to and when fed back, with the newer step's figures (seen in a full run, once)."""
    env = ActivityEnvironment()
    case = CaseFile(case_no="139001-2026-900002", intake=intake(summary="同时答复"), received_at=NOW, policy=Policy())
    dispatched = StepRecord(case_no=case.case_no, seq=1, kind="dispatched", stage=Stage.DISPATCHED, at=NOW, note="派单", lead_unit="T101-LDS", overdue=False)
    handling = dispatched.model_copy(update={"seq": 2, "kind": "handling", "stage": Stage.HANDLING, "at": NOW + timedelta(minutes=5), "note": "响应"})
    fed_back = dispatched.model_copy(update={"seq": 3, "kind": "fed_back", "stage": None, "at": NOW + timedelta(minutes=6), "note": "反馈",
                                             "escalation_count": 1})
    env.run(activities.record_intake, case)
    env.run(activities.record_step, dispatched)
    env.run(activities.record_step, fed_back)
    env.run(activities.record_step, handling)
    with sessions() as session:
        row = session.get(Case, case.case_no)
    assert (row.stage, row.responded_at, row.feedback_at, row.last_step, row.escalation_count) == ("handling", handling.at, fed_back.at, 3, 1)


@pytest.mark.parametrize("change", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"])
def test_the_audit_log_cannot_be_rewritten(sessions, activities, change):
    ActivityEnvironment().run(activities.record_intake, CaseFile(case_no="139001-2026-900002", intake=intake(), received_at=NOW, policy=Policy()))
    with sessions() as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(change + " WHERE case_no = '139001-2026-900002'"))


@pytest.mark.parametrize(
    ("grade", "category", "place", "expected"),
    [
        (RiskGrade.BLUE, Category.NEIGHBOUR, Place(township_code="139001101", village_code="139001101201"), (Level.VILLAGE, "139001101201", "V201-TWH", [])),
        # 李庄村 has no center of its own: its blue cases go to 河东乡.
        (RiskGrade.BLUE, Category.NEIGHBOUR, Place(township_code="139001102", village_code="139001102202"), (Level.TOWNSHIP, "139001102", "T102-SFS", [])),
        (RiskGrade.YELLOW, Category.LABOUR, Place(township_code="139001102"), (Level.TOWNSHIP, "139001102", "T102-LDS", ["T102-SFS"])),
        (RiskGrade.RED, Category.LAND_REQUISITION, Place(township_code="139001101"), (Level.COUNTY, "139001", "C-ZRZYJ", ["C-SFJ"])),
        (RiskGrade.RED, Category.MARRIAGE_FAMILY, Place(township_code="139001101"), (Level.COUNTY, "139001", "C-SFJ", [])),
    ],
)
def test_routing_follows_grade_and_the_duty_list(activities, grade, category, place, expected):
    routing = ActivityEnvironment().run(activities.route_case, RouteRequest(case_no="x", grade=grade, category=category, place=place))
    route = routing.route
    assert (route.level, route.jurisdiction_code, route.lead_unit, route.co_units) == expected
    assert routing.centers[Level.COUNTY] == "139001" and routing.leaders["139001"][0].startswith("县综治中心值班领导")


def test_routing_carries_the_rotas_of_the_rotating_units_it_routes_to(activities):
    request = RouteRequest(case_no="x", grade=RiskGrade.YELLOW, category=Category.LABOUR, place=Place(township_code="139001102"))
    route = ActivityEnvironment().run(activities.route_case, request).route
    assert route.rotas == {"T102-LDS": [1, 3, 5]}  # the labour station rotates Mon/Wed/Fri; the justice office (co-unit) is resident


def test_escalation_routes_at_the_level_asked(activities):
    request = RouteRequest(case_no="x", grade=RiskGrade.BLUE, category=Category.LABOUR, place=Place(township_code="139001101", village_code="139001101201"), level=Level.COUNTY)
    route = ActivityEnvironment().run(activities.route_case, request).route
    assert (route.level, route.lead_unit, route.co_units) == (Level.COUNTY, "C-RSJ", ["C-SFJ"])


def test_gold_mediators_first_for_serious_cases_and_never_the_same_one_twice(activities):
    env = ActivityEnvironment()
    gold = env.run(activities.assign_mediator, MediatorRequest(case_no="x", jurisdiction_code="139001101", gold_first=True))
    other = env.run(activities.assign_mediator, MediatorRequest(case_no="x", jurisdiction_code="139001101", gold_first=True, exclude=[gold.mediator_id]))
    assert (gold.mediator_id, gold.gold, other.gold) == ("M-T101-1", True, False)


@pytest.mark.parametrize(("kind", "body"), [(Backstop.ARBITRATION, "C-LDZC"), (Backstop.LITIGATION, "C-FY"), (Backstop.LEGAL_AID, "C-FLYZ"), (Backstop.NOTARY, "C-GZC")])
def test_backstop_bodies_are_found_up_the_ladder(activities, kind, body):
    centers = {Level.TOWNSHIP: "139001101", Level.COUNTY: "139001"}
    assert ActivityEnvironment().run(activities.find_backstop_body, BackstopRequest(case_no="x", kind=kind, centers=centers)) == body


def test_migrations_build_exactly_the_models(database_url):
    """The Alembic revisions and the SQLAlchemy models agree, column for column (PostgreSQL enforces lengths)."""
    with make_engine(database_url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
