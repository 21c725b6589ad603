"""The console in headless Chromium, each role's main path on the README's wage case: the window
operator registers it through the form (the preview shows its grade and routing) and prints the
受理告知书; the labour station responds and feeds back from its inbox on a phone; the mediator
records a session and the agreement and prints the 调解协议书; a county supervisor finds it by its number on the worklists page,
records the return visit on its case page and sees it settled; the applicant looks it up on their phone
(便民服务). Screenshots go to artifacts/console/ (gitignored); with ONEDOOR_DOCS_SCREENSHOTS=1 the
README's three are written to docs/screenshots/."""

from datetime import date, timedelta


from tests.browser import PHONE, keep, needs_chromium, paged_to
from tests.cases import decide, someone, today, wait_for

needs_chromium()
from playwright.async_api import Page, expect  # noqa: E402  only once it is known to be there

HOURS = 3600


async def test_the_wage_case_goes_through_the_console_from_the_window_to_the_citizens_lookup(api, signed_in, browser, clocks):
    # The rules' own clocks, so the pages read as they would at the window: 2 h to respond, 24 h to report, a month to mediate.
    clocks(response=2 * HOURS, feedback=24 * HOURS, mediation=30 * 24 * HOURS)
    applicant = someone("王建国")

    # The window operator: the form, its preview, the registration, the 受理告知书.
    operator = await signed_in("operator", "窗口受理员 张敏", jurisdiction_code="139001101")
    await expect(operator.get_by_role("heading", name="登记受理")).to_be_visible()
    await operator.get_by_label("纠纷类型").select_option("劳动争议")
    await operator.get_by_label("发生地（乡镇/街道）").select_option("139001101")
    await operator.get_by_label("纠纷简要情况").fill("某建筑工地拖欠 3 名农民工工资共 2.4 万元")
    first, second = operator.locator("fieldset").nth(0), operator.locator("fieldset").nth(1)
    await first.get_by_label("姓名或单位名称").fill(applicant["name"])
    await first.get_by_label("身份证号码").fill(applicant["id_number"])
    await first.get_by_label("联系电话").fill(applicant["phone"])
    await second.get_by_label("姓名或单位名称").fill("某建筑公司")
    await operator.get_by_label("涉及人数").fill("3")
    await operator.get_by_label("涉及金额（元）").fill("24000")
    await operator.get_by_label("农民工欠薪").check()
    preview = operator.locator("#preview")
    await expect(preview).to_contain_text("黄")  # htmx asked the server as the form changed
    await expect(preview).to_contain_text("城关镇劳动保障所（T101-LDS）")
    await keep(operator, "1-intake-preview", "operator")
    await operator.get_by_role("button", name="登记", exact=True).click()
    await expect(operator.get_by_role("status")).to_have_text("已登记受理。")
    case_no = operator.url.split("/console/cases/")[1].split("?")[0]
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    assert case["grade"] == "yellow" and case["lead_unit"] == "T101-LDS"
    await operator.reload()
    acceptance = await printed(operator, "已派单待响应", "2-case", "受理告知书")
    await expect(acceptance.get_by_text(f"案件编号为 {case_no}")).to_be_visible()  # the API's own paper (onedoor/papers/)
    await expect(acceptance.get_by_text("城关镇劳动保障所（T101-LDS）").first).to_be_visible()
    await keep(acceptance, "3-acceptance-notice")
    # A grid worker registers on a phone (README › Security: they sign in as operators): the form fits its width.
    await operator.set_viewport_size(PHONE)
    await operator.goto("/console/intake")
    assert await operator.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await keep(operator, "3-intake-on-a-phone")

    # The labour station, on a phone: its inbox, each clock's time left, respond then report.
    unit = await signed_in("unit", "劳动保障所 刘干事", viewport=PHONE, unit_code="T101-LDS")
    await expect(unit.get_by_role("heading", name="城关镇劳动保障所待办")).to_be_visible()
    row = unit.get_by_role("row").filter(has_text=case_no)
    await paged_to(unit, row)
    await expect(row).to_contain_text("剩余 1 小时 5")  # of a 2-hour response clock
    await expect(row).to_contain_text("剩余 23 小时 5")
    assert await unit.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    await keep(unit, "4-inbox", "unit")
    await row.get_by_role("button", name="响应").click()
    await expect(unit.get_by_role("status")).to_have_text("已办理。")
    await paged_to(unit, row)
    await row.get_by_label("处理情况").fill("已约谈项目负责人")
    await row.get_by_role("button", name="反馈").click()
    await expect(unit.get_by_role("row").filter(has_text=case_no)).to_have_count(0)  # answered: off the inbox
    await keep(unit, "5-inbox-answered")
    case = (await api.get(f"/cases/{case_no}")).json()
    lead = next(a for a in case["assignments"] if a["unit_code"] == "T101-LDS")
    assert lead["response"]["handler"] == lead["feedback"]["handler"] == "劳动保障所 刘干事" and lead["feedback"]["summary"] == "已约谈项目负责人"
    await decide(api, case_no, "response", {"unit_code": "T101-SFS", "handler": "赵干事"})  # the co-unit answers through the API, as in the README

    # The mediator: their cases, a session, the agreement, the 调解协议书.
    mediator_id = case["mediations"][-1]["mediator_id"]
    mediator = await signed_in("mediator", "城关镇金牌调解员 赵立新", mediator_id=mediator_id)
    await expect(mediator.get_by_role("heading", name="的调解案件")).to_be_visible()
    await mediator.get_by_role("link", name=case_no).click()
    await mediator.get_by_label("方式").select_option("outreach")
    await mediator.get_by_label("调解情况").fill("到工地面谈")
    await keep(mediator, "6-mediation", "mediator")
    await mediator.get_by_role("button", name="记录本次调解").click()
    await expect(mediator.get_by_role("status")).to_have_text("已记录本次调解。")
    await mediator.get_by_label("协议内容（达成协议时填写）").fill("12月5日前付清2.4万元")
    await mediator.get_by_label("履行期限").fill(str(date.fromisoformat(today()) + timedelta(days=7)))
    await mediator.get_by_role("button", name="记录调解结果").click()
    await expect(mediator.get_by_role("status")).to_have_text("已记录调解结果。")
    agreement = await printed(mediator, "已办结待回访", "7-agreement-recorded", "调解协议书")
    await expect(agreement.get_by_text("12月5日前付清2.4万元")).to_be_visible()
    await expect(agreement.get_by_text(applicant["name"]).first).to_be_visible()
    await keep(agreement, "8-agreement")
    closed = (await api.get(f"/cases/{case_no}")).json()
    assert closed["stage"] == "closed" and closed["mediations"][-1]["sessions"][0]["mode"] == "outreach"
    audit = (await api.get(f"/cases/{case_no}/archive")).json()["audit"]
    # Each step the pages took is on the audit trail under the person signed in, as the API's would be.
    bound = {entry["action"]: entry["user_role"] for entry in audit if entry["user_id"]}
    assert {action: bound.get(action) for action in ("received", "handling", "fed_back", "session", "mediation")} == {
        "received": "operator", "handling": "unit", "fed_back": "unit", "session": "mediator", "mediation": "mediator"}

    # The county's supervisor: the case found by its number from the worklists, its page, the return visit, settled.
    supervisor = await signed_in("supervisor", "县督办 刘志强", jurisdiction_code="139001")
    await supervisor.get_by_role("navigation", name="菜单").get_by_role("link", name="工作清单").click()
    finder = supervisor.get_by_role("form", name="查找案件")
    await finder.get_by_label("案件编号").fill(case_no)
    await finder.get_by_role("button", name="查找案件").click()
    await expect(supervisor.get_by_role("heading", name=f"案件 {case_no}")).to_be_visible()
    visit = supervisor.get_by_role("form", name="回访")
    await visit.get_by_label("回访情况").fill("工资已到账，当事人满意")
    await visit.get_by_role("button", name="记录回访").click()
    await expect(supervisor.get_by_role("status")).to_contain_text("回访")
    await expect(supervisor.get_by_role("definition").filter(has_text="案结事了")).to_be_visible()
    await keep(supervisor, "9-settled")
    assert (await api.get(f"/cases/{case_no}")).json()["stage"] == "settled"

    # The applicant, on their phone: the case number and the last four digits of their phone, nothing of anyone else's.
    citizen = await browser(viewport=PHONE)  # a browser of their own: no session, no key
    await citizen.goto("/lookup")
    await citizen.get_by_label("案件编号").fill(case_no)
    await citizen.get_by_label("手机号后四位").fill(applicant["phone"][-4:])
    await citizen.get_by_role("button", name="查询").click()
    found = citizen.get_by_role("region", name="查询结果")
    await expect(found).to_contain_text("案结事了")
    await expect(found).to_contain_text("城关镇劳动保障所")
    assert applicant["name"] not in await citizen.content()
    await keep(citizen, "10-citizen-lookup")


async def printed(page: Page, stage: str, name: str, paper: str) -> Page:
    """The case page at this stage (kept as `name`), and the paper its print link opens."""
    await expect(page.get_by_role("definition").filter(has_text=stage)).to_be_visible()
    await keep(page, name)
    async with page.expect_popup() as opened:
        await page.get_by_role("link", name=f"打印{paper}").click()
    shown = await opened.value
    await expect(shown.get_by_role("heading", name=paper)).to_be_visible()
    return shown
