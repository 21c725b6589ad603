"""研判会: every township and county has a Monday-morning schedule that reports the week just ended
from the register; a supervisor reads the report as JSON or as a page with its charts, and can run
any week again. Every figure below was worked out by hand from the register's rows in `seeded`.

The cases sit in a county of their own (示范二县 139099), so no other test's cases change them."""

import asyncio
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from onedoor.domain.timezone import SHANGHAI, as_shanghai
from onedoor.ops.schedules import ensure_weekly_schedules, prepare_schedules, schedule_id
from onedoor.domain.week import week_before
from onedoor.store.tables import Case, CaseClock, Household, Jurisdiction, SupervisionOrder, Unit

COUNTY, TOWNSHIP, OTHER_TOWNSHIP, VILLAGE = "139099", "139099101", "139099102", "139099101201"
SEEDED_SCOPES = ["139001", "139001101", "139001102"]  # the demo directory's county and townships
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
async def seeded(stack, settings, sessions) -> date:
    """A county with two townships, and its register for last week and the four weeks before; then
    the same setup `onedoor up` runs, which gives each township and county its schedule."""
    week = week_before(datetime.now(timezone.utc))

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        """Beijing time, `day` days from last week's Monday."""
        return datetime.combine(week + timedelta(days=day), datetime.min.time(), SHANGHAI).replace(hour=hour, minute=minute)

    with sessions() as session:
        for code, name, level, parent in [
            (COUNTY, "示范二县", "county", None), (TOWNSHIP, "研判镇", "township", COUNTY),
            (OTHER_TOWNSHIP, "研判二乡", "township", COUNTY), (VILLAGE, "幸福村", "village", TOWNSHIP),
        ]:
            session.merge(Jurisdiction(code=code, name=name, level=level, parent_code=parent, has_center=True))
        session.flush()
        for code, name in [("R99-LDS", "研判镇劳动保障所"), ("R99-SFS", "研判镇司法所"), ("R99-ZJB", "研判镇住建办")]:
            session.merge(Unit(code=code, name=name, jurisdiction_code=TOWNSHIP, mode="resident"))
        for household, address, risk in [("HH-R99-1", "幸福村幸福路3号<院>", "yellow"), ("HH-R99-2", "幸福村后街8号", "red"), ("HH-R99-3", "研判镇东街1号", "blue")]:
            session.merge(Household(
                id=household, address_key=f"key-{household}", township_code=TOWNSHIP, village_code=VILLAGE, address=address,
                risk=risk, status="active", case_count=0, opened_at=at(-28, 9),
            ))
        # case: received, category, grade, village?, household, stage, closed
        cases = {
            1: (at(0, 7), "劳动争议", "yellow", True, "HH-R99-1", "handling", None),  # Monday 07:00 Beijing is Sunday in UTC
            2: (at(1, 9), "劳动争议", "red", True, None, "dispatched", None),
            3: (at(2, 10), "劳动争议", "blue", True, None, "closed", at(3, 10)),
            4: (at(3, 15), "邻里", "blue", False, "HH-R99-1", "handling", None),
            5: (at(6, 23, 30), "邻里", "yellow", True, None, "triaged", None),  # Sunday night
            6: (at(4, 11), "其他", None, True, None, "received", None),  # not triaged yet
            8: (at(7, 0), "劳动争议", "red", True, "HH-R99-2", "dispatched", None),  # this Monday: after the week
            9: (at(-1, 23, 59), "婚姻家庭", "blue", True, "HH-R99-2", "settled", at(0, 12)),
            10: (at(-21, 10), "婚姻家庭", "red", True, "HH-R99-2", "handling", None),  # open for four weeks
            11: (at(-28, 9), "劳动争议", "blue", True, "HH-R99-1", "settled", at(-27, 9)),
            12: (at(-27, 9), "邻里", "blue", True, None, "settled", at(-26, 9)),
            13: (at(-26, 9), "合同", "yellow", False, None, "handling", None),
            14: (at(-25, 9), "山林土地", "red", True, None, "settled", at(-10, 9)),  # red, closed before the week
            15: (at(-5, 8), "征地拆迁", "red", True, None, "settled", at(7, 2)),  # red, closed after the week
            18: (at(-3, 9), "交通事故", "red", True, None, "dispatched", at(-2, 9)),  # red, reopened after its return visit
            16: (at(-10, 9), "合同", "blue", False, "HH-R99-3", "settled", at(-9, 9)),
            17: (at(-35, 9), "邻里", "blue", True, None, "settled", at(-34, 9)),  # five weeks back: not in the trend
        }
        for n, (received, category, grade, in_village, household, stage, closed) in cases.items():
            session.add(case_row(n, TOWNSHIP, received, category, grade, VILLAGE if in_village else None, household, stage, closed))
        session.add(case_row(7, OTHER_TOWNSHIP, at(2, 12), "消费", "blue", None, None, "handling", None))
        session.flush()
        # clock: case, id, name, unit, breached, done (answered late, or ended)
        for n, clock_id, name, unit, breached, done in [
            (1, 1, "response", "R99-LDS", at(1, 7), None),  # still overdue: a supervision order this week
            (1, 3, "mediation", None, at(5, 9), None),  # the mediator's, no unit
            (3, 2, "feedback", "R99-SFS", at(2, 20), None),  # ... but the case closed within the week
            (2, 2, "feedback", "R99-SFS", at(4, 9), at(7, 1)),  # answered only after the week
            (10, 1, "response", "R99-SFS", at(-20, 10), None),  # overdue since four weeks, ordered back then
            (9, 1, "response", "R99-ZJB", at(-1, 20), at(-1, 22)),  # ordered last week, answered late
            (5, 1, "response", "R99-ZJB", at(7, 3), None),  # after the week
        ]:
            started = breached - timedelta(hours=2)
            session.add(CaseClock(
                case_no=case_no(n), clock_id=clock_id, name=name, unit_code=unit, level="township", basis="natural",
                started_at=started, due_at=breached, status="breached" if done is None else "met_late", breached_at=breached, done_at=done,
            ))
            session.add(SupervisionOrder(
                case_no=case_no(n), clock_id=clock_id, clock=name, unit_code=unit, from_level="township", to_level="county",
                due_at=breached, issued_at=breached, text=f"{unit or '调解员'} 未在时限内完成，提请县级综治中心督办",
            ))
        session.commit()
    await prepare_schedules(settings)
    return week


