"""Worklists: what a unit, a level's center and a supervisor see they must act on, as the cases move."""

import asyncio
import csv
import io
import time
from datetime import datetime, timedelta

import httpx

from onedoor.domain.timezone import SHANGHAI
from onedoor.store import users
from tests.cases import decide, mediate, register_case, wait_for, wage_arrears

HEDONG = "139001102"  # 河东乡: its labour office T102-LDS leads wage cases, the justice office T102-SFS assists


async def worklist(api, path: str, **params) -> dict:
    response = await api.get(f"/worklists/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def mine(api, path: str, *case_nos: str, **params) -> list[dict]:
    """The rows of these cases on the whole list, page by page, in the list's order (other tests'
    cases share the register)."""
    rows, offset = [], 0
    while True:
        page = await worklist(api, path, limit=200, offset=offset, **params)
        rows += [row for row in page["rows"] if row["case_no"] in case_nos]
        offset += 200
        if offset >= page["total"]:
            return rows


def without_ticking(row: dict) -> dict:
    """A row as two reads a moment apart agree on it: the clock's remaining seconds tick."""
    return {**row, "clock": row["clock"] and {k: v for k, v in row["clock"].items() if k != "remaining_seconds"}}


async def wait_listed(api, path: str, case_no: str, listed: bool = True, timeout: float = 20, **params) -> dict | None:
    """Poll the list until the case is on it (its row) or, with listed=False, off it."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await mine(api, path, case_no, **params)
        if bool(rows) == listed:
            return rows[0] if rows else None
        assert time.monotonic() < deadline, f"{case_no} {'never reached' if listed else 'never left'} {path}"
        await asyncio.sleep(0.2)


async def dispatched(api, form: dict) -> str:
    case_no = await register_case(api, form)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched", view="/register")
    return case_no


async def wait_rows(api, path: str, case_nos: tuple[str, ...], expected: list, row_key, timeout: float = 10) -> list[dict]:
    """Poll the list until these cases' rows, each as row_key sees it, are the expected ones."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await mine(api, path, *case_nos)
        if [row_key(row) for row in rows] == expected or time.monotonic() > deadline:
            assert [row_key(row) for row in rows] == expected
            return rows
        await asyncio.sleep(0.2)


def answered_by(row: dict) -> tuple[str, str]:
    return row["case_no"], row["clock"]["name"]


async def test_a_unit_sees_its_unanswered_dispatches_the_one_due_first_on_top(api, clocks):
    clocks(response=600, feedback=1200)
    forms = [wage_arrears(place={"township_code": HEDONG}) for _ in range(2)]
    later = await dispatched(api, forms[0])
    clocks(response=300, feedback=1200)
    sooner = await dispatched(api, forms[1])

    rows = await mine(api, "units/T102-LDS/inbox", later, sooner)
    assert [r["case_no"] for r in rows] == [sooner, later]
    row = rows[0]
    assert (row["clock"]["name"], row["clock"]["status"], row["clock"]["unit_code"]) == ("response", "running", "T102-LDS")
    assert datetime.fromisoformat(row["clock"]["due_at"]).utcoffset() == timedelta(hours=8)  # Beijing time
    assert (row["township_name"], row["lead_unit"], row["lead_unit_name"], row["grade"]) == ("河东乡", "T102-LDS", "河东乡劳动保障所", "yellow")
    assert not any(value in str(rows) for form in forms for value in form["parties"][0].values() if value != "applicant")  # no party's personal data
    # The co-unit has its own dispatch of each case.
    assert [r["case_no"] for r in await mine(api, "units/T102-SFS/inbox", later, sooner)] == [sooner, later]


async def test_after_responding_a_unit_sees_only_the_feedback_due_and_after_reporting_nothing(api, clocks):
    clocks(response=600, feedback=1200)
    later = await dispatched(api, wage_arrears(place={"township_code": HEDONG}))
    clocks(response=300, feedback=1200)
    sooner = await dispatched(api, wage_arrears(place={"township_code": HEDONG}))

    await decide(api, sooner, "response", {"unit_code": "T102-LDS", "handler": "刘干事"})
    # Answered: its feedback, due in 20 minutes, now comes after the other case's response, due in 10.
    await wait_rows(api, "units/T102-LDS/inbox", (later, sooner), [(later, "response"), (sooner, "feedback")], answered_by)

    await decide(api, sooner, "feedback", {"unit_code": "T102-LDS", "handler": "刘干事", "summary": "已约谈用工单位"})
    await wait_rows(api, "units/T102-LDS/inbox", (later, sooner), [(later, "response")], answered_by)
    # The co-unit has not answered: the case is still in its inbox.
    assert [r["clock"]["name"] for r in await mine(api, "units/T102-SFS/inbox", sooner)] == ["response"]


async def test_an_unanswered_case_is_near_breach_after_its_reminder_then_overdue_for_its_level(api, clocks):
    clocks(response=16)  # the reminder (催办) at 12 s, the breach at 16 s
    case_no = await dispatched(api, wage_arrears())

    near = await wait_listed(api, "near-breach", case_no, jurisdiction="139001101")
    assert (near["clock"]["name"], near["clock"]["status"]) == ("response", "running") and near["clock"]["reminded_at"]
    assert not await mine(api, "overdue", case_no)

    overdue = await wait_listed(api, "overdue", case_no, jurisdiction="139001")  # the county center's list
    assert overdue["overdue"] is True and overdue["clock"]["status"] == "breached" and overdue["clock"]["breached_at"]
    await wait_listed(api, "near-breach", case_no, listed=False)
    # The township where it arose sees it too; the other township does not.
    assert await wait_listed(api, "overdue", case_no, jurisdiction="139001101")
    assert not await mine(api, "overdue", case_no, jurisdiction=HEDONG)


async def test_cases_waiting_on_a_party_paused_or_to_apply_for_judicial_confirmation(api, clocks):
    clocks(response=600, feedback=1200)
    paused = await dispatched(api, wage_arrears())
    await decide(api, paused, "pause", {"actor": "窗口 张敏", "reason": "等待申请人补交劳动合同"})
    row = await wait_listed(api, "waiting", paused)
    assert row["clock"]["status"] == "paused" and row["clock"]["remaining_seconds"] > 0
    await decide(api, paused, "resume", {"actor": "窗口 张敏"})
    await wait_listed(api, "waiting", paused, listed=False)

    agreed = await dispatched(api, wage_arrears(category="合同", summary="装修合同尾款纠纷", factors={"amount_at_stake": 8000, "people_involved": 2}))
    await mediate(api, agreed, "agreement", terms="业主于 12 月 1 日前支付尾款 8000 元", seek_confirmation=True)
    row = await wait_listed(api, "waiting", agreed, stage="confirmation")
    assert (row["stage"], row["clock"]["name"], row["clock"]["status"]) == ("confirmation", "confirmation", "running")


async def test_clocks_due_before_midnight_are_listed_for_today_the_next_days_are_not(api, clocks):
    clocks(response=600, feedback=1200, mediation=5 * 86400)
    soon = await dispatched(api, wage_arrears())
    clocks(response=3 * 86400, feedback=4 * 86400, mediation=5 * 86400)  # due in three days at the earliest
    later = await dispatched(api, wage_arrears())

    midnight = datetime.combine(datetime.now(SHANGHAI).date() + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    rows = await mine(api, "due-today", soon, later, jurisdiction="139001101")
    due = datetime.fromisoformat((await api.get(f"/cases/{soon}")).json()["next_deadline"])
    assert [r["case_no"] for r in rows] == ([soon] if due < midnight else [])  # run in the last ten minutes of a Beijing day: due tomorrow
    if rows:
        assert (rows[0]["clock"]["name"], rows[0]["clock"]["status"], rows[0]["clock"]["due_at"]) == ("response", "running", due.isoformat())
    await decide(api, soon, "response", {"unit_code": "T101-LDS", "handler": "刘干事"})
    await decide(api, soon, "response", {"unit_code": "T101-SFS", "handler": "赵干事"})
    await decide(api, soon, "feedback", {"unit_code": "T101-LDS", "handler": "刘干事", "summary": "已约谈"})
    await decide(api, soon, "feedback", {"unit_code": "T101-SFS", "handler": "赵干事", "summary": "已协助"})
    # Answered: only the mediation's five days are left.
    await wait_listed(api, "due-today", soon, listed=False, jurisdiction="139001101")


async def test_a_referred_case_awaits_the_bodys_acceptance_on_its_list_until_it_accepts(api, clocks):
    clocks(response=600, feedback=1200)
    case_no = await dispatched(api, wage_arrears())
    await mediate(api, case_no, "refused", reason="被申请人明确拒绝调解")
    row = await wait_listed(api, "awaiting-referral", case_no, jurisdiction="139001")
    assert (row["stage"], row["clock"]["name"], row["clock"]["unit_code"], row["clock"]["unit_name"]) == ("referral", "referral", "C-LDZC", "县劳动人事争议仲裁院")
    exported = await api.get("/worklists/awaiting-referral", params={"format": "xlsx", "jurisdiction": "139001"})
    assert exported.status_code == 200 and exported.headers["content-disposition"].endswith('.xlsx"')
    await decide(api, case_no, "referral/acceptance", {"body_code": "C-LDZC", "reference": "示劳人仲案字〔2026〕第 120 号"})
    await wait_listed(api, "awaiting-referral", case_no, listed=False, jurisdiction="139001")


async def test_red_cases_are_listed_for_the_county_with_their_next_deadline(api, clocks):
    clocks(response=600, feedback=1200, emergency_ack=600)
    land = wage_arrears(category="征地拆迁", summary="40 户村民对征地补偿标准有异议", factors={"people_involved": 40, "amount_at_stake": 3_000_000})
    case_no = await dispatched(api, land)
    row = await wait_listed(api, "red", case_no, jurisdiction="139001", grade="red")
    assert (row["grade"], row["level"], row["jurisdiction_code"]) == ("red", "county", "139001")
    assert row["clock"]["status"] == "running" and row["clock"]["name"] in ("response", "feedback", "mediation")
    assert not await mine(api, "red", case_no, jurisdiction=HEDONG)


async def test_filters_paging_and_the_excel_export(api, clocks):
    clocks(response=600, feedback=1200)
    damages = dict(category="损害赔偿", summary="饲养的狗咬伤邻居，医药费赔偿纠纷", factors={})
    cases = [await dispatched(api, wage_arrears(**damages)) for _ in range(3)]  # 城关镇's 其他 line: its justice office
    narrowed = {"category": "损害赔偿", "jurisdiction": "139001101"}

    whole = await worklist(api, "units/T101-SFS/inbox", limit=200, **narrowed)
    assert [r["case_no"] for r in whole["rows"] if r["case_no"] in cases] == cases  # dispatched one after another: due in that order
    paged = []
    for offset in range(0, whole["total"], 2):
        page = await worklist(api, "units/T101-SFS/inbox", limit=2, offset=offset, **narrowed)
        assert (page["total"], page["limit"], len(page["rows"])) == (whole["total"], 2, min(2, whole["total"] - offset))
        paged += page["rows"]
    assert list(map(without_ticking, paged)) == list(map(without_ticking, whole["rows"]))

    days = sorted({datetime.fromisoformat(r["received_at"]).date() for r in whole["rows"]})  # Beijing dates, as the filter's
    assert len(await mine(api, "units/T101-SFS/inbox", *cases, **{"from": str(days[0]), "to": str(days[-1])}, **narrowed)) == 3
    assert not await mine(api, "units/T101-SFS/inbox", *cases, to=str(days[0] - timedelta(days=1)), **narrowed)
    for elsewhere in ({"jurisdiction": HEDONG}, {"grade": "red"}, {"stage": "handling"}, {"level": "county"}):
        assert not await mine(api, "units/T101-SFS/inbox", *cases, **{**narrowed, **elsewhere})

    # The whole list as a CSV for Excel: UTF-8 with a BOM, Chinese and English headers, Beijing time.
    for request in ({"params": {**narrowed, "format": "csv", "limit": 1}}, {"params": narrowed, "headers": {"Accept": "text/csv"}}):
        response = await api.get("/worklists/units/T101-SFS/inbox", **request)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode()) and "attachment" in response.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        exported = {row["案件编号 case_no"]: row for row in table}
        assert set(cases) <= exported.keys() and len(table) == whole["total"]  # every row, not one page
    first = next(r for r in whole["rows"] if r["case_no"] == cases[0])
    row = exported[cases[0]]
    assert (row["阶段 stage"], row["时限 clock"], row["时限状态 clock status"], row["乡镇/街道 township"]) == ("已派单待响应", "响应时限", "计时中", "城关镇")
    assert row["受理时间（北京时间） received"] == first["received_at"][:16].replace("T", " ")


async def test_unknown_names_and_bad_filters_are_refused_with_the_field_named(api):
    refused = await api.get("/worklists/units/NO-SUCH/inbox")
    assert refused.status_code == 404 and "NO-SUCH" in refused.json()["detail"]
    refused = await api.get("/worklists/overdue", params={"jurisdiction": "999999"})
    assert refused.status_code == 404 and "999999" in refused.json()["detail"]
    for params, field in (({"grade": "purple"}, "grade"), ({"limit": 500}, "limit"), ({"offset": -1}, "offset"), ({"from": "2026-13-01"}, "from"),
                          ({"category": "打架"}, "category"), ({"format": "xls"}, "format"), ({"from": "2026-11-27", "to": "2026-11-01"}, "to")):
        refused = await api.get("/worklists/red", params=params)
        assert refused.status_code == 422 and field in refused.json()["detail"], (params, refused.text)


async def test_a_unit_reads_only_its_own_inbox_and_a_township_supervisor_only_the_township(api, sessions, keys):
    with sessions() as session:
        supervisor = users.issue_key(session, users.ensure_user(session, "hedong-supervisor", name="河东乡综治中心 张主任", role="supervisor",
                                                                jurisdiction_code=HEDONG, unit_code=None, mediator_id=None, active=True))
    as_unit = {"Authorization": f"Bearer {keys['T102-SFS']}"}
    assert (await api.get("/worklists/units/T102-SFS/inbox", headers=as_unit)).status_code == 200
    assert (await api.get("/worklists/units/T102-LDS/inbox", headers=as_unit)).status_code == 404  # as if it did not exist
    assert (await api.get("/worklists/red", headers=as_unit)).status_code == 403

    as_supervisor = {"Authorization": f"Bearer {supervisor}"}
    own = await api.get("/worklists/overdue", params={"limit": 200}, headers=as_supervisor)
    assert own.status_code == 200 and all(HEDONG in (r["township_code"], r["jurisdiction_code"]) for r in own.json()["rows"])
    for elsewhere in ("139001101", "139001"):
        refused = await api.get("/worklists/overdue", params={"jurisdiction": elsewhere}, headers=as_supervisor)
        assert refused.status_code == 404 and "jurisdiction" in refused.json()["detail"]
    async with httpx.AsyncClient(base_url=api.base_url) as anonymous:
        assert (await anonymous.get("/worklists/overdue")).status_code == 401  # no key, no list
