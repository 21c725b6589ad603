"""The directory is data: an admin edits units and a center's duty list through the API, and the
next case is routed by the new list, with no deploy. Units carry how they are reached (webhook or
inbox) and a signing secret that is never shown back."""

import json

from sqlalchemy import select

from onedoor.store.directory import SEED, seed_directory
from onedoor.store.tables import Unit
from tests.cases import register_case, wait_for, wage_arrears


def whole(**fields) -> dict:
    """A whole unit, as a PUT must send it: a webhook department unless the fields say otherwise."""
    return {"kind": "department", "channel": "webhook", "endpoint_url": None, "backstop": None, "rota_days": None, "province_code": None} | fields


async def test_a_revised_duty_list_routes_the_next_case(api):
    unit = whole(name="河东乡住建办", jurisdiction_code="139001102", mode="stationed", channel="inbox")
    assert (await api.put("/directory/units/T102-ZJB", json=unit)).status_code == 200
    original = (await api.get("/directory/duty-list/139001102")).json()
    revised = [{k: line[k] for k in ("category", "unit_code", "lead")} for line in original] + [{"category": "物业", "unit_code": "T102-ZJB"}]
    try:
        saved = await api.put("/directory/duty-list/139001102", json=revised)
        assert saved.status_code == 200, saved.text
        form = wage_arrears(category="物业", summary="物业费纠纷", place={"township_code": "139001102"})
        case = await wait_for(api, await register_case(api, form), lambda c: c["stage"] == "dispatched")
        assert (case["level"], case["lead_unit"]) == ("township", "T102-ZJB")
        # A unit without a system of its own: the delivery fails, the case and its clocks go on.
        record = await wait_for(api, case["case_no"], lambda r: "delivered" in [e["kind"] for e in r.get("timeline", [])], view="/register")
        assert "收件箱" in next(e["note"] for e in record["timeline"] if e["kind"] == "delivered")
    finally:
        await api.put("/directory/duty-list/139001102", json=[{k: line[k] for k in ("category", "unit_code", "lead")} for line in original])


async def test_directory_refuses_what_would_break_routing(api):
    unknown_unit = await api.put("/directory/duty-list/139001102", json=[{"category": "其他", "unit_code": "NOPE"}])
    assert unknown_unit.status_code == 422 and "0.unit_code" in unknown_unit.json()["detail"]
    no_fallback = await api.put("/directory/duty-list/139001102", json=[{"category": "物业", "unit_code": "T102-SFS"}])
    assert no_fallback.status_code == 422 and "其他" in no_fallback.json()["detail"]
    bad_unit = await api.put("/directory/units/X-1", json=whole(name="某单位", jurisdiction_code="000", mode="resident", channel="inbox"))
    assert bad_unit.status_code == 422 and "jurisdiction_code" in bad_unit.json()["detail"]
    bad_mode = await api.put("/directory/units/X-1", json=whole(name="某单位", jurisdiction_code="139001", mode="sometimes", channel="inbox"))
    assert bad_mode.status_code == 422 and "mode" in bad_mode.json()["detail"]
    mediators = (await api.get("/directory/mediators", params={"jurisdiction_code": "139001101"})).json()
    assert {m["id"] for m in mediators} >= {"M-T101-1", "M-T101-2"} and any(m["gold"] for m in mediators)
    levels = {j["code"]: j["level"] for j in (await api.get("/directory/jurisdictions")).json()}
    assert levels["139001"] == "county" and levels["139001102202"] == "village"
    webhook_without_endpoint = await api.put("/directory/units/X-1", json=whole(name="某单位", jurisdiction_code="139001", mode="resident"))
    assert webhook_without_endpoint.status_code == 422 and "endpoint_url" in webhook_without_endpoint.json()["detail"]
    inbox_with_endpoint = await api.put("/directory/units/X-1", json=whole(name="某单位", jurisdiction_code="139001", mode="resident",
                                                                         channel="inbox", endpoint_url="https://x.example/hook"))
    assert inbox_with_endpoint.status_code == 422 and "endpoint_url" in inbox_with_endpoint.json()["detail"]
    partner_without_province = await api.put("/directory/units/X-1", json=whole(name="某协作中心", jurisdiction_code="139001", mode="stationed",
                                                                              kind="partner", endpoint_url="https://x.example/hook"))
    assert partner_without_province.status_code == 422 and "province_code" in partner_without_province.json()["detail"]
    short_secret = await api.put("/directory/units/X-1", json=whole(name="某单位", jurisdiction_code="139001", mode="resident",
                                                                  endpoint_url="https://x.example/hook", signing_secret="123"))
    assert short_secret.status_code == 422 and "signing_secret" in short_secret.json()["detail"]
    inbox = whole(name="某单位", jurisdiction_code="139001", channel="inbox")
    rotating_without_rota = await api.put("/directory/units/X-1", json={**inbox, "mode": "rotating", "rota_days": []})
    assert rotating_without_rota.status_code == 422 and "rota_days" in rotating_without_rota.json()["detail"]  # it would never be on duty
    resident_with_rota = await api.put("/directory/units/X-1", json={**inbox, "mode": "resident", "rota_days": [1, 3]})
    assert resident_with_rota.status_code == 422 and "rota_days" in resident_with_rota.json()["detail"]
    assert "X-1" not in {u["code"] for u in (await api.get("/directory/units")).json()}