def case_no(n: int) -> str:
    return f"{COUNTY}-2026-{n:06d}"


def case_row(n, township, received, category, grade, village, household, stage, closed) -> Case:
    return Case(
        case_no=case_no(n), source="window", category=category, township_code=township, village_code=village,
        summary="研判周报测试案件", parties=[], stage=stage, grade=grade, level="township", received_at=received,
        closed_at=closed, overdue=False, escalation_count=0, last_step=0, household_id=household,
    )


def township_figures(week: date) -> dict:
    """研判镇's week, as a supervisor would count it from the rows above."""
    weeks = [str(week - timedelta(weeks=back)) for back in (4, 3, 2, 1, 0)]
    return {
        "new_cases": 6,
        "by_category": [
            {"category": "劳动争议", "red": 1, "yellow": 1, "blue": 1, "ungraded": 0, "total": 3},
            {"category": "邻里", "red": 0, "yellow": 1, "blue": 1, "ungraded": 0, "total": 2},
            {"category": "其他", "red": 0, "yellow": 0, "blue": 0, "ungraded": 1, "total": 1},
        ],
        "grades": {"category": "合计", "red": 1, "yellow": 2, "blue": 2, "ungraded": 1, "total": 6},
        "trend": [{"week_start": w, "new_cases": n} for w, n in zip(weeks, [4, 1, 1, 3, 6])],
        "previous_average": 2.25,
        "hot_spots": [
            {"place_code": VILLAGE, "place_name": "幸福村", "category": "劳动争议", "new_cases": 3},
            {"place_code": TOWNSHIP, "place_name": "研判镇", "category": "邻里", "new_cases": 1},
            {"place_code": VILLAGE, "place_name": "幸福村", "category": "其他", "new_cases": 1},
            {"place_code": VILLAGE, "place_name": "幸福村", "category": "邻里", "new_cases": 1},
        ],
        # (file, address, risk, cases, of them this week); no party's name anywhere
        "repeat_households": [("HH-R99-1", "幸福村幸福路3号<院>", "yellow", 3, 2), ("HH-R99-2", "幸福村后街8号", "red", 2, 0)],
        "overdue_units": [
            {"unit_code": "R99-SFS", "unit_name": "研判镇司法所", "supervision_orders": 2, "overdue_open_cases": 2},
            {"unit_code": "R99-LDS", "unit_name": "研判镇劳动保障所", "supervision_orders": 1, "overdue_open_cases": 1},
        ],
        # (case, stage now, whole days open at the week's end)
        "open_red_cases": [(case_no(10), "handling", 27), (case_no(15), "settled", 11), (case_no(18), "dispatched", 9), (case_no(2), "dispatched", 5)],
    }


