"""The console over HTTP: the sign-in it shares with the Temporal UI, each role sent to its home,
refusals as pages in Chinese, and form posts from another site refused (tests/api/console/test_console_browser.py
walks the roles' paths in a browser)."""

import asyncio
import uuid

import httpx
import pytest

from tests.cases import register_case, someone, wait_for



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


def wage_form(applicant: dict, **changes) -> dict:
    """The README's wage case as the intake form posts it (tests.cases.wage_arrears as fields)."""
    form = {
        "client_request_id": f"window-{uuid.uuid4().hex}", "source": "window", "category": "劳动争议", "summary": "某建筑工地拖欠 3 名农民工工资共 2.4 万元",
        "place.township_code": "139001101", "place.village_code": "",
        "parties.0.name": applicant["name"], "parties.0.role": "applicant", "parties.0.id_number": applicant["id_number"], "parties.0.phone": applicant["phone"],
        "parties.1.name": "某建筑公司", "parties.1.role": "respondent", "parties.2.role": "other",
        "factors.people_involved": "3", "factors.amount_at_stake": "24000", "factors.vulnerable_groups": ["migrant_worker_wages"],
    }
    return form | changes


async def test_an_operator_registers_through_the_form_as_the_api_does(console, api):
    operator = await console("operator", "城关镇受理员", jurisdiction_code="139001101")
    form = await operator.get("/console/intake")
    assert form.status_code == 200 and "城关镇（139001101）" in form.text and "河东乡" not in form.text  # places of their jurisdiction only

    applicant = someone("王建国")
    shown = await operator.post("/console/intake/preview", data=wage_form(applicant))
    assert "grade yellow" in shown.text and "涉及弱势群体：农民工欠薪" in shown.text and "城关镇劳动保障所（T101-LDS）" in shown.text

    registered = await operator.post("/console/intake", data=(sent := wage_form(applicant)))
    assert registered.status_code == 303, registered.text
    case_no = registered.headers["location"].split("/")[-1].split("?")[0]
    assert registered.headers["location"] == f"/console/cases/{case_no}?done=registered"
    again = await operator.post("/console/intake", data=sent)  # a double click: the same request, the same case
    assert again.headers["location"] == f"/console/cases/{case_no}?done=registered"
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    assert case["grade"] == "yellow" and case["lead_unit"] == "T101-LDS" and case["source"] == "window"
    page = await operator.get(f"/console/cases/{case_no}")
    assert "已派单待响应" in page.text and "城关镇劳动保障所" in page.text and "剩余" in page.text
    paper = await operator.get(f"/console/cases/{case_no}/papers/acceptance")
    assert paper.status_code == 200 and "受理告知书" in paper.text and applicant["name"] in paper.text and case_no in paper.text

    # The same applicant again while the case is open: warned, with the case to join; joining it is a repeat visit.
    repeat = wage_form(applicant, summary="王建国再次来访，工资仍未发放")
    warned = await operator.post("/console/intake", data=repeat)
    assert warned.status_code == 409 and f'name="join_case" value="{case_no}"' in warned.text and 'id="parties-error"' in warned.text
    joined = await operator.post("/console/intake", data=repeat | {"join_case": case_no})
    assert joined.status_code == 303 and joined.headers["location"] == f"/console/cases/{case_no}?done=joined"
    assert (await api.get(f"/cases/{case_no}")).json()["joined_registrations"] == [repeat["client_request_id"]]


async def test_a_bad_field_is_named_beside_it(console):
    operator = await console("operator", "城关镇受理员", jurisdiction_code="139001101")
    bad = wage_form(someone("钱多多"), summary="", **{"parties.0.phone": "12ab", "place.village_code": "139001102202"})
    refused = await operator.post("/console/intake", data=bad)
    assert refused.status_code == 422
    assert 'id="summary-error"' in refused.text and 'id="parties.0.phone-error"' in refused.text
    assert "格式不对" in refused.text
    wrong_village = await operator.post("/console/intake", data=wage_form(someone("钱多多"), **{"place.village_code": "139001102202"}))
    assert wrong_village.status_code == 422 and 'id="place.village_code-error"' in wrong_village.text and "不属于 城关镇" in wrong_village.text


