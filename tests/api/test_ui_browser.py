"""A supervisor in the Temporal UI, driven in headless Chromium (Debian's package) through the API's
origin, as docs/supervision.md tells them: sign in, the jurisdiction's list, a case decoded
with its current details, another township's case refused, no way to terminate. Screenshots go to
artifacts/ui/ (gitignored): look at them when a step fails."""

import asyncio
import re

import pytest

from onedoor.store import users
from tests.browser import DESKTOP, TIMEOUT, needs_chromium, shot as keep
from tests.cases import register_case, someone, wage_arrears, wait_for

needs_chromium()
from playwright.async_api import Error as PlaywrightError, Page, expect  # noqa: E402  only once it is known to be there


@pytest.fixture
async def page(browser):
    return await browser({**DESKTOP, "width": 1600, "height": 1000})


async def shown_in_frames(page: Page, text: str) -> bool:
    """The UI renders a case's summary and details as markdown, each in a frame of its own."""
    for frame in page.frames:
        try:
            if text in await frame.inner_text("body", timeout=1000):
                return True
        except PlaywrightError:  # a frame navigating or gone
            continue
    return False


async def wait_until(check, timeout: float = TIMEOUT / 1000) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not shown in time"
        await asyncio.sleep(0.5)


async def shot(page: Page, name: str) -> None:
    await keep(page, "ui", name)


async def test_a_supervisor_reads_the_cases_of_their_township_decoded_and_nothing_else(api, sessions, page):
    ours = wage_arrears(parties=[{**someone("欧阳明珠"), "role": "applicant"}, {"name": "某建筑公司", "role": "respondent"}])
    theirs = wage_arrears(place={"township_code": "139001102"}, parties=[{**someone("司马青山"), "role": "applicant"}, {"name": "某物流公司", "role": "respondent"}])
    own_case, other_case = await register_case(api, ours), await register_case(api, theirs)
    for case_no in (own_case, other_case):
        await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    with sessions() as session:
        supervisor = users.ensure_user(session, "ui-supervisor", name="城关镇督办员", role="supervisor", jurisdiction_code="139001101", active=True)
        key = users.issue_key(session, supervisor)

    # A stranger is sent to the sign-in page, in Chinese; the key signs in, the cookie is a session id.
    await page.goto("/")
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
    await shot(page, "1-sign-in")
    await page.get_by_label("密钥").fill(key)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"^http://[^/]+/namespaces/"))
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "onedoor_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and key not in cookie["value"]

    # The list: this township's case, not 河东乡's, whatever the filter asks.
    await page.goto("/namespaces/default/workflows")
    await shot(page, "2-list")
    await expect(page.get_by_text(own_case)).to_be_visible()
    await expect(page.get_by_text(other_case)).to_have_count(0)
    await shot(page, "2-list")
    counted = await page.request.get("/api/v1/namespaces/default/workflow-count", params={"query": f'WorkflowId="{other_case}"'})
    assert counted.status == 200 and int((await counted.json()).get("count", 0)) == 0
    escape = await page.request.get("/api/v1/namespaces/default/workflows", params={"query": 'WorkflowId="x") OR (WorkflowId!="x"'})
    assert escape.status == 400

    # The case: the parties decoded through the same-origin codec, the current details readable.
    await page.get_by_role("link", name=own_case).click()
    await expect(page.get_by_text("欧阳明珠").first).to_be_visible()
    await expect(page.get_by_text("Codec Server could not connect")).to_have_count(0)
    await shot(page, "3-case")
    await page.get_by_role("tab", name="User Metadata").click()
    await wait_until(lambda: shown_in_frames(page, "已派单待响应"))
    await shot(page, "4-current-details")

    # No write: the UI's actions are off, and the API behind it refuses one sent by hand.
    await expect(page.get_by_role("button", name="Request Cancellation")).to_be_disabled()
    await expect(page.get_by_role("button", name="Terminate")).to_have_count(0)
    terminate = await page.request.post(f"/api/v1/namespaces/default/workflows/{own_case}/terminate", data={"reason": "试图终止"})
    assert terminate.status == 403 and "只读" in (await terminate.json())["detail"]
    assert (await api.get(f"/cases/{own_case}")).json()["stage"] == "dispatched"

    # Another township's case: refused, and nothing of it shows.
    await page.goto(f"/namespaces/default/workflows/{other_case}")
    await page.wait_for_load_state("networkidle")
    await expect(page.get_by_text("司马青山")).to_have_count(0)
    await expect(page.get_by_role("heading", name=f"案件 {other_case} 不存在或不在您的辖区内")).to_be_visible()
    await shot(page, "5-other-township")
    described = await page.request.get(f"/api/v1/namespaces/default/workflows/{other_case}")
    assert described.status == 404

    # Signed out, the UI is closed again.
    assert (await page.request.post("/ui/signout")).status == 204
    await page.goto("/namespaces/default/workflows")
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
