"""An admin in the console, in headless Chromium: opens a center's duty list from the directory, adds a
line through its form, and the API routes by it — a case of that category registered next goes to
the unit the line names. The list is put back afterwards (the suite shares the directory).
Screenshots to artifacts/console/; with ONEDOOR_DOCS_SCREENSHOTS=1 the README's to docs/screenshots/console-admin.png."""

from tests.browser import keep, needs_chromium
from tests.cases import register_case, someone, wait_for

needs_chromium()
from playwright.async_api import expect  # noqa: E402  only once it is known to be there

HEDONG = "139001102"  # 河东乡: no line for 消费 disputes, which go to its 其他 line's lead, the justice office T102-SFS


async def test_an_admin_adds_a_duty_line_on_the_page_and_the_next_case_goes_by_it(api, signed_in):
    before = (await api.get(f"/directory/duty-list/{HEDONG}")).json()
    assert "消费" not in {line["category"] for line in before}
    page = await signed_in("admin", "县综治中心 系统管理员")
    try:
        await page.get_by_role("navigation", name="菜单").get_by_role("link", name="目录").click()
        await page.get_by_role("row").filter(has_text="河东乡（139001102）").get_by_role("link", name="职责清单").click()
        await expect(page.get_by_role("heading", name="职责清单 · 河东乡（139001102）")).to_be_visible()
        await page.get_by_label("新增：纠纷类型").select_option("消费")
        await page.get_by_label("新增：单位").select_option("T102-PCS")
        await page.locator("tr.new-line").get_by_label("牵头").check()
        await keep(page, "admin-1-duty-list")
        await page.get_by_role("button", name="保存职责清单").click()
        await expect(page.get_by_role("status")).to_contain_text("职责清单已保存")
        await keep(page, "admin-2-duty-list-saved", "admin", full_page=False)  # the README's: the duty list just saved

        # The API has it, and routes by it.
        after = (await api.get(f"/directory/duty-list/{HEDONG}")).json()
        assert {"jurisdiction_code": HEDONG, "category": "消费", "unit_code": "T102-PCS", "lead": True} in after and len(after) == len(before) + 1
        consumer = {"client_request_id": f"req-console-admin-{someone('x')['phone']}", "source": "window", "category": "消费",
                    "summary": "网购电动车质量问题退货纠纷", "place": {"township_code": HEDONG},
                    "parties": [{**someone("慕容雪"), "role": "applicant"}, {"name": "某车行", "role": "respondent"}]}
        case_no = await register_case(api, consumer)
        case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
        assert (case["level"], case["lead_unit"]) == ("township", "T102-PCS")

        # A removal through the same form: the line goes.
        row = page.get_by_role("row").filter(has=page.locator("select", has=page.locator("option[selected][value='T102-PCS']"))).filter(
            has=page.locator("option[selected][value='消费']"))
        await row.get_by_label("删除此行").check()
        await page.get_by_role("button", name="保存职责清单").click()
        await expect(page.get_by_role("status")).to_contain_text("职责清单已保存")
        assert (await api.get(f"/directory/duty-list/{HEDONG}")).json() == before
    finally:
        assert (await api.put(f"/directory/duty-list/{HEDONG}", json=[{k: v for k, v in line.items() if k != "jurisdiction_code"} for line in before])).status_code == 200
