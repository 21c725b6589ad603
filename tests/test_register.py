"""The register on its own (PostgreSQL in CI, SQLite locally): numbering, idempotent writes, routing."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from activities.register import RegisterActivities
from domain.case import CaseFile, Intake, Place
from domain.labels import Category, ClockName, Level, RiskGrade, Stage
from domain.messages import BreachNotice, RouteRequest, StepRecord
from domain.policy import Policy
from store import register
from store.directory import seed_directory
from store.tables import Case, CaseEvent, SupervisionOrder
from tests.cases import wage_arrears

NOW = datetime(2026, 10, 9, 1, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def activities(sessions):
    with sessions() as session:
        seed_directory(session, "http://127.0.0.1:9")
    return RegisterActivities(sessions)


def intake(**changes) -> Intake:
    form = wage_arrears(**changes)
    form.pop("client_request_id")
    return Intake.model_validate(form)


def test_case_numbers_count_up_per_county_and_year_and_repeat_for_the_same_request(sessions):
    with sessions() as session:
        first, _, new1 = register.claim_case_number(session, "reg-a-0001", intake(), "139002", NOW)
        second, _, new2 = register.claim_case_number(session, "reg-a-0002", intake(summary="另一件"), "139002", NOW)
        again, received, new3 = register.claim_case_number(session, "reg-a-0001", intake(), "139002", NOW + timedelta(hours=1))
        next_year, _, _ = register.claim_case_number(session, "reg-a-0003", intake(), "139002", NOW.replace(year=2027))
    assert (first, second, next_year) == ("139002-2026-000001", "139002-2026-000002", "139002-2027-000001")
    assert (again, received, new1, new2, new3) == (first, NOW, True, True, False)


def test_concurrent_intakes_get_distinct_numbers(sessions):
    def claim(i: int) -> str:
        with sessions() as session:
            return register.claim_case_number(session, f"reg-b-{i:04d}", intake(summary=f"第{i}件"), "139003", NOW)[0]

    async def burst() -> list[str]:
        return await asyncio.gather(*(asyncio.to_thread(claim, i) for i in range(20)))

    numbers = asyncio.run(burst())
    assert sorted(numbers) == [f"139003-2026-{n:06d}" for n in range(1, 21)]


def test_steps_and_breaches_are_written_once_however_often_retried(sessions, activities):
    env = ActivityEnvironment()
    case = CaseFile(case_no="139001-2026-900001", intake=intake(), received_at=NOW, policy=Policy())
    step = StepRecord(case_no=case.case_no, key="dispatched", kind="dispatched", stage=Stage.DISPATCHED, at=NOW, note="派单", lead_unit="T101-LDS", next_deadline=NOW + timedelta(hours=2), overdue=False)
    breach = BreachNotice(case_no=case.case_no, clock=ClockName.RESPONSE, unit_code="T101-LDS", due_at=NOW, breached_at=NOW, from_level=Level.TOWNSHIP, to_level=Level.COUNTY, order="督办")
    for _ in range(3):  # a retried activity, or a replayed workflow, writes the same thing again
        env.run(activities.record_intake, case)
        env.run(activities.record_step, step)
        env.run(activities.record_breach, breach)
    with sessions() as session:
        row = session.get(Case, case.case_no)
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_no == case.case_no).order_by(CaseEvent.id)).all()
        orders = session.scalar(select(func.count()).select_from(SupervisionOrder).where(SupervisionOrder.case_no == case.case_no))
    assert kinds == ["received", "dispatched", "breach"] and orders == 1
    assert (row.stage, row.dispatched_at, row.escalation_count, row.overdue) == ("dispatched", NOW, 1, True)
    assert row.next_deadline == NOW + timedelta(hours=2)  # times come back aware and in UTC
    assert row.parties[0]["name"] == "王建国"


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
    route = ActivityEnvironment().run(activities.route_case, RouteRequest(case_no="x", grade=grade, category=category, place=place))
    assert (route.level, route.jurisdiction_code, route.lead_unit, route.co_units) == expected
