"""The directory is data: an admin edits units and a center's duty list through the API, and the
next case is routed by the new list, with no deploy."""

from tests.cases import register_case, wait_for, wage_arrears


async def test_a_revised_duty_list_routes_the_next_case(api):
    unit = {"name": "河东乡住建办", "jurisdiction_code": "139001102", "mode": "stationed", "endpoint_url": None}
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
    bad_unit = await api.put("/directory/units/X-1", json={"name": "某单位", "jurisdiction_code": "000", "mode": "resident"})
    assert bad_unit.status_code == 422 and "jurisdiction_code" in bad_unit.json()["detail"]
    bad_mode = await api.put("/directory/units/X-1", json={"name": "某单位", "jurisdiction_code": "139001", "mode": "sometimes"})
    assert bad_mode.status_code == 422 and "mode" in bad_mode.json()["detail"]
    mediators = (await api.get("/directory/mediators", params={"jurisdiction_code": "139001101"})).json()
    assert {m["id"] for m in mediators} >= {"M-T101-1", "M-T101-2"} and any(m["gold"] for m in mediators)
    levels = {j["code"]: j["level"] for j in (await api.get("/directory/jurisdictions")).json()}
    assert levels["139001"] == "county" and levels["139001102202"] == "village"