def county_figures(week: date) -> dict:
    """示范二县: its two townships together; 研判二乡 had one consumer dispute."""
    figures = township_figures(week)
    figures["new_cases"] = 7
    figures["by_category"].append({"category": "消费", "red": 0, "yellow": 0, "blue": 1, "ungraded": 0, "total": 1})
    figures["grades"] = figures["grades"] | {"blue": 3, "total": 7}
    figures["trend"][-1]["new_cases"] = 7
    figures["hot_spots"].append({"place_code": OTHER_TOWNSHIP, "place_name": "研判二乡", "category": "消费", "new_cases": 1})
    return figures


def assert_figures(report: dict, expected: dict, week: date) -> None:
    figures = report["figures"]
    assert figures["schema_version"] == "onedoor.weekly-report/v1"
    assert (figures["week_start"], figures["week_end"]) == (str(week), str(week + timedelta(days=6)))
    assert datetime.fromisoformat(figures["cut_off"]) == datetime.combine(week + timedelta(days=7), datetime.min.time(), SHANGHAI)
    for name in ("new_cases", "by_category", "grades", "trend", "previous_average", "hot_spots", "overdue_units"):
        assert figures[name] == expected[name], name
    households = [(h["household_id"], h["address"], h["risk"], h["cases"], h["cases_this_week"]) for h in figures["repeat_households"]]
    assert households == expected["repeat_households"]
    assert [(c["case_no"], c["stage"], c["days_open"]) for c in figures["open_red_cases"]] == expected["open_red_cases"]
    assert all(c["received_at"].endswith("+08:00") for c in figures["open_red_cases"])  # Beijing time at the API


async def wait_for_report(api, scope: str, week: date, since: datetime, timeout: float = 30) -> dict:
    """The report of that scope and week, once one generated since the given moment is listed."""
    deadline = time.monotonic() + timeout
    while True:
        listed = (await api.get("/reports", params={"scope": scope})).json()
        if any(r["week_start"] == str(week) and datetime.fromisoformat(r["generated_at"]) >= since for r in listed):
            return (await api.get(f"/reports/{scope}/{week}")).json()
        assert time.monotonic() < deadline, f"no report of {scope} for {week}: {listed}"
        await asyncio.sleep(0.2)


async def test_every_township_and_county_has_its_monday_morning_schedule(temporal, settings, seeded):
    for scope in [*SEEDED_SCOPES, COUNTY, TOWNSHIP, OTHER_TOWNSHIP]:
        described = await temporal.client.get_schedule_handle(schedule_id(scope)).describe()
        assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
        assert described.schedule.action.workflow == "WeeklyReportWorkflow"
        assert described.schedule.action.task_queue == settings.task_queue
        upcoming = [as_shanghai(moment) for moment in described.info.next_action_times]
        assert upcoming and all((t.weekday(), t.hour, t.minute) == (0, 9, 0) for t in upcoming), upcoming


async def test_a_new_time_is_taken_at_the_next_start_and_a_paused_schedule_stays_paused(temporal, settings, seeded):
    schedule = temporal.client.get_schedule_handle(schedule_id(OTHER_TOWNSHIP))

    async def next_runs() -> set[tuple[int, int, int]]:
        return {(t.weekday(), t.hour, t.minute) for t in map(as_shanghai, (await schedule.describe()).info.next_action_times)}

    await schedule.pause(note="乡里本周开会改期 meeting moved")
    earlier = settings.model_copy(update={"weekly_report_cron": "30 8 * * 1"})  # ONEDOOR_WEEKLY_REPORT_CRON=…
    try:
        assert await ensure_weekly_schedules(temporal.client, earlier, {OTHER_TOWNSHIP: "研判二乡"}) == []  # updated, not created
        assert (await schedule.describe()).schedule.state.paused
        await schedule.unpause()
        assert await next_runs() == {(0, 8, 30)}
    finally:
        await prepare_schedules(settings)
        await schedule.unpause()
    assert await next_runs() == {(0, 9, 0)}


