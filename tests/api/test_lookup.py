"""便民服务: a citizen looks up their case with its number and the last four digits of their phone,
through the JSON route and the page's form, and sees its progress in plain Chinese — never a
party's data; a wrong number or phone gets the same answer; guessing is stopped (429)."""

import asyncio
import re
import shutil
from pathlib import Path

import httpx
import pytest
from matplotlib import image

from onedoor.domain.labels import Stage
from onedoor.domain.progress import progress_words
from tests.cases import decide, register_case, wage_arrears, wait_for

ARTIFACTS = Path(__file__).parents[2] / "var" / "test-artifacts" / "lookup"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOT_FOUND = "未查到该案件：请核对案件编号和手机号后四位。如仍查不到，请到受理窗口或拨打热线咨询。"


@pytest.fixture
async def public(stack, settings):
    """The API as a citizen's browser reaches it: no key."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30) as client:
        yield client


@pytest.fixture
def generous(configure):
    """Limits no test of the answers runs into (the rate-limit test sets its own)."""
    configure(lookup_limit_per_client="1000/minute", lookup_limit_per_case="1000/minute")


@pytest.fixture
async def dispatched_case(api) -> tuple[str, dict, dict]:
    """A wage case dispatched to its unit: its number, the form it was registered with, its register row with its lead unit's name."""
    form = wage_arrears()
    case_no = await register_case(api, form)
    row = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched", view="/register")
    units = {unit["code"]: unit["name"] for unit in (await api.get("/directory/units")).json()}
    return case_no, form, {**row, "lead_unit_name": units[row["lead_unit"]]}


def last4(form: dict) -> str:
    return form["parties"][0]["phone"][-4:]


def wrong(digits: str) -> str:
    return f"{(int(digits) + 1) % 10000:04d}"


def no_party_data(text: str, form: dict) -> None:
    """Nothing a party gave shows: not the name, the phone or ID number, the summary, the respondent."""
    applicant = form["parties"][0]
    for secret in (applicant["name"], applicant["phone"], applicant["id_number"], form["summary"], "某建筑公司"):
        assert secret not in text


async def test_the_right_number_and_digits_show_the_progress_and_nothing_of_the_parties(public, dispatched_case, generous):
    case_no, form, row = dispatched_case
    response = await public.post("/lookup/progress", json={"case_no": case_no, "phone_last4": last4(form)})
    assert response.status_code == 200, response.text
    shown = response.json()
    stage_text, next_step = progress_words(Stage.DISPATCHED)
    assert (shown["case_no"], shown["stage"], shown["stage_text"], shown["next_step"]) == (case_no, "dispatched", stage_text, next_step)
    assert shown["handled_by"] == row["lead_unit_name"] and shown["received_at"] == row["received_at"] and shown["received_at"].endswith("+08:00")
    assert set(shown) == {"case_no", "stage", "stage_text", "handled_by", "next_step", "received_at", "closed_at"}
    no_party_data(response.text, form)


async def test_a_closed_case_shows_closed_and_the_return_visit_next(public, api, dispatched_case, generous):
    case_no, form, _ = dispatched_case
    await decide(api, case_no, "decline", {"operator": "受理员 周敏", "reason": "已进入诉讼程序，不属于调解受理范围"})
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed" and c["closed_at"], view="/register")
    shown = (await public.post("/lookup/progress", json={"case_no": case_no, "phone_last4": last4(form)})).json()
    assert (shown["stage_text"], shown["next_step"]) == progress_words(Stage.CLOSED) and shown["closed_at"] == closed["closed_at"]
    assert "诉讼程序" not in str(shown)  # the reason is a note: not for the public


async def test_a_wrong_number_or_phone_gets_one_and_the_same_answer(public, api, dispatched_case, generous):
    case_no, form, _ = dispatched_case
    other = await register_case(api, wage_arrears())  # another party's case: this phone's digits do not open it
    answers = [
        await public.post("/lookup/progress", json={"case_no": case_no, "phone_last4": wrong(last4(form))}),
        await public.post("/lookup/progress", json={"case_no": other, "phone_last4": last4(form)}),
        await public.post("/lookup/progress", json={"case_no": "139001-2099-999999", "phone_last4": last4(form)}),
    ]
    assert {(a.status_code, a.json()["detail"]) for a in answers} == {(404, NOT_FOUND)}
    malformed = await public.post("/lookup/progress", json={"case_no": case_no, "phone_last4": "12"})
    assert malformed.status_code == 422 and "phone_last4" in malformed.json()["detail"]