async def test_another_jurisdiction_is_refused_as_the_api_refuses_it(console, api):
    case_no = await register_case(api)
    elsewhere = await console("operator", "河东乡受理员", jurisdiction_code="139001102")
    hidden = await elsewhere.get(f"/console/cases/{case_no}")
    assert hidden.status_code == 404 and f"案件 {case_no} 不存在" in hidden.text and "<html" in hidden.text
    forged = await elsewhere.post("/console/intake", data=wage_form(someone("孙小美")))  # a township their form does not offer
    assert forged.status_code == 403 and 'id="place.township_code-error"' in forged.text and "不在您的辖区" in forged.text
    assert (await elsewhere.get(f"/console/cases/{case_no}/papers/acceptance")).status_code == 404


async def test_a_role_without_the_page_gets_a_refusal_in_chinese(console, api):
    unit = await console("unit", "劳动保障所干事", unit_code="T101-LDS")
    refused = await unit.get("/console/intake")
    assert refused.status_code == 403 and "承办单位无权执行此操作" in refused.text and "<html" in refused.text
    operator = await console("operator", "城关镇受理员", jurisdiction_code="139001101")
    assert (await operator.get("/console/inbox")).status_code == 403
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    assert (await unit.get(f"/console/cases/{case_no}/papers/acceptance")).status_code == 403
    # A unit answers in its own name only, whatever the form's hidden field says.
    forged = await unit.post(f"/console/cases/{case_no}/response", data={"unit_code": "T101-SFS", "handler": "冒名"})
    assert forged.status_code == 403 and "只能以本人/本单位（T101-LDS）名义办理" in forged.text
    assert (await api.get(f"/cases/{case_no}")).json()["assignments"][1]["response"] is None


async def test_a_units_inbox_shows_each_clock_and_the_orders_addressed_to_it(console, api):
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    supervised = await api.post(f"/cases/{case_no}/supervision", json={"supervisor": "县综治中心 刘志强", "order": "请今日内联系当事人"})
    assert supervised.status_code == 202, supervised.text
    unit = await console("unit", "劳动保障所干事", unit_code="T101-LDS")
    for _ in range(100):
        inbox = await unit.get("/console/inbox")
        if "请今日内联系当事人" in inbox.text:
            break
        await asyncio.sleep(0.1)
    row = inbox.text.split(f'href="/console/cases/{case_no}"')[1].split("</tr>")[0]
    assert "响应：" in row and "反馈：" in row and row.count("剩余") == 2 and 'value="T101-LDS"' in row
    assert "上级督办" in inbox.text and "请今日内联系当事人" in inbox.text

    responded = await unit.post(f"/console/cases/{case_no}/response", data={"unit_code": "T101-LDS", "handler": "刘干事", "_back": "/console/inbox"})
    assert responded.status_code == 303 and responded.headers["location"] == "/console/inbox?done=response"
    blank = await unit.post(f"/console/cases/{case_no}/feedback", data={"unit_code": "T101-LDS", "handler": "刘干事", "summary": " ", "_back": "/console/inbox"})
    assert blank.status_code == 422 and 'id="summary-error"' in blank.text and "必填" in blank.text  # beside the field, on the case page
    elsewhere = await unit.post(f"/console/cases/{case_no}/feedback", data={"unit_code": "T101-LDS", "handler": "刘干事", "summary": "已处理", "_back": "https://evil.example/"})
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == f"/console/cases/{case_no}?done=feedback"  # back to this site only


async def test_a_mediator_sees_only_their_cases_and_an_agreement_needs_its_terms(console, api):
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    mine = case["mediations"][-1]["mediator_id"]
    other = "M-T101-2" if mine != "M-T101-2" else "M-T101-1"
    mediator, stranger = await console("mediator", "调解员甲", mediator_id=mine), await console("mediator", "调解员乙", mediator_id=other)
    assert case_no in (await mediator.get("/console/mediation")).text and case_no not in (await stranger.get("/console/mediation")).text
    assert (await stranger.get(f"/console/cases/{case_no}")).status_code == 404
    no_terms = await mediator.post(f"/console/cases/{case_no}/mediation/result", data={"mediator_id": mine, "outcome": "agreement"})
    assert no_terms.status_code == 422 and 'id="terms-error"' in no_terms.text and "达成协议须填写协议内容" in no_terms.text
    assert (await mediator.get(f"/console/cases/{case_no}/papers/agreement")).status_code == 409  # nothing agreed yet
    future = await mediator.post(f"/console/cases/{case_no}/mediation/sessions", data={"mediator_id": mine, "held_on": "2100-01-01", "mode": "desk", "notes": "面谈"})
    assert future.status_code == 422 and 'id="held_on-error"' in future.text
