"""The supervisor's console pages over HTTP: the worklists (the API's reading and Excel file, its
refusals beside the filter they name), the weekly report built and read through the page, and the
units' assessment with its file. tests/api/console/test_console_supervisor_browser.py walks a supervisor's path
in a browser."""

import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from onedoor.domain.week import week_of
from tests.cases import register_case, someone, wage_arrears, wait_for
from tests.api.console.test_console_admin import error_beside

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def township_supervisor(console):
    return await console("supervisor", "城关镇综治中心 王海涛", jurisdiction_code="139001101")


async def test_a_worklist_page_lists_the_townships_cases_and_exports_the_apis_file(township_supervisor, api, clocks):
    clocks(response=600, feedback=1200)
    ours = await register_case(api, wage_arrears(parties=[{**someone("上官文"), "role": "applicant"}]))
    theirs = await register_case(api, wage_arrears(place={"township_code": "139001102"}, parties=[{**someone("皇甫武"), "role": "applicant"}]))
    for case_no in (ours, theirs):
        await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")

    # The ledger is in the order received: the newest case is on its last page (the suite's other cases come before).
    first = await township_supervisor.get("/console/worklists/ledger", params={"grade": "yellow"})
    total = int(re.search(r"<h1>台账（(\d+) 件）</h1>", first.text)[1])
    listed = await township_supervisor.get("/console/worklists/ledger", params={"grade": "yellow", "offset": total - 1})
    assert listed.status_code == 200 and f'href="/console/cases/{ours}"' in listed.text and theirs not in listed.text
    assert "城关镇劳动保障所（T101-LDS）" in listed.text and "上官文" not in listed.text  # names beside codes, no party's data
    inbox = await township_supervisor.get("/console/worklists/inbox", params={"unit": "T101-LDS"})
    assert inbox.status_code == 200 and ours in inbox.text and "剩余" in inbox.text

    exported = await township_supervisor.get("/console/worklists/ledger", params={"grade": "yellow", "format": "xlsx"})
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert ours in numbers and theirs not in numbers  # the API's file, read in the supervisor's scope
    assert sheet.title == "台账"

    counts = await township_supervisor.get("/console/worklists")
    assert counts.status_code == 200 and 'href="/console/worklists/due-today"' in counts.text and 'href="/console/worklists/awaiting-referral"' in counts.text
    found = await township_supervisor.get("/console/worklists", params={"case_no": f" {ours} "})  # pasted with spaces
    assert found.status_code == 303 and found.headers["location"] == f"/console/cases/{ours}"
    elsewhere = await township_supervisor.get(found.headers["location"].replace(ours, theirs))
    assert elsewhere.status_code == 404  # another township's case, found by its number, is still not theirs to read
    garbled = await township_supervisor.get("/console/worklists", params={"case_no": "139001-2026"})
    assert garbled.status_code == 422 and "案件编号格式" in error_beside(garbled.text, "case_no")


async def test_a_worklists_refusals_are_named_beside_the_filter(township_supervisor, console):
    wrong = await township_supervisor.get("/console/worklists/red", params={"grade": "purple"})
    assert wrong.status_code == 422 and error_beside(wrong.text, "grade") == "不是可选的值"
    outside = await township_supervisor.get("/console/worklists/red", params={"jurisdiction": "139001102"})
    assert outside.status_code == 404 and "不在您的辖区内" in error_beside(outside.text, "jurisdiction")
    no_unit = await township_supervisor.get("/console/worklists/inbox")
    assert no_unit.status_code == 422 and error_beside(no_unit.text, "unit") == "请选择单位"
    unknown = await township_supervisor.get("/console/worklists/everything")
    assert unknown.status_code == 404 and "没有工作清单 everything" in unknown.text
    as_unit = await console("unit", "劳动保障所 刘干事", unit_code="T101-LDS")
    refused = await as_unit.get("/console/worklists/red")
    assert refused.status_code == 403 and "仅限受理员(operator)、督办(supervisor)" in refused.text