async def test_a_put_names_the_whole_unit_and_a_patch_changes_only_what_it_names(api):
    """A PUT that left out fields once reset them silently (a rotating unit became resident)."""
    unit = whole(name="城关镇轮驻测试所", jurisdiction_code="139001101", mode="rotating", kind="industry", channel="inbox", rota_days=[1, 3])
    assert (await api.put("/directory/units/T101-PATCH", json=unit)).status_code == 200
    partial = await api.put("/directory/units/T101-PATCH", json={"name": "城关镇轮驻测试所（改名）", "jurisdiction_code": "139001101", "mode": "rotating"})
    assert partial.status_code == 422
    for field in ("kind", "channel", "endpoint_url", "backstop", "rota_days", "province_code"):
        assert field in partial.json()["detail"], (field, partial.json()["detail"])

    renamed = await api.patch("/directory/units/T101-PATCH", json={"name": "城关镇轮驻测试所（改名）"})
    assert renamed.status_code == 200, renamed.text
    after = next(u for u in (await api.get("/directory/units", params={"jurisdiction_code": "139001101"})).json() if u["code"] == "T101-PATCH")
    assert after == {**after, **unit, "name": "城关镇轮驻测试所（改名）"}  # mode, kind, channel and rota days kept
    resident = await api.patch("/directory/units/T101-PATCH", json={"mode": "resident", "rota_days": None})
    assert resident.status_code == 200 and (resident.json()["mode"], resident.json()["rota_days"], resident.json()["kind"]) == ("resident", None, "industry")
    refused = {
        "mode": await api.patch("/directory/units/T101-PATCH", json={"mode": "rotating"}),  # without rota days: never on duty
        "colour": await api.patch("/directory/units/T101-PATCH", json={"colour": "red"}),
        "body": await api.patch("/directory/units/T101-PATCH", content=b"[1]", headers={"Content-Type": "application/json"}),
    }
    assert refused["mode"].status_code == 422 and "rota_days" in refused["mode"].json()["detail"]
    assert refused["colour"].status_code == 422 and "colour" in refused["colour"].json()["detail"]
    assert refused["body"].status_code == 422 and "body" in refused["body"].json()["detail"]
    assert (await api.patch("/directory/units/NOPE", json={"name": "某单位"})).status_code == 404


async def test_a_mediators_put_names_gold_and_active(api):
    gold = {"name": "金牌调解员 测试", "jurisdiction_code": "139001101", "gold": True, "active": False}  # inactive: assigned to no case
    assert (await api.put("/directory/mediators/M-T101-PUT", json=gold)).status_code == 200
    partial = await api.put("/directory/mediators/M-T101-PUT", json={"name": "金牌调解员 测试", "jurisdiction_code": "139001101"})
    assert partial.status_code == 422 and "gold" in partial.json()["detail"] and "active" in partial.json()["detail"]
    kept = next(m for m in (await api.get("/directory/mediators", params={"jurisdiction_code": "139001101"})).json() if m["id"] == "M-T101-PUT")
    assert (kept["gold"], kept["active"]) == (True, False)


