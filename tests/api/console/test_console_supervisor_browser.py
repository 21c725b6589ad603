"""A county supervisor in the console, in headless Chromium: finds a township's case on today's
worklist (filtered to the township, with the list's Excel file), reads the case page (its timeline,
clocks with the time left, the grade's reasons, units and mediator by name), is refused an extension
the case cannot take with the case's own words beside the form, orders the lead unit to act (督办)
through the page's form — the order reaches the case and the unit's system as the API's does — and
follows the link into the Temporal UI's history of the case. Then the same page on a phone's width.
Screenshots to artifacts/console/; with ONEDOOR_DOCS_SCREENSHOTS=1 the README's to docs/screenshots/console-supervisor.png."""

import asyncio
import re
from datetime import datetime, time, timedelta

from onedoor.domain.timezone import SHANGHAI

from tests.browser import PHONE, keep, needs_chromium, paged_to
from tests.cases import register_case, someone, supervision_documents, wage_arrears, wait_for

needs_chromium()
from playwright.async_api import expect  # noqa: E402  only once it is known to be there

ORDER = "请于今日内联系三名农民工和建筑公司，核实欠薪数额并反馈"


async def test_a_supervisor_finds_the_case_on_a_worklist_orders_its_unit_and_opens_its_history(api, signed_in, browser, simulator, clocks):
    before_midnight = (datetime.combine(datetime.now(SHANGHAI).date() + timedelta(days=1), time.min, tzinfo=SHANGHAI) - datetime.now(SHANGHAI)).total_seconds()
    if before_midnight < 300:  # too late in the Beijing day for a clock due today: wait for the next one
        await asyncio.sleep(before_midnight + 1)
        before_midnight = 86400
    clocks(response=min(1800, before_midnight - 120), feedback=3600, mediation=5 * 86400)  # the response due before midnight: on today's list
    case_no = await register_case(api, wage_arrears(parties=[{**someone("欧阳建军"), "role": "applicant"}, {"name": "某建筑公司", "role": "respondent"}]))
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    page = await signed_in("supervisor", "县综治中心 刘志强", jurisdiction_code="139001")

    # The worklists, by their menu: today's, narrowed to 城关镇.
    await page.get_by_role("navigation", name="菜单").get_by_role("link", name="工作清单").click()
    await page.get_by_role("link", name="今日到期").first.click()
    await page.get_by_label("乡镇/辖区").select_option("139001101")
    await page.get_by_role("button", name="筛选").click()
    await expect(page).to_have_url(re.compile(r"/console/worklists/due-today\?.*jurisdiction=139001101"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case_no))
    await paged_to(page, row)
    await expect(row).to_contain_text("城关镇劳动保障所")
    await expect(row).to_contain_text("剩余")
    await keep(page, "supervisor-1-due-today")
    excel = await page.request.get(await page.get_by_role("link", name="导出 Excel").get_attribute("href"))
    assert excel.status == 200 and excel.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="worklist-due-today-' in excel.headers["content-disposition"]

    # The case page: grade and its reasons, units and mediator by name, clocks with their time left, the timeline.
    await row.get_by_role("link", name=case_no).click()
    await expect(page.get_by_role("heading", name=f"案件 {case_no}")).to_be_visible()
    await expect(page.locator("dd").filter(has_text="黄").filter(has_text="涉及弱势群体：农民工欠薪")).to_be_visible()
    await expect(page.get_by_role("cell", name="城关镇劳动保障所（T101-LDS）")).to_be_visible()
    await expect(page.get_by_role("cell", name="城关镇司法所（T101-SFS）")).to_be_visible()
    await expect(page.get_by_text(re.compile(r"城关镇金牌调解员 赵立新（M-T101-1）"))).to_be_visible()
    await expect(page.get_by_role("cell", name=re.compile(r"^剩余 \d+ 分$")).first).to_be_visible()
    await expect(page.get_by_role("cell", name=re.compile(r"^评定为黄色（涉及弱势群体：农民工欠薪）"))).to_be_visible()  # the timeline's triage step

    # A refusal is the case's own, beside the form it came from: a response clock is a unit's, and none was named.
    extension = page.get_by_role("form", name="延长时限")
    await extension.get_by_label("时限种类").select_option("response")
    await extension.get_by_label("时限所属单位").select_option("")
    await extension.get_by_label("理由").fill("当事人外出务工，联系需要时间")
    await extension.get_by_role("button", name="延长时限").click()
    await expect(page.get_by_role("form", name="延长时限").get_by_role("alert")).to_contain_text("没有可延长的响应时限")
    await keep(page, "supervisor-2-refused")

    # 督办 through the page's form: the order is the case's and the unit's system receives it.
    supervise = page.get_by_role("form", name="发出督办令")
    await expect(supervise.get_by_label("督办单位")).to_have_value("T101-LDS")
    await supervise.get_by_label("督办要求").fill(ORDER)
    await supervise.get_by_role("button", name="发出督办令").click()
    await expect(page.get_by_role("status")).to_contain_text("督办令已发出")
    ordered = await wait_for(api, case_no, lambda c: c["supervision_orders"])
    assert [(o["unit_code"], o["order"], o["by"]) for o in ordered["supervision_orders"]] == [("T101-LDS", ORDER, "县综治中心 刘志强")]
    [document] = await supervision_documents(simulator, "T101-LDS", case_no)
    assert document["order"] == ORDER
    await page.reload()
    await expect(page.locator("#supervise").get_by_role("cell", name=ORDER)).to_be_visible()
    await page.locator("#supervise").scroll_into_view_if_needed()
    await keep(page, "supervisor-3-ordered")
    await page.locator("#supervise").evaluate("section => section.scrollIntoView()")
    await keep(page, "supervisor-3-supervise", "supervisor", full_page=False)  # the README's: the supervisor's part, the order just given

    # The case's history in the Temporal UI, on the same sign-in.
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="在督办界面（Temporal）查看本案办理历史").click()
    history = await opened.value
    await history.wait_for_url(re.compile(rf"/namespaces/default/workflows/{case_no}"))
    await expect(history.get_by_text(case_no).first).to_be_visible()
    await keep(history, "supervisor-4-temporal-history")

    # A phone's width: the same page, one column, nothing wider than the screen.
    phone = await browser(PHONE)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"/console/cases/{case_no}")
    await expect(phone.get_by_role("heading", name=f"案件 {case_no}")).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await keep(phone, "supervisor-5-phone")
    await phone.goto("/console/worklists/due-today?jurisdiction=139001101")
    await paged_to(phone, phone.get_by_role("link", name=case_no))
    await expect(phone.get_by_role("link", name=case_no)).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await keep(phone, "supervisor-6-phone-worklist")
