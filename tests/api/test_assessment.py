"""考核: a supervisor downloads March 2031's unit assessment and every figure matches the one worked
out by hand from the register's rows below — the check a unit can make of its own score."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete

from api.spreadsheet import XLSX
from onedoor.domain.timezone import SHANGHAI, as_utc
from onedoor.store.tables import AuditEntry, Case, CaseClock, DutyLine, SupervisionOrder, Unit
from tests.cases import mediate, register_case, units_answer, visit, wage_arrears, wait_for

TOWNSHIP = "139001101"  # 城关镇, from the seed directory
UNITS = {"KH-A": "考核甲所", "KH-B": "考核乙办", "KH-C": "考核丙站"}  # dedicated to this test
CASES = {n: f"139001-2031-7000{n:02d}" for n in range(1, 10)}  # a year no other test registers in


def bj(text: str) -> datetime:
    """A Beijing time as operators write it, e.g. "03-05 10:00" in 2031."""
    return as_utc(datetime.fromisoformat(f"2031-{text}"))


# The register's clock rows: case, unit, clock, started, status, breached, answered (or ended), Beijing time.
CLOCKS = [
    (1, "KH-A", "response", "03-01 00:30", "met", None, "03-01 01:00"),  # 16:30 UTC on 28 Feb: March in Beijing
    (1, "KH-A", "feedback", "03-01 00:30", "met_late", "03-02 00:30", "03-02 02:00"),
    (2, "KH-A", "response", "03-05 10:00", "met_late", "03-05 12:00", "03-05 13:00"),
    (2, "KH-A", "feedback", "03-05 10:00", "met", None, "03-05 17:00"),
    (3, "KH-A", "response", "03-31 23:00", "running", None, None),  # not due before the period ends
    (3, "KH-A", "feedback", "03-31 23:00", "running", None, None),
    (4, "KH-A", "response", "03-08 08:00", "met", None, "03-08 08:45"),
    (4, "KH-A", "feedback", "03-08 08:00", "breached", "03-09 08:00", None),  # then escalated to KH-B
    (4, "KH-B", "response", "03-09 08:00", "met_late", "03-09 10:00", "03-09 11:00"),
    (4, "KH-B", "feedback", "03-09 08:00", "met", None, "03-09 20:00"),
    (5, "KH-B", "response", "03-15 09:00", "met", None, "03-15 09:10"),
    (5, "KH-B", "feedback", "03-15 09:00", "ended", None, "03-15 10:00"),  # withdrawn at 10:00
    (5, "KH-A", "response", "03-15 09:00", "ended", None, "03-15 10:00"),  # co-unit, not yet answered
    (5, "KH-A", "feedback", "03-15 09:00", "ended", None, "03-15 10:00"),
    (6, "KH-A", "response", "02-28 23:00", "met", None, "02-28 23:20"),  # February's dispatch
    (6, "KH-A", "feedback", "02-28 23:00", "breached", "03-01 23:00", None),  # ... breached in March
    (7, "KH-B", "response", "03-20 14:00", "met", None, "03-20 14:20"),
    (7, "KH-B", "feedback", "03-20 14:00", "met", None, "03-21 09:00"),
    (8, "KH-B", "response", "04-01 00:30", "running", None, None),  # April's dispatch
    (9, "KH-B", "response", "03-28 09:00", "met_late", "03-28 11:00", "03-28 12:30"),
    (9, "KH-B", "feedback", "03-28 09:00", "breached", "03-29 09:00", None),
]

# The audit log's steps: case, Beijing time, action, the changed fields before → after.
STEPS = [
    (1, "03-01 00:25", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-A"}),
    (1, "03-10 10:00", "closed", {"stage": "handling"}, {"stage": "closed", "result": "mediated"}),
    (1, "04-02 10:00", "visit", {}, {"satisfied": True}),  # April's visit
    (2, "03-05 09:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-A"}),
    (2, "03-20 10:00", "closed", {"stage": "handling"}, {"stage": "closed", "result": "confirmed"}),
    (2, "03-25 10:00", "visit", {}, {"satisfied": False}),
    (2, "03-25 10:00", "reopened", {"stage": "closed", "result": "confirmed"}, {"stage": "dispatched", "result": None}),
    (2, "03-28 10:00", "closed", {"stage": "handling"}, {"stage": "closed", "result": "mediated"}),
    (2, "03-30 10:00", "visit", {"satisfied": False}, {"satisfied": True}),
    (3, "03-31 22:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-A"}),
    (4, "03-08 07:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-A"}),
    (4, "03-09 08:00", "escalated", {"level": "township", "lead_unit": "KH-A"}, {"level": "county", "lead_unit": "KH-B"}),
    (4, "03-20 10:00", "closed", {"stage": "referral"}, {"stage": "closed", "result": "litigation"}),
    (4, "03-22 10:00", "visit", {}, {"satisfied": True}),
    (5, "03-15 08:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-B"}),
    (5, "03-15 10:00", "closed", {"stage": "handling"}, {"stage": "closed", "result": "withdrawn"}),
    (6, "02-28 22:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-A"}),
    (6, "03-02 10:00", "closed", {"stage": "handling"}, {"stage": "closed", "result": "mediated"}),
    (7, "03-20 13:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-B"}),
    (7, "03-25 10:00", "closed", {"stage": "handling"}, {"stage": "closed", "result": "mediated"}),
    (7, "03-27 10:00", "visit", {}, {"satisfied": True}),
    (8, "04-01 00:25", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-B"}),
    (9, "03-28 08:55", "triaged", {"stage": "received"}, {"stage": "triaged", "lead_unit": "KH-B"}),
]

# March 2031 worked out by hand from the rows above.
#                               KH-A                              KH-B                         KH-C
# dispatches                    1 2 3 4 5 (6 is February's)      4 5 7 9 (8 is April's)       none
# response on time / late       1 4 / 2          → 2 of 3         5 7 / 4 9      → 2 of 4
# response pending / ended      3 / 5                             -
# feedback on time/late/none    2 / 1 / 4        → 1 of 3         4 7 / - / 9    → 2 of 3
# feedback pending / ended      3 / 5                             5 ended
# median response (min)         30 45 180 → 45                    10 20 180 210 → (20+180)/2
# breaches = supervision orders 1fb 2r 4fb 6fb                    4r 9r 9fb
# resolved                      1 mediated, 2 (closed twice), 6   7 (4 litigation, 5 withdrawn)
# escalated away                4 → KH-B                          -
# return visits                 2 ✗, 2 ✓ (1's is April's)         4 ✓ (after escalation), 7 ✓
EXPECTED = {
    "KH-A": dict(dispatches=5, response=(2, 1, 0, 1, 1, 3, 66.7), feedback=(1, 1, 1, 1, 1, 3, 33.3), median_response_minutes=45.0,
                 breaches=4, supervision_orders=4, resolved=3, escalated_away=1, visits=2, satisfied_visits=1, satisfaction_pct=50.0),
    "KH-B": dict(dispatches=4, response=(2, 2, 0, 0, 0, 4, 50.0), feedback=(2, 0, 1, 0, 1, 3, 66.7), median_response_minutes=100.0,
                 breaches=3, supervision_orders=3, resolved=1, escalated_away=0, visits=2, satisfied_visits=2, satisfaction_pct=100.0),
    "KH-C": dict(dispatches=0, response=(0, 0, 0, 0, 0, 0, None), feedback=(0, 0, 0, 0, 0, 0, None), median_response_minutes=None,
                 breaches=0, supervision_orders=0, resolved=0, escalated_away=0, visits=0, satisfied_visits=0, satisfaction_pct=None),
}
TALLY = ("on_time", "late", "unanswered", "pending", "ended", "due", "on_time_pct")


@pytest.fixture(scope="module")
def march_2031(stack, sessions):
    """The register as it stands after March 2031 in three units (written directly, no workflows)."""
    with sessions() as session:
        for code, name in UNITS.items():
            session.merge(Unit(code=code, name=name, jurisdiction_code=TOWNSHIP, mode="resident"))
        for case_no in CASES.values():
            session.add(Case(
                case_no=case_no, source="window", category="其他", township_code=TOWNSHIP, summary="考核测试", parties=[],
                stage="settled", received_at=bj("02-28 22:00"), overdue=False, escalation_count=0, last_step=0,
            ))
        session.flush()
        for clock_id, (n, unit, name, started, status, breached, done) in enumerate(CLOCKS):
            started_at, breached_at = bj(started), breached and bj(breached)
            session.add(CaseClock(
                case_no=CASES[n], clock_id=clock_id, name=name, unit_code=unit, level="township", basis="natural",
                started_at=started_at, due_at=breached_at or started_at, status=status, breached_at=breached_at, done_at=done and bj(done),
            ))
            if breached_at:  # the register issues one supervision order per breached clock, at the breach
                session.add(SupervisionOrder(
                    case_no=CASES[n], clock_id=clock_id, clock=name, unit_code=unit, from_level="township",
                    to_level="county", due_at=breached_at, issued_at=breached_at, text=f"督办：{unit} {name} 超时",
                ))
        for seq, (n, at, action, before, after) in enumerate(STEPS):
            session.add(AuditEntry(
                case_no=CASES[n], key=f"{seq:04d}-{action}", at=bj(at), actor="系统", role="system",
                action=action, before=before, after=after,
            ))
        session.commit()


def figures(row: dict) -> dict:
    return {
        **{name: row[name] for name in EXPECTED["KH-C"] if name not in ("response", "feedback")},
        "response": tuple(row["response"][name] for name in TALLY),
        "feedback": tuple(row["feedback"][name] for name in TALLY),
    }


async def test_march_assessment_matches_the_hand_worked_figures(api, march_2031):
    response = await api.get("/assessment/units", params={"period": "2031-03", "jurisdiction": TOWNSHIP})
    assert response.status_code == 200, response.text
    rows = {row["unit_code"]: row for row in response.json() if row["unit_code"] in UNITS}
    assert {code: figures(row) for code, row in rows.items()} == EXPECTED
    assert (rows["KH-A"]["unit_name"], rows["KH-A"]["period_from"], rows["KH-A"]["period_to"]) == ("考核甲所", "2031-03-01", "2031-03-31")


async def test_the_same_month_as_dates_and_for_one_unit(api, march_2031):
    by_dates = await api.get("/assessment/units", params={"from": "2031-03-01", "to": "2031-03-31", "unit": "KH-B"})
    assert [figures(row) for row in by_dates.json()] == [EXPECTED["KH-B"]]
    one = await api.get("/assessment/units/KH-A", params={"period": "2031-03"})
    assert one.status_code == 200 and figures(one.json()) == EXPECTED["KH-A"]
    # The first of March alone: KH-A's dispatch at 00:30 and case 6's feedback breach at 23:00.
    first_day = (await api.get("/assessment/units/KH-A", params={"from": "2031-03-01", "to": "2031-03-01"})).json()
    assert (first_day["dispatches"], first_day["breaches"], first_day["resolved"]) == (1, 1, 0)


async def test_the_csv_opens_in_excel_with_the_same_figures(api, march_2031):
    response = await api.get("/assessment/units", params={"period": "2031-03", "jurisdiction": TOWNSHIP, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf") and "attachment" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    rows = {row["单位代码 unit"]: row for row in table if row["单位代码 unit"] in UNITS}
    a, c = rows["KH-A"], rows["KH-C"]
    assert (a["单位名称 unit name"], a["期间起 from"], a["期间止 to"]) == ("考核甲所", "2031-03-01", "2031-03-31")
    assert (a["收到派单 dispatches"], a["按时响应率% responded on time %"], a["按时反馈率% feedback on time %"]) == ("5", "66.7", "33.3")
    assert (a["响应用时中位数(分钟) median response minutes"], a["超时 breaches"], a["督办 supervision orders"]) == ("45.0", "4", "4")
    assert (a["化解 cases resolved"], a["升级移出 escalated away"], a["满意率% satisfaction %"]) == ("3", "1", "50.0")
    assert (rows["KH-B"]["响应用时中位数(分钟) median response minutes"], rows["KH-B"]["满意率% satisfaction %"]) == ("100.0", "100.0")
    assert (c["收到派单 dispatches"], c["按时响应率% responded on time %"], c["满意率% satisfaction %"]) == ("0", "", "")


async def test_the_xlsx_has_the_json_figures_with_chinese_headers_and_codes_as_text(api, march_2031):
    params = {"period": "2031-03", "jurisdiction": TOWNSHIP}
    shown = {row["unit_code"]: row for row in (await api.get("/assessment/units", params=params)).json()}
    response = await api.get("/assessment/units", params={**params, "format": "xlsx"})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX and ".xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2" and sheet.title == "考核"
    header, *lines = [[cell for cell in row] for row in sheet.iter_rows()]
    rows = {line[0].value: dict(zip([h.value for h in header], line)) for line in lines}
    a = rows["KH-A"]
    assert (a["单位代码"].data_type, a["所属辖区代码"].data_type) == ("s", "s")
    assert (a["单位名称"].value, a["所属辖区代码"].value, a["所属辖区"].value) == ("考核甲所", shown["KH-A"]["jurisdiction_code"], shown["KH-A"]["jurisdiction_name"])
    assert (a["期间起"].value.date(), a["期间止"].value.date()) == (date(2031, 3, 1), date(2031, 3, 31))
    assert (a["收到派单"].value, a["按时响应率%"].value, a["响应用时中位数(分钟)"].value, a["满意率%"].value) == (5, 66.7, 45.0, 50.0)
    assert rows["KH-C"]["按时响应率%"].value is None  # an unknown figure is an empty cell
    assert set(rows) == set(shown)
    for unit, figures_shown in shown.items():
        assert (rows[unit]["超时"].value, rows[unit]["督办"].value, rows[unit]["化解"].value) == (figures_shown["breaches"], figures_shown["supervision_orders"], figures_shown["resolved"])
    one = await api.get("/assessment/units/KH-A", params={"period": "2031-03"}, headers={"Accept": XLSX})
    assert one.headers["content-type"] == XLSX and load_workbook(io.BytesIO(one.content)).active["A2"].value == "KH-A"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2031-13"}, "period"),
        ({"period": "March"}, "period"),
        ({"period": "2031-03", "from": "2031-03-01"}, "period"),
        ({}, "from"),
        ({"from": "2031-03-01"}, "to"),
        ({"from": "2031-03-31", "to": "2031-03-01"}, "to"),
        ({"from": "2031-02-30", "to": "2031-03-01"}, "from"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, "from"),
        ({"period": "2031-03", "format": "xls"}, "format"),
    ],
)
async def test_a_bad_period_is_refused_naming_the_field(api, params, field):
    response = await api.get("/assessment/units", params=params)
    assert response.status_code == 422 and field in response.json()["detail"], response.text


async def test_an_unknown_unit_or_jurisdiction_is_not_found(api):
    assert (await api.get("/assessment/units/NOPE", params={"period": "2031-03"})).status_code == 404
    unknown = await api.get("/assessment/units", params={"period": "2031-03", "unit": "NOPE"})
    assert unknown.status_code == 404 and "unit" in unknown.json()["detail"]
    nowhere = await api.get("/assessment/units", params={"period": "2031-03", "jurisdiction": "999999"})
    assert nowhere.status_code == 404 and "jurisdiction" in nowhere.json()["detail"]


async def test_a_units_month_from_real_cases_counts_what_its_staff_did(api, sessions):
    """Live, through the workflows: a unit of its own (医疗 in 城关镇's duty list) answers two cases on
    time; one it settles by mediation and the visit is satisfied, the other fails and goes up to the county."""
    with sessions() as session:
        session.merge(Unit(code="KH-LIVE", name="考核医调委", jurisdiction_code=TOWNSHIP, mode="resident"))
        session.flush()
        session.add(DutyLine(jurisdiction_code=TOWNSHIP, category="医疗", unit_code="KH-LIVE", lead=True))
        session.commit()
    try:
        medical = dict(category="医疗", summary="住院费用结算纠纷，6 名家属到医院反映", factors={"people_involved": 6})
        settled, escalated = await register_case(api, wage_arrears(**medical)), await register_case(api, wage_arrears(**medical))
        for case_no in (settled, escalated):
            case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
            assert (case["level"], case["lead_unit"]) == ("township", "KH-LIVE")
            await units_answer(api, case, feedback=case_no == settled)
        await mediate(api, settled, "agreement")
        await visit(api, settled, satisfied=True)
        await mediate(api, escalated, "failed")
        await wait_for(api, escalated, lambda c: c["level"] == "county" and c["mediations"][-1]["level"] == "county")
        await mediate(api, escalated, "withdrawn")
        await visit(api, escalated, satisfied=True)
        for case_no in (settled, escalated):
            await wait_for(api, case_no, lambda r: r["stage"] == "settled", view="/register")
    finally:
        with sessions() as session:
            session.execute(delete(DutyLine).where(DutyLine.unit_code == "KH-LIVE"))
            session.commit()

    today = datetime.now(SHANGHAI).date()
    span = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    row = (await api.get("/assessment/units/KH-LIVE", params=span)).json()
    assert figures(row) | {"median_response_minutes": None} == {
        "dispatches": 2, "response": (2, 0, 0, 0, 0, 2, 100.0), "feedback": (1, 0, 0, 0, 1, 1, 100.0), "median_response_minutes": None,
        "breaches": 0, "supervision_orders": 0, "resolved": 1, "escalated_away": 1, "visits": 1, "satisfied_visits": 1, "satisfaction_pct": 100.0,
    }
    assert row["median_response_minutes"] >= 0