async def test_the_seed_links_a_city_its_industry_units_the_police_and_a_partner(api):
    """Vertical: village → township → county → city. Horizontal: the city's industry units, reached
    like any other unit. The police platform and the partner center across the border are units too."""
    parents = {j["code"]: j["parent_code"] for j in (await api.get("/directory/jurisdictions")).json()}
    assert [parents["139001101201"], parents["139001101"], parents["139001"], parents["139000"]] == ["139001101", "139001", "139000", None]
    industry = (await api.get("/directory/units", params={"jurisdiction_code": "139000", "kind": "industry"})).json()
    assert len(industry) >= 14 and {"市人力资源和社会保障局", "市市场监督管理局", "市医疗保障局"} <= {u["name"] for u in industry}
    city_duties = {(d["category"], d["unit_code"], d["lead"]) for d in (await api.get("/directory/duty-list/139000")).json()}
    assert {("劳动争议", "S-RSJ", True), ("其他", "S-SFJ", True), ("医疗", "S-WJW", True)} <= city_duties
    seeded = {row["code"] for row in json.loads(SEED.read_text(encoding="utf-8"))["units"]}  # other tests add their own units
    units = {u["code"]: u for u in (await api.get("/directory/units")).json() if u["code"] in seeded}
    assert (units["GA-JQPT"]["kind"], units["GA-JQPT"]["jurisdiction_code"]) == ("police", "139000")
    assert (units["SD-PARTNER"]["kind"], units["SD-PARTNER"]["province_code"]) == ("partner", "37")
    assert (units["C-LDZC"]["kind"], units["C-RSJ"]["kind"], units["T101-SFS"]["kind"]) == ("backstop", "industry", "department")
    inbox = [u for u in units.values() if u["channel"] == "inbox"]
    assert inbox and all(u["endpoint_url"] is None for u in inbox)
    webhooks = [u for u in units.values() if u["channel"] == "webhook"]
    assert [u for u in webhooks if not (u["endpoint_url"] and u["has_secret"])] == []
    assert all("signing_secret" not in u for u in units.values())


async def test_signing_secrets_are_write_only_kept_on_reseed_and_rotated_by_an_admin(api, sessions, settings):
    def secret_of(code: str) -> str | None:
        with sessions() as session:
            return session.scalar(select(Unit.signing_secret).where(Unit.code == code))

    unit = whole(name="示范县信访局", jurisdiction_code="139001", mode="stationed", endpoint_url="https://xfj.example.gov.cn/onedoor")
    created = await api.put("/directory/units/C-XFJ-TEST", json=unit)
    assert created.status_code == 200, created.text
    first = created.json()["new_secret"]
    assert first and first == secret_of("C-XFJ-TEST") and created.json()["has_secret"] is True
    listed = await api.get("/directory/units", params={"jurisdiction_code": "139001"})
    assert first not in listed.text and next(u for u in listed.json() if u["code"] == "C-XFJ-TEST")["has_secret"] is True

    again = await api.put("/directory/units/C-XFJ-TEST", json={**unit, "name": "示范县信访局（接访中心）"})
    assert again.json()["new_secret"] is None and secret_of("C-XFJ-TEST") == first  # a change of name keeps the secret
    agreed = "由单位系统生成并线下交换的密钥-0123456789abcdef"
    assert (await api.put("/directory/units/C-XFJ-TEST", json={**unit, "signing_secret": agreed})).json()["new_secret"] is None
    assert secret_of("C-XFJ-TEST") == agreed

    rotated = await api.post("/directory/units/C-XFJ-TEST/secret")
    assert rotated.status_code == 200 and rotated.json()["signing_secret"] not in (None, agreed)
    assert secret_of("C-XFJ-TEST") == rotated.json()["signing_secret"]
    assert (await api.post("/directory/units/NOPE/secret")).status_code == 404

    before = secret_of("C-RSJ")
    with sessions() as session:
        seed_directory(session, settings.simulator_url)  # `onedoor seed` again: the units' systems keep working
    assert before and secret_of("C-RSJ") == before
