"""A center's own calendar through the API: an admin enters next year's State Council notice (JSON
or CSV) and a center's closure day; the stack warns while next year is unknown; a case takes the
calendar in force at intake with it, and a later edit reaches its clocks not yet due by a signal its
history keeps, so it replays unchanged."""

from datetime import UTC, date, datetime, time

import pytest

from onedoor.domain.calendar import library_year
from onedoor.domain.policy import ClockRule
from onedoor.domain.clocks import deadline
from onedoor.domain.timezone import SHANGHAI, as_shanghai
from onedoor.store import calendars
from tests.cases import clock, decide, register_case, wage_arrears, wait_for
from tests.conftest import keep_history, sized_clocks

TOWNSHIP, COUNTY = "139001101", "139001"  # the wage case's township, and its county
REPORT_WEEK = date(2018, 1, 1)  # a Monday no other test reports on
NOTICE_2027_CSV = "date,kind,name\n2027-01-01,休,元旦\n2027-01-02,休,元旦\n2027-01-03,休,元旦\n2027-02-20,班,春节调休\n"


@pytest.fixture
async def restore(api):
    saved: dict[str, dict] = {}

    async def keep(scope: str) -> None:
        entries = (await api.get(f"/calendars/{scope}")).json()
        saved.setdefault(scope, {k: entries[k] for k in ("week", "holidays", "workdays", "years")})

    yield keep
    for scope, entries in saved.items():
        assert (await api.put(f"/calendars/{scope}", json=entries)).status_code == 200


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_an_admin_enters_2027s_notice_and_the_warning_ends(api, restore, sessions):
    await restore(COUNTY)
    today = as_shanghai(datetime.now(UTC)).date()
    unknown = today.month >= 11 and library_year(today.year + 1) is None
    if unknown:  # from 1 November while the library lacks next year (chinesecalendar 1.11 and 2027)
        assert str(today.year + 1) in (await api.get("/healthz")).json()["detail"]
        report = await api.post(f"/reports/{TOWNSHIP}/{REPORT_WEEK}")  # the weekly report's footer says so too
        assert str(today.year + 1) in report.json()["figures"]["calendar_warning"]
        assert 'id="calendar-warning"' in (await api.get(f"/reports/{TOWNSHIP}/{REPORT_WEEK}/html")).text

    refused = await api.post(f"/calendars/{COUNTY}/notices/2027", content="2026-12-31,休,元旦\n", headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422 and "2026-12-31" in refused.json()["detail"]
    bad = await api.post(f"/calendars/{COUNTY}/notices/2027", content="2027-01-01,放假\n", headers={"Content-Type": "text/csv"})
    assert bad.status_code == 422 and "csv 第 1 行" in bad.json()["detail"]
    entered = await api.post(f"/calendars/{COUNTY}/notices/2027", content=NOTICE_2027_CSV, headers={"Content-Type": "text/csv"})
    assert entered.status_code == 200, entered.text
    assert entered.json()["years"] == [2027] and entered.json()["holidays"]["2027-01-01"] == "元旦" and entered.json()["updated_by"] == "测试管理员"
    if today.year == 2026:
        assert "detail" not in (await api.get("/healthz")).json()
        assert (await api.post(f"/reports/{TOWNSHIP}/{REPORT_WEEK}")).json()["figures"]["calendar_warning"] is None

    # A case received on New Year's Eve takes 2027's holidays with it: one working day is Monday the 4th.
    with sessions() as session:
        taken = calendars.case_calendars(session, TOWNSHIP, sized_clocks().office_hours, date(2026, 12, 31))
    assert 2027 in taken.of(TOWNSHIP).years and taken.of(TOWNSHIP).office(date(2027, 1, 1)) == ([], True)
    assert taken.of(TOWNSHIP).office(date(2027, 2, 20))[0]  # the make-up Saturday is open
    due = deadline(datetime(2026, 12, 31, 9, tzinfo=SHANGHAI), ClockRule(term="1个工作日"), taken.of(TOWNSHIP))
    assert as_shanghai(due.due_at) == datetime(2027, 1, 4, 17, 30, tzinfo=SHANGHAI)

    json_notice = await api.post(f"/calendars/{COUNTY}/notices/2028", json={"holidays": {"2028-01-01": "元旦"}})
    assert json_notice.status_code == 200 and json_notice.json()["years"] == [2027, 2028]
    assert (await api.get("/calendars/999999")).status_code == 404


async def test_a_closure_entered_later_reaches_a_running_case(api, clocks, restore, handle):
    """A center's closure day and lunch break entered after intake reach the running case's working-day
    clock not yet due (the recalendar signal carries the new snapshot, so its history replays), and
    the next case counts on the new calendar from the start."""
    await restore(TOWNSHIP)
    policy = sized_clocks()
    policy.yellow.feedback = ClockRule(term="1个工作日")
    clocks(policy)
    case_no = await register_case(api)
    before = clock(await wait_for(api, case_no, lambda c: c["stage"] == "dispatched"), "feedback")
    due_day = as_shanghai(at(before["due_at"])).date()
    assert before["basis"] == "working_days" and as_shanghai(at(before["due_at"])).time() == time(17, 30)

    closed = {"week": {str(d): [{"opens": "08:30", "closes": "12:00"}, {"opens": "14:30", "closes": "17:00"}] for d in range(1, 6)},
              "holidays": {due_day.isoformat(): "镇综治中心搬迁闭馆"}, "workdays": {}, "years": []}
    assert (await api.put(f"/calendars/{TOWNSHIP}", json=closed)).status_code == 200
    moved = clock(await wait_for(api, case_no, lambda c: clock(c, "feedback")["due_at"] != before["due_at"]), "feedback")
    due = as_shanghai(at(moved["due_at"]))
    assert due.date() > due_day and due.time() == time(17, 0)  # past the closure, at the new closing time
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "recalendared" for e in r["timeline"]), view="/register")
    assert "工作日历更新" in next(e["note"] for e in record["timeline"] if e["kind"] == "recalendared")
    paused = clock(await decide(api, case_no, "pause", {"actor": "窗口 张敏", "reason": "等待补交材料"}), "feedback")
    resumed = clock(await decide(api, case_no, "resume", {"actor": "窗口 张敏"}), "feedback")
    assert paused["status"] == "paused" and as_shanghai(at(resumed["due_at"])).date() == due.date()
    await keep_history(handle(case_no), "recorded_before_a_calendar_edit")

    later = clock(await wait_for(api, await register_case(api, wage_arrears() | {"separate_reason": "另一批工人的工资"}),
                                 lambda c: c["stage"] == "dispatched"), "feedback")
    assert as_shanghai(at(later["due_at"])).date() > due_day and as_shanghai(at(later["due_at"])).time() == time(17, 0)