async def test_the_monday_schedule_reports_last_week_as_the_register_has_it(api, temporal, seeded):
    triggered = datetime.now(timezone.utc)
    await temporal.client.get_schedule_handle(schedule_id(TOWNSHIP)).trigger()
    report = await wait_for_report(api, TOWNSHIP, seeded, since=triggered)
    assert_figures(report, township_figures(seeded), seeded)
    assert report["figures"]["scope_name"] == "研判镇" and set(report["charts"]) == {"categories", "trend"}


async def test_a_county_report_run_on_demand_adds_up_its_townships_and_a_rerun_replaces_it(api, seeded):
    first = await api.post(f"/reports/{COUNTY}/{seeded}")
    assert first.status_code == 200, first.text
    assert_figures(first.json(), county_figures(seeded), seeded)
    again = await api.post(f"/reports/{COUNTY}/{seeded}")
    assert again.status_code == 200 and again.json()["figures"] == first.json()["figures"]
    listed = [r for r in (await api.get("/reports", params={"scope": COUNTY})).json() if r["week_start"] == str(seeded)]
    assert len(listed) == 1 and listed[0]["new_cases"] == 7 and listed[0]["generated_at"] == again.json()["generated_at"]


async def test_the_report_page_shows_its_tables_and_charts(api, seeded):
    assert (await api.post(f"/reports/{TOWNSHIP}/{seeded}")).status_code == 200
    page = await api.get(f"/reports/{TOWNSHIP}/{seeded}/html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for table in ("new-cases", "trend", "hot-spots", "repeat-households", "overdue-units", "open-red-cases"):
        assert f'<table id="{table}">' in html, table
    assert "研判镇" in html and "研判镇司法所" in html and case_no(10) in html
    assert html.count('src="data:image/png;base64,') == 2
    assert "幸福路3号&lt;院&gt;" in html and "<院>" not in html  # an address typed by staff is text, never markup
    for name in ("categories", "trend"):
        chart = await api.get(f"/reports/{TOWNSHIP}/{seeded}/charts/{name}.png")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(PNG) and len(chart.content) > 1000
    assert (await api.get(f"/reports/{TOWNSHIP}/{seeded}/charts/pie.png")).status_code == 404


async def test_any_past_week_can_be_run_even_one_with_no_cases(api, seeded):
    quiet = date(2019, 1, 7)
    report = await api.post(f"/reports/{TOWNSHIP}/{quiet}")
    assert report.status_code == 200, report.text
    figures = report.json()["figures"]
    assert figures["new_cases"] == 0 and [w["new_cases"] for w in figures["trend"]] == [0] * 5
    assert not (figures["by_category"] or figures["hot_spots"] or figures["repeat_households"] or figures["overdue_units"] or figures["open_red_cases"])
    assert (await api.get(f"/reports/{TOWNSHIP}/{quiet}/charts/categories.png")).content.startswith(PNG)


async def test_bad_report_requests_are_refused_naming_what_is_wrong(api, seeded):
    tuesday = seeded + timedelta(days=1)
    for response in (await api.post(f"/reports/{TOWNSHIP}/{tuesday}"), await api.get(f"/reports/{TOWNSHIP}/{tuesday}")):
        assert response.status_code == 422 and "week_start" in response.json()["detail"] and "星期一" in response.json()["detail"]
    not_a_date = await api.get(f"/reports/{TOWNSHIP}/last-week")
    assert not_a_date.status_code == 422 and "week_start" in not_a_date.json()["detail"]
    next_week = seeded + timedelta(weeks=2)
    assert (await api.post(f"/reports/{TOWNSHIP}/{next_week}")).status_code == 422
    for scope in ("999999", VILLAGE):  # unknown, and a village (reports are by township and county)
        assert (await api.post(f"/reports/{scope}/{seeded}")).status_code == 404
        assert (await api.get("/reports", params={"scope": scope})).status_code == 404
    never_run = await api.get(f"/reports/{OTHER_TOWNSHIP}/2019-01-07")
    assert never_run.status_code == 404 and "研判二乡" in never_run.json()["detail"]
