"""The department gateway on the wire: signed documents to units' systems (played by the simulator),
inbox units that get no call, refusals that are not retried, and units answering by our signed
callback — which lands exactly as an answer through the API, and refuses forgeries and replays."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from onedoor import signing
from tests.cases import mediate, register_case, wage_arrears, wait_for, wait_for_delivery


@pytest.fixture
async def script(simulator):
    """Set a unit's script for this test; every scripted unit is back to the default afterwards."""
    scripted = set()

    async def set_script(unit: str, **script) -> None:
        scripted.add(unit)
        (await simulator.put(f"/units/{unit}/script", json=script)).raise_for_status()

    yield set_script
    for unit in scripted:
        await simulator.put(f"/units/{unit}/script", json={})


@pytest.fixture
async def outside(stack, settings):
    """A unit's system calling us: no API key, only its signature."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", timeout=30) as client:
        yield client


def signed(secret: str, body: dict, key: str, now: float | None = None) -> tuple[bytes, dict]:
    content = json.dumps(body, ensure_ascii=False).encode()
    return content, {"Content-Type": "application/json; charset=utf-8", **signing.sign(secret, content, key, now=now)}


async def call_back(outside: httpx.AsyncClient, unit: str, secret: str, body: dict, key: str, now: float | None = None) -> httpx.Response:
    content, headers = signed(secret, body, key, now)
    return await outside.post(f"/callbacks/{unit}", content=content, headers=headers)


def assignment(case: dict, unit: str) -> dict:
    return next(a for a in case["assignments"] if a["unit_code"] == unit)


async def dispatched(api: httpx.AsyncClient, form: dict | None = None) -> dict:
    case_no = await register_case(api, form)
    return await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and all(a["delivery"] for a in c["assignments"]))


# ── documents out ───────────────────────────────────────────────────────────────────────────


async def test_a_units_system_gets_the_document_signed_and_refuses_a_tampered_one(api, simulator, unit_credentials):
    case_no = await register_case(api)
    delivery = await wait_for_delivery(simulator, "T101-LDS", case_no)
    assert delivery["accepted"] == 1  # the simulator checked our signature before accepting it

    secret, key = unit_credentials("T101-LDS").signing_secret, f"{case_no}:forged"
    content, headers = signed(secret, delivery["document"], key)
    tampered = json.dumps({**delivery["document"], "summary": "篡改后的案情"}, ensure_ascii=False).encode()
    attempts = {
        "signed with another secret": (content, signed("not-the-units-secret", delivery["document"], key)[1]),
        "body changed after signing": (tampered, headers),
        "unsigned": (content, {signing.IDEMPOTENCY_KEY: key}),
    }
    for why, (body, forged_headers) in attempts.items():
        response = await simulator.post("/units/T101-LDS/dispatches", content=body, headers=forged_headers)
        assert response.status_code == 401, (why, response.text)
    assert key not in {d["idempotency_key"] for d in (await simulator.get("/units/T101-LDS/dispatches")).json()}


async def test_a_unit_without_a_system_finds_the_case_in_its_inbox_and_gets_no_call(api, simulator):
    """河东乡劳动保障所 has no system of its own (channel inbox); its co-unit has one."""
    case = await dispatched(api, wage_arrears(place={"township_code": "139001102"}))
    case_no = case["case_no"]
    assert case["lead_unit"] == "T102-LDS" and "收件箱" in assignment(case, "T102-LDS")["delivery"]
    await wait_for(api, case_no, lambda r: any(e["note"] == "已推送至 T102-LDS 收件箱" for e in r["timeline"]), view="/register")
    await wait_for_delivery(simulator, "T102-SFS", case_no)
    calls = [d for d in (await simulator.get("/units/T102-LDS/dispatches")).json() if case_no in d["idempotency_key"]]
    assert calls == []


async def test_a_unit_refusing_the_document_is_asked_once_and_the_operator_sees_its_answer(api, simulator, script):
    await script("T101-SFS", reject=422)
    case = await dispatched(api)
    note = assignment(case, "T101-SFS")["delivery"]
    assert "拒收" in note and "422" in note and "文书不符合本单位接收要求" in note, note  # the unit's own answer
    tries = [d for d in (await simulator.get("/units/T101-SFS/dispatches")).json() if d["idempotency_key"].startswith(case["case_no"])]
    assert [(d["attempts"], d["accepted"]) for d in tries] == [(1, 0)]
    assert "系统已接收" in assignment(case, "T101-LDS")["delivery"]  # the lead's system took it as usual


# ── answers back: the signed callback ───────────────────────────────────────────────────────


async def test_units_answer_by_signed_callback_and_the_case_moves_as_through_the_api(api, simulator, script):
    for unit in ("T101-LDS", "T101-SFS"):
        await script(unit, answer="callback", respond_after=0.2, feedback_after=0.4)
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: c["assignments"] and all(a["feedback"] for a in c["assignments"]))
    assert case["stage"] == "handling"
    assert {(a["unit_code"], a["response"]["handler"], a["feedback"]["summary"]) for a in case["assignments"]} == {
        ("T101-LDS", "模拟承办人", "已按职责处理（模拟）"), ("T101-SFS", "模拟承办人", "已按职责处理（模拟）")}
    assert {c["status"] for c in case["clocks"] if c["name"] in ("response", "feedback")} == {"met"}
    for unit in ("T101-LDS", "T101-SFS"):
        delivery = await wait_for_delivery(simulator, unit, case_no, answered=2)
        assert delivery["answers"] == {"response": 200, "feedback": 200}
    record = await wait_for(api, case_no, lambda r: r["stage"] == "handling", view="/register")
    notes = [e["note"] for e in record["timeline"] if e["kind"] in ("handling", "responded", "fed_back")]
    assert sorted(notes) == sorted(f"{unit} {step}" for unit in ("T101-LDS", "T101-SFS") for step in ("已响应，承办人 模拟承办人", "已反馈：已按职责处理（模拟）"))


async def test_a_forged_or_stale_callback_is_refused_and_changes_nothing(api, outside, unit_credentials):
    case = await dispatched(api)
    case_no, secret = case["case_no"], unit_credentials("T101-LDS").signing_secret
    answer = {"kind": "response", "case_no": case_no, "handler": "冒名者"}
    content, headers = signed(secret, answer, f"{case_no}:forged")
    refusals = {
        "unsigned": await outside.post("/callbacks/T101-LDS", json=answer, headers={signing.IDEMPOTENCY_KEY: f"{case_no}:u"}),
        "another unit's secret": await call_back(outside, "T101-LDS", unit_credentials("T101-SFS").signing_secret, answer, f"{case_no}:o"),
        "body changed after signing": await outside.post("/callbacks/T101-LDS", content=content.replace("冒名者".encode(), "刘干事".encode()), headers=headers),
        "an hour old": await call_back(outside, "T101-LDS", secret, answer, f"{case_no}:old", now=time.time() - 3600),
        # Headers may carry any byte: neither is a server error.
        "a non-ASCII byte in the signature": await outside.post("/callbacks/T101-LDS", content=content, headers={**headers, signing.SIGNATURE: b"v1=\xff\xfe"}),
        "a timestamp beyond any float": await outside.post("/callbacks/T101-LDS", content=content, headers={**headers, signing.TIMESTAMP: "9" * 400}),
        # The key is signed with the body: without it nothing can be verified, signature or not.
        "signed, without its Idempotency-Key": await outside.post("/callbacks/T101-LDS", content=content, headers={k: v for k, v in headers.items() if k != signing.IDEMPOTENCY_KEY}),
        "signed over an empty Idempotency-Key": await outside.post("/callbacks/T101-LDS", content=content, headers={**signed(secret, answer, "")[1], signing.IDEMPOTENCY_KEY: ""}),
        "nothing at all": await outside.post("/callbacks/T101-LDS", json=answer),
    }
    for why, response in refusals.items():
        assert response.status_code == 401, (why, response.text)
    assert "过期" in refusals["an hour old"].json()["detail"]
    assert "签名不符" in refusals["a non-ASCII byte in the signature"].json()["detail"]
    assert signing.IDEMPOTENCY_KEY in refusals["signed, without its Idempotency-Key"].json()["detail"]
    unknown = await call_back(outside, "NO-SUCH-UNIT", secret, answer, f"{case_no}:x")
    assert unknown.status_code == 404

    after = (await api.get(f"/cases/{case_no}")).json()
    assert after["stage"] == "dispatched" and assignment(after, "T101-LDS")["response"] is None


async def test_a_replayed_callback_is_refused_and_a_refused_one_may_be_sent_again(api, outside, unit_credentials):
    case = await dispatched(api)
    case_no, secret = case["case_no"], unit_credentials("T101-LDS").signing_secret
    feedback = {"kind": "feedback", "case_no": case_no, "handler": "刘干事", "summary": "已约谈项目负责人"}

    early = await call_back(outside, "T101-LDS", secret, feedback, f"{case_no}:feedback", now=time.time() - 1)  # the later one is signed afresh
    assert early.status_code == 409 and "尚未响应" in early.json()["detail"]  # the case refuses it, as through the API
    incomplete = await call_back(outside, "T101-LDS", secret, {"kind": "response", "case_no": case_no}, f"{case_no}:incomplete")
    assert incomplete.status_code == 422 and "handler" in incomplete.json()["detail"]

    content, headers = signed(secret, {"kind": "response", "case_no": case_no, "handler": "刘干事"}, f"{case_no}:response")
    accepted = await outside.post("/callbacks/T101-LDS", content=content, headers=headers)
    assert accepted.status_code == 200 and accepted.json()["stage"] == "handling"
    replayed = await outside.post("/callbacks/T101-LDS", content=content, headers=headers)
    assert replayed.status_code == 409 and "重复回调" in replayed.json()["detail"]

    # The feedback refused before left no receipt: the same key, signed afresh, now lands.
    later = await call_back(outside, "T101-LDS", secret, feedback, f"{case_no}:feedback")
    assert later.status_code == 200, later.text
    assert assignment(later.json(), "T101-LDS")["feedback"]["summary"] == "已约谈项目负责人"
    record = await wait_for(api, case_no, lambda r: any(e["kind"] == "fed_back" for e in r["timeline"]), view="/register")
    assert [e["kind"] for e in record["timeline"]].count("handling") == 1


async def test_a_refused_callback_replayed_after_the_case_moved_does_not_land(api, outside, unit_credentials):
    """A signature is spent on first sight, whatever the answer: the byte-identical copy of a refused
    callback, replayed once the unit has responded, is refused too and the feedback stays unreported."""
    case = await dispatched(api)
    case_no, secret = case["case_no"], unit_credentials("T101-LDS").signing_secret
    content, headers = signed(secret, {"kind": "feedback", "case_no": case_no, "handler": "刘干事", "summary": "已约谈项目负责人"}, f"{case_no}:feedback")
    early = await outside.post("/callbacks/T101-LDS", content=content, headers=headers)
    assert early.status_code == 409 and "尚未响应" in early.json()["detail"]
    unparsable = {**headers, **signing.sign(secret, b"{", f"{case_no}:bad")}
    assert (await outside.post("/callbacks/T101-LDS", content=b"{", headers=unparsable)).status_code == 422
    assert (await call_back(outside, "T101-LDS", secret, {"kind": "response", "case_no": case_no, "handler": "刘干事"}, f"{case_no}:response")).status_code == 200

    for body, replay in ((content, headers), (b"{", unparsable)):
        replayed = await outside.post("/callbacks/T101-LDS", content=body, headers=replay)
        assert replayed.status_code == 409 and "签名已使用过" in replayed.json()["detail"], replayed.text
    assert assignment((await api.get(f"/cases/{case_no}")).json(), "T101-LDS")["feedback"] is None


async def test_the_partner_center_and_the_arbitration_body_answer_by_callback(api, simulator, script):
    """A respondent in Shandong brings in the partner center; the parties refuse mediation and the
    labour arbitration body accepts the referral. Both systems answer through the signed callback."""
    await script("SD-PARTNER", answer="callback", respond_after=0.1)
    await script("C-LDZC", answer="callback", respond_after=0.1)
    form = wage_arrears()
    form["parties"][1]["province_code"] = "37"
    case_no = await register_case(api, form)
    case = await wait_for(api, case_no, lambda c: c["partner"] and c["partner"]["replied_at"])
    assert (case["partner"]["partner_code"], case["partner"]["joint_mediation"], case["partner"]["mediator"]) == ("SD-PARTNER", True, "协作调解员 孙立平")

    await mediate(api, case_no, "refused", reason="被申请人拒绝调解")
    closed = await wait_for(api, case_no, lambda c: c["stage"] == "closed")
    assert (closed["referral"]["body_code"], closed["result"]) == ("C-LDZC", "arbitration")
    referral = await wait_for_delivery(simulator, "C-LDZC", case_no, answered=1)
    assert closed["referral"]["reference"] == referral["reference"] and referral["answers"] == {"referral_acceptance": 200}


# ── the simulator's other parts ─────────────────────────────────────────────────────────────


def police_status(incident_id: str, seq: int, status: str) -> dict:
    return {"schema_version": "onedoor.police-status/v1", "platform_code": "GA-JQPT", "incident_id": incident_id, "case_no": "139001-2026-900001",
            "seq": seq, "status": status, "at": datetime.now(UTC).isoformat(), "note": "模拟状态"}


async def test_the_police_platform_keeps_each_status_once_in_the_order_received(simulator, unit_credentials):
    secret, incident = unit_credentials("GA-JQPT").signing_secret, f"JQ-{uuid.uuid4().hex[:8]}"
    for key, seq, status in [("s1", 1, "received"), ("s1", 1, "received"), ("s2", 2, "dispatched")]:  # s1 acknowledged twice
        content, headers = signed(secret, police_status(incident, seq, status), f"{incident}:{key}")
        assert (await simulator.post("/units/GA-JQPT/dispatches", content=content, headers=headers)).status_code == 200
    statuses = (await simulator.get(f"/units/GA-JQPT/incidents/{incident}")).json()
    assert [(s["seq"], s["status"]) for s in statuses] == [(1, "received"), (2, "dispatched")]


async def test_scripted_failures_are_repeatable_and_an_outage_ends(simulator, unit_credentials, script):
    secret = unit_credentials("GA-JQPT").signing_secret
    incident = f"JQ-{uuid.uuid4().hex[:8]}"

    async def answers(run: str) -> list[int]:
        codes = []
        for seq in range(1, 13):
            content, headers = signed(secret, police_status(incident, seq, "received"), f"{incident}:{run}:{seq}")
            codes.append((await simulator.post("/units/GA-JQPT/dispatches", content=content, headers=headers)).status_code)
        return codes

    await script("GA-JQPT", error_rate=0.5, seed=7)
    first = await answers("a")
    await script("GA-JQPT", error_rate=0.5, seed=7)
    assert await answers("b") == first and set(first) == {200, 503}

    await script("GA-JQPT", outage_for=0.5)
    assert set(await answers("c")) == {503}
    await asyncio.sleep(0.6)
    assert set(await answers("d")) == {200}


async def test_notifications_and_texts_are_counted_by_key_and_a_forged_notice_refused(simulator, settings):
    secret = settings.notification_webhook_secret.get_secret_value()
    key = f"notice-{uuid.uuid4().hex[:8]}"
    notice = {"key": key, "case_no": "139001-2026-900001", "audience": "party", "recipient": "王建国", "kind": "intake",
              "text": "您的纠纷已受理，案件编号 139001-2026-900001", "at": datetime.now(UTC).isoformat()}
    for _ in range(2):
        content, headers = signed(secret, notice, key)
        assert (await simulator.post("/notifications", content=content, headers=headers)).status_code == 200
    forged = signed("not-the-secret", notice | {"key": f"{key}-forged"}, key)
    assert (await simulator.post("/notifications", content=forged[0], headers=forged[1])).status_code == 401
    for _ in range(2):
        assert (await simulator.post("/sms", json={"phone": "13800138000", "text": "您的纠纷已受理", "key": key})).status_code == 200
    notices = {n["key"]: n["count"] for n in (await simulator.get("/notifications")).json()}
    texts = {t["key"]: t["count"] for t in (await simulator.get("/sms")).json()}
    assert (notices.get(key), notices.get(f"{key}-forged"), texts.get(key)) == (2, None, 2)
