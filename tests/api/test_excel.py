"""Excel: a worklist and the 台账 downloaded as .xlsx open with codes as text, Chinese headers, the
header row frozen, and the same cases and values the JSON route shows."""

import io
import re
from datetime import datetime

from openpyxl import load_workbook

from api.spreadsheet import XLSX
from tests.cases import decide, register_case, today, wage_arrears, wait_for

VILLAGE = "139001101201"  # 12 digits: as a number Excel would show 1.39001E+11


def workbook_rows(response) -> tuple[object, list[dict]]:
    """The sheet and its rows keyed by header, as openpyxl reads the file back."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX and re.search(r'attachment; filename=".+\.xlsx"', response.headers["content-disposition"])
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *lines = list(sheet.iter_rows())
    return sheet, [{h.value: cell for h, cell in zip(header, line)} for line in lines]


async def whole(api, path: str, **params) -> list[dict]:
    """Every row of the list as JSON, page by page (other tests' cases share the register)."""
    rows, offset, total = [], 0, 1
    while offset < total:
        page = (await api.get(path, params={"limit": 200, "offset": offset, **params})).json()
        rows, offset, total = rows + page["rows"], offset + 200, page["total"]
    return rows


def beijing_minute(text: str) -> datetime:
    """A JSON time (Beijing, with its offset) as the sheet's wall-clock minute."""
    return datetime.fromisoformat(text).replace(tzinfo=None, second=0, microsecond=0)


def same_minute(cell) -> datetime:
    return cell.value.replace(second=0, microsecond=0)


async def test_a_units_inbox_in_excel_keeps_codes_as_text_with_names_beside(api):
    case_no = await register_case(api, wage_arrears(place={"township_code": "139001101", "village_code": VILLAGE}))
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched", view="/register")
    inbox = f"/worklists/units/{case['lead_unit']}/inbox"
    shown = next(row for row in await whole(api, inbox) if row["case_no"] == case_no)

    for request in ({"params": {"format": "xlsx"}}, {"headers": {"Accept": XLSX}}):
        sheet, rows = workbook_rows(await api.get(inbox, **request))
        assert sheet.freeze_panes == "A2" and sheet.title == case["lead_unit"]
        headers = [cell.value for cell in sheet[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) and not re.search(r"[A-Za-z]", h) for h in headers), headers
        row = next(r for r in rows if r["案件编号"].value == case_no)
        # Codes are strings in the file (data type "s"), never numbers Excel would reformat.
        for column in ("案件编号", "村/社区代码", "乡镇/街道代码", "牵头单位代码", "时限单位代码"):
            assert row[column].data_type == "s", column
        assert (row["村/社区代码"].value, row["村/社区"].value, row["乡镇/街道"].value) == (VILLAGE, shown["village_name"], "城关镇")
        assert (row["等级"].value, row["等级代码"].value) == ({"red": "红", "yellow": "黄", "blue": "蓝"}[shown["grade"]], shown["grade"])
        assert (row["阶段"].value, row["阶段代码"].value) == ("已派单待响应", "dispatched")
        assert (row["牵头单位代码"].value, row["牵头单位"].value) == (shown["lead_unit"], shown["lead_unit_name"]) and shown["lead_unit_name"]
        assert (row["时限"].value, row["时限状态"].value, row["时限单位"].value) == ("响应时限", "计时中", shown["clock"]["unit_name"])
        assert (row["逾期"].value, row["结案方式"].value) == ("否", None)
        # Times are Beijing wall-clock date-times, as the JSON shows them.
        assert same_minute(row["受理时间（北京时间）"]) == beijing_minute(shown["received_at"])
        assert same_minute(row["到期（北京时间）"]) == beijing_minute(shown["clock"]["due_at"])
        assert row["受理时间（北京时间）"].number_format == "yyyy-mm-dd hh:mm"
        assert sheet.column_dimensions["A"].width >= len(case_no)  # the case number is not cut off


async def test_the_ledger_lists_every_case_open_or_closed_and_exports_the_same(api):
    case_no, declined = await register_case(api, wage_arrears()), await register_case(api, wage_arrears())
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched", view="/register")
    await wait_for(api, declined, lambda c: c["stage"] == "dispatched")
    await decide(api, declined, "decline", {"operator": "受理员 周敏", "reason": "已进入诉讼程序，不属于调解受理范围"})
    closed = await wait_for(api, declined, lambda c: c["stage"] == "closed" and c["closed_at"], view="/register")
    narrowed = {"category": "劳动争议", "from": today()}
    listed = await whole(api, "/worklists/ledger", **narrowed)
    assert {case_no, declined} <= {row["case_no"] for row in listed}
    received = [row["received_at"] for row in listed]
    assert received == sorted(received, key=datetime.fromisoformat)  # in the order received, as a register book

    sheet, rows = workbook_rows(await api.get("/worklists/ledger", params={**narrowed, "format": "xlsx"}))
    assert sheet.title == "台账" and sheet.freeze_panes == "A2"
    assert len(rows) == len(listed)  # the whole list, not one page
    exported = {row["案件编号"].value: row for row in rows}
    for shown in (row for row in listed if row["case_no"] in (case_no, declined)):
        row = exported[shown["case_no"]]
        assert (row["阶段代码"].value, row["纠纷类型"].value, row["乡镇/街道代码"].value) == (shown["stage"], shown["category"], shown["township_code"])
        assert same_minute(row["受理时间（北京时间）"]) == beijing_minute(shown["received_at"])
    row = exported[declined]  # closed, and still in the ledger
    assert (row["阶段"].value, row["结案方式"].value) == ("已办结待回访", "不予受理")
    assert same_minute(row["结案时间（北京时间）"]) == beijing_minute(closed["closed_at"])


async def test_a_unit_cannot_export_the_ledger_nor_another_units_inbox(api, keys):
    as_unit = {"Authorization": f"Bearer {keys['T102-SFS']}", "Accept": XLSX}
    assert (await api.get("/worklists/ledger", headers=as_unit)).status_code == 403
    assert (await api.get("/worklists/units/T102-LDS/inbox", headers=as_unit)).status_code == 404
    mine = await api.get("/worklists/units/T102-SFS/inbox", headers=as_unit)
    assert mine.status_code == 200 and mine.headers["content-type"] == XLSX
