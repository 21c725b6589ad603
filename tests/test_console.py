"""The console over HTTP: the sign-in it shares with the Temporal UI, each role sent to its home,
refusals as pages in Chinese, and form posts from another site refused (tests/test_console_browser.py
walks the roles' paths in a browser)."""

import httpx
import pytest



@pytest.fixture
async def stranger(stack, settings):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30) as client:
        yield client


async def test_a_stranger_signs_in_first_and_comes_back(stranger):
    answer = await stranger.get("/console/inbox?page=2")
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/signin?next=/console/inbox%3Fpage%3D2"
    signin = await stranger.get(answer.headers["location"])
    assert signin.status_code == 200 and "<h1>登录</h1>" in signin.text and 'value="/console/inbox?page=2"' in signin.text


async def test_a_wrong_key_is_named_beside_the_key_field(stranger, settings):
    origin = f"http://127.0.0.1:{settings.api_port}"
    answer = await stranger.post("/console/signin", data={"api_key": "od_not-a-key", "next": "/console"}, headers={"Origin": origin})
    assert answer.status_code == 401 and 'id="api_key-error"' in answer.text and "密钥无效或已停用" in answer.text
    assert "onedoor_session" not in answer.cookies


@pytest.mark.parametrize(("role", "ties", "home"), [
    ("operator", {"jurisdiction_code": "139001101"}, "/console/intake"),
    ("unit", {"unit_code": "T101-LDS"}, "/console/inbox"),
    ("mediator", {"mediator_id": "M-T101-1"}, "/console/mediation"),
    ("supervisor", {"jurisdiction_code": "139001101"}, "/console/home"),
    ("admin", {}, "/console/home"),
])
async def test_each_role_lands_on_its_home_and_signs_out(console, role, ties, home):
    browser = await console(role, f"{role}测试员", **ties)
    landing = await browser.get("/console")
    assert landing.status_code == 303 and landing.headers["location"] == home
    shown = await browser.get("/console/home")
    assert shown.status_code == 200 and f"{role}测试员" in shown.text
    signed_out = await browser.post("/console/signout")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/ui/signin"
    assert (await browser.get("/console")).headers["location"].startswith("/ui/signin")


async def test_a_form_posted_from_another_site_is_refused(console):
    browser = await console("operator", "跨站测试员", jurisdiction_code="139001101")
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "", "Referer": "https://evil.example/form"}, {"Origin": ""}):
        refused = await browser.post("/console/signout", headers=headers)
        assert refused.status_code == 403 and "跨站" in refused.text and "<html" in refused.text
    assert (await browser.get("/console")).status_code == 303  # still signed in: the forged sign-out did nothing
    assert (await browser.get("/console")).headers["location"] == "/console/intake"


async def test_the_pages_work_offline(stranger):
    """Every file a page loads is served by the API itself: no CDN."""
    signin = await stranger.get("/ui/signin")
    for asset in ("/console/static/console.css", "/console/static/htmx/htmx.min.js"):
        assert asset in signin.text
        assert (await stranger.get(asset)).status_code == 200
    assert "http" not in signin.text.split("<body>")[0].replace('http-equiv', '')
    assert (await stranger.get("/console/static/..%2Fweb.py")).status_code == 404  # only the sheets and scripts, by name
