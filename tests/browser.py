"""Pages in a real browser: Debian's chromium driven by Playwright (never a browser Playwright would
download), and people signed in through the sign-in page the console and the Temporal UI share.

A browser test module calls `needs_chromium()` at its top; its fixtures (`browser`, `signed_in`) come through tests/conftest.py."""

import importlib.util
import os
import shutil
import uuid
from pathlib import Path

import pytest
from PIL import Image

from onedoor.store import users

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
DOCS = Path(__file__).parents[1] / "docs" / "screenshots"  # the README's screenshots
TIMEOUT = 30_000  # ms: a first load compiles a few MB of script on a shared two-core machine
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}  # a grid worker's phone


def needs_chromium() -> None:
    """Skip the module where chromium or playwright is missing (outside CI, saying why); CI has both."""
    if (CHROMIUM is None or importlib.util.find_spec("playwright") is None) and os.environ.get("CI") != "true":
        pytest.skip("needs Debian's chromium (apt-get install chromium) and the playwright package (pip install -e .[test]); CI has both", allow_module_level=True)
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT)


@pytest.fixture
async def browser(stack, settings):
    """new_page(viewport=DESKTOP): a page in a browser context of its own (its own cookies), on the API's origin."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])

        async def new_page(viewport: dict = DESKTOP):
            context = await launched.new_context(base_url=f"http://127.0.0.1:{settings.api_port}", locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
            context.set_default_timeout(TIMEOUT)
            return await context.new_page()

        yield new_page
        await launched.close()


def person(sessions, role: str, name: str, **ties) -> str:
    """A user of this role (a new one each time, with `ties`: jurisdiction_code, unit_code, mediator_id) and their key."""
    with sessions() as session:
        fields = {"jurisdiction_code": None, "unit_code": None, "mediator_id": None, **ties}
        user = users.ensure_user(session, f"{role}-{uuid.uuid4().hex[:8]}", name=name, role=role, active=True, **fields)
        return users.issue_key(session, user)


async def sign_in(page, key: str, start: str = "/console") -> None:
    """Sign in as people do: open a page, land on the sign-in form, type the key."""
    from playwright.async_api import expect

    await page.goto(start)
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
    await page.get_by_label("密钥").fill(key)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()


@pytest.fixture
def signed_in(browser, sessions):
    """signed_in(role, name, viewport=DESKTOP, **ties): a new user of that role signed in, on their home page."""

    async def open_as(role: str, name: str, viewport: dict = DESKTOP, **ties):
        page = await browser(viewport)
        await sign_in(page, person(sessions, role, name, **ties))
        return page

    return open_as


async def shot(page, folder: str, name: str, path: Path | None = None, full_page: bool = True) -> None:
    target = path or ARTIFACTS / folder / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=target, full_page=full_page)


async def paged_to(page, row) -> None:
    """On through a list's pages (下一页) until the row is on the page shown: the suite's other cases, due first,
    fill the first pages of a unit's inbox or a worklist, as a busy center's would."""
    while not await row.count() and await page.get_by_role("link", name="下一页").count():
        await page.get_by_role("link", name="下一页").click()
        await page.wait_for_load_state()


async def keep(page, name: str, readme_role: str | None = None, full_page: bool = True) -> None:
    """The page's screenshot in artifacts/console/; with ONEDOOR_DOCS_SCREENSHOTS=1 and a readme_role, the README's copy
    docs/screenshots/console-<role>.png too (full_page False: what the window shows, not the whole page)."""
    await shot(page, "console", name, full_page=full_page)
    if readme_role and os.environ.get("ONEDOOR_DOCS_SCREENSHOTS") == "1":
        # The README's copy, kept small: the same page in a palette of 64 colours (text and flat colours lose nothing one sees).
        image = Image.open(ARTIFACTS / "console" / f"{name}.png")
        image.convert("RGB").quantize(colors=64).save(DOCS / f"console-{readme_role}.png", optimize=True)