async def test_the_page_looks_the_case_up_from_its_form(public, dispatched_case, generous):
    case_no, form, row = dispatched_case
    blank = await public.get("/lookup")
    assert blank.status_code == 200 and '<form class="card" method="post" action="/lookup">' in blank.text and "width=device-width" in blank.text
    found = await public.post("/lookup", data={"case_no": f" {case_no} ", "phone_last4": last4(form)})
    assert found.status_code == 200 and found.headers["content-type"].startswith("text/html")
    assert all(words in found.text for words in ("已派给承办单位，等待单位接单", row["lead_unit_name"], "承办单位接单后将与您联系"))
    no_party_data(found.text, form)
    refused = await public.post("/lookup", data={"case_no": case_no, "phone_last4": wrong(last4(form))})
    assert refused.status_code == 404 and NOT_FOUND in refused.text and row["lead_unit_name"] not in refused.text
    malformed = await public.post("/lookup", data={"case_no": "第3号", "phone_last4": "1234"})
    assert malformed.status_code == 422 and "案件编号格式不对" in malformed.text
    stuffed = await public.post("/lookup", data={f"field{n}": "x" for n in range(20)})
    assert stuffed.status_code == 422 and "请只填写案件编号和手机号后四位" in stuffed.text


async def test_guessing_the_digits_is_stopped_per_case_and_per_client(public, api, dispatched_case, configure):
    case_no, form, _ = dispatched_case
    configure(lookup_limit_per_client="1000/minute", lookup_limit_per_case="3/minute")
    for guess in ("0000", "0001", "0002"):
        assert (await public.post("/lookup/progress", json={"case_no": case_no, "phone_last4": guess})).status_code == 404
    limited = await public.post("/lookup/progress", json={"case_no": case_no, "phone_last4": last4(form)})  # even the right digits, now
    assert limited.status_code == 429 and "查询过于频繁" in limited.json()["detail"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60

    configure(lookup_limit_per_client="2/minute", lookup_limit_per_case="1000/minute")
    others = [await register_case(api, wage_arrears()) for _ in range(3)]  # another number each time: the client's own limit
    answers = [await public.post("/lookup", data={"case_no": other, "phone_last4": "1234"}) for other in others]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert "查询过于频繁，请 1 分钟后再试" in answers[-1].text and 0 < int(answers[-1].headers["Retry-After"]) <= 60


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
async def test_the_page_reads_at_a_phones_width(public, settings, dispatched_case, generous, tmp_path):
    """Headless Chromium posts the form as a citizen's phone would (390 px wide) and keeps a screenshot."""
    case_no, form, row = dispatched_case
    # A local page that submits the lookup form at once: Chromium's command line cannot post one itself.
    poster = tmp_path / "post.html"
    poster.write_text(f'<form method="post" action="http://127.0.0.1:{settings.api_port}/lookup"><input name="case_no" value="{case_no}">'
                      f'<input name="phone_last4" value="{last4(form)}"></form><script>document.forms[0].submit()</script>', encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "lookup-phone.png"
    screenshot.unlink(missing_ok=True)
    chromium = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=390,844",
        "--virtual-time-budget=5000", f"--screenshot={screenshot}", "--dump-dom", poster.as_uri(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    dom, errors = await asyncio.wait_for(chromium.communicate(), timeout=120)
    assert chromium.returncode == 0, errors.decode()[-2000:]
    print(f"screenshot: {screenshot}")
    dom = dom.decode()
    assert "已派给承办单位，等待单位接单" in dom and row["lead_unit_name"] in dom, dom[:2000]
    no_party_data(dom, form)
    pixels = image.imread(screenshot)
    assert pixels.shape[1] == 390 and pixels.std() > 0.05  # a phone's width, text and panels on it
    assert not re.findall(r"(?:https?:)?//[\w.-]+", (await public.get("/lookup")).text)  # nothing from another host: works offline