async def test_a_weeks_report_is_built_on_the_page_and_read_there(township_supervisor, console):
    week = week_of(datetime.now(UTC))
    built = await township_supervisor.post("/console/reports", data={"scope": "139001101", "week_start": week.isoformat()})
    assert built.status_code == 303 and built.headers["location"] == f"/console/reports/139001101/{week}"
    report = await township_supervisor.get(built.headers["location"])
    assert report.status_code == 200 and '<table id="new-cases">' in report.text and "城关镇" in report.text
    listed = await township_supervisor.get("/console/reports")
    assert f'href="/console/reports/139001101/{week}"' in listed.text

    tuesday = await township_supervisor.post("/console/reports", data={"scope": "139001101", "week_start": (week + timedelta(days=1)).isoformat()})
    assert tuesday.status_code == 422 and "不是星期一" in error_beside(tuesday.text, "week_start")
    elsewhere = await township_supervisor.post("/console/reports", data={"scope": "139001102", "week_start": week.isoformat()})
    assert elsewhere.status_code == 404 and "不在您的辖区内" in error_beside(elsewhere.text, "scope")
    operator = await console("operator", "城关镇受理员", jurisdiction_code="139001101")
    assert (await operator.get("/console/reports")).status_code == 200  # reads them, as GET /reports
    refused = await operator.post("/console/reports", data={"scope": "139001101", "week_start": week.isoformat()})
    assert refused.status_code == 403 and "仅限督办" in refused.text


async def test_the_units_assessment_for_a_month_and_its_file(township_supervisor):
    month = f"{datetime.now(UTC) + timedelta(hours=8):%Y-%m}"
    shown = await township_supervisor.get("/console/assessment", params={"period": month})
    assert shown.status_code == 200 and "城关镇劳动保障所（T101-LDS）" in shown.text and "河东乡" not in shown.text
    exported = await township_supervisor.get("/console/assessment", params={"period": month, "format": "xlsx"})
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    assert re.search(r'filename="assessment-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.xlsx"', exported.headers["content-disposition"])
    wrong = await township_supervisor.get("/console/assessment", params={"period": "2026-13"})
    assert wrong.status_code == 422 and "不是有效月份" in error_beside(wrong.text, "period")


async def test_the_supervisors_decisions_on_the_case_page_are_the_apis_with_its_refusals_and_audit(console, api, clocks):
    """A red case: the township's supervisor may not acknowledge the county leader's alert (the case's
    own refusal, beside the form); the county's acknowledges it, hands the case down to the township and
    re-grades it, each through the page's form, and the audit binds each to the signed-in user."""
    clocks(response=600, feedback=1200, emergency_ack=600)
    red = await register_case(api, wage_arrears(factors={"people_involved": 40}, parties=[{**someone("诸葛红"), "role": "applicant"}]))
    alert = (await wait_for(api, red, lambda c: c["alerts"] and c["stage"] == "dispatched"))["alerts"][0]
    township = await console("supervisor", "城关镇综治中心主任 王海涛", jurisdiction_code="139001101")
    county = await console("supervisor", "县综治中心 刘志强", jurisdiction_code="139001")

    page = await county.get(f"/console/cases/{red}")
    assert page.status_code == 200 and 'aria-label="确认红色预警"' in page.text and f"以 {alert['leader']} 名义确认" in page.text
    ack = {"center_code": alert["center_code"], "leader": alert["leader"]}
    refused = await township.post(f"/console/cases/{red}/alert/ack", data=ack)
    assert refused.status_code == 403 and "只能由该中心确认" in refused.text and "139001101" in refused.text
    assert (await api.get(f"/cases/{red}")).json()["alerts"][0]["acknowledged_at"] is None

    acknowledged = await county.post(f"/console/cases/{red}/alert/ack", data=ack)
    assert acknowledged.status_code == 303 and acknowledged.headers["location"] == f"/console/cases/{red}?done=alert/ack"
    assert (await api.get(f"/cases/{red}")).json()["alerts"][0]["acknowledged_by"] == alert["leader"]

    no_reason = await county.post(f"/console/cases/{red}/handover", data={"supervisor": "县综治中心 刘志强", "to_level": "township", "reason": ""})
    assert no_reason.status_code == 422 and error_beside(no_reason.text, "reason") == "必填"
    handed = await county.post(f"/console/cases/{red}/handover", data={"supervisor": "县综治中心 刘志强", "to_level": "township", "reason": "属地化解"})
    assert handed.status_code == 303
    case = await wait_for(api, red, lambda c: c["level"] == "township")
    assert case["handovers"][-1]["watched_by"] == "139001"

    regraded = await county.post(f"/console/cases/{red}/grade", data={"operator": "县综治中心 刘志强", "grade": "yellow", "reason": "人数核实为 8 人"})
    assert regraded.status_code == 303 and (await api.get(f"/cases/{red}")).json()["grade"] == "yellow"
    archive = await wait_for(api, red, lambda r: {"alert_ack", "handover", "graded"} <= {a["action"] for a in r["audit"]}, view="/archive")
    assert {(a["action"], a["user_jurisdiction"]) for a in archive["audit"] if a["action"] in ("alert_ack", "handover", "graded")} == {
        ("alert_ack", "139001"), ("handover", "139001"), ("graded", "139001")}
