"""The case file kept for the record (人民调解法 §27): every change with who made it, every document sent."""

from tests.cases import decide, mediate, register_case, units_answer, visit, wait_for, wait_for_delivery


async def test_a_settled_case_is_archived_with_its_audit_trail_and_documents(api, simulator):
    case_no = await register_case(api)
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    for unit in ("T101-LDS", "T101-SFS"):
        await wait_for_delivery(simulator, unit, case_no)
    await units_answer(api, case)
    # The register shows an answered clock as met as soon as the answer is taken, not a step later.
    record = (await api.get(f"/cases/{case_no}/register")).json()
    assert {c["status"] for c in record["clocks"] if c["name"] in ("response", "feedback")} == {"met"}
    mediator = case["mediations"][0]
    await decide(api, case_no, "pause", {"actor": "受理员 张敏", "reason": "等待申请人补交工资条"})
    await decide(api, case_no, "resume", {"actor": "受理员 张敏"})
    await mediate(api, case_no, "agreement", terms="建筑公司于 12 月 5 日前支付工资")
    await visit(api, case_no, satisfied=True)
    await wait_for(api, case_no, lambda c: c["stage"] == "settled")

    archive = await wait_for(api, case_no, lambda a: a.get("stage") == "settled", view="/archive")
    assert archive["schema_version"] == "onedoor.archive/v1" and archive["satisfied"] is True
    assert archive["parties"][0]["name"] == "王建国" and archive["category"] == "劳动争议"
    assert {(d["kind"], d["recipient"]) for d in archive["documents"]} == {("dispatch", "T101-LDS"), ("dispatch", "T101-SFS")}

    audit = {entry["action"]: entry for entry in archive["audit"]}
    # Who did what, in which role, and exactly the fields that changed.
    assert (audit["received"]["role"], audit["received"]["after"]["stage"]) == ("operator", "received")
    triaged = audit["triaged"]
    assert (triaged["actor"], triaged["role"]) == ("系统", "system")
    assert triaged["before"] == {"stage": "received", "grade": None, "level": None, "jurisdiction_code": None, "lead_unit": None}
    assert triaged["after"] == {"stage": "triaged", "grade": "yellow", "level": "township", "jurisdiction_code": "139001101", "lead_unit": "T101-LDS"}
    handling = audit["handling"]
    assert (handling["actor"], handling["role"], handling["before"], handling["after"]) == (
        "T101-LDS/T101-LDS承办人", "unit", {"stage": "dispatched"}, {"stage": "handling"})
    assert (audit["paused"]["actor"], audit["paused"]["after"]) == ("受理员 张敏", {"paused": True})
    # The name typed is the display name; the entry is bound to the signed-in user whose key made the call.
    assert (audit["paused"]["user_id"], audit["paused"]["user_role"]) == ("test-admin", "admin")
    assert audit["received"]["user_id"] == "test-admin" and audit["triaged"]["user_id"] is None  # the system's own step
    assert audit["resumed"]["after"] == {"paused": False}
    assert (audit["mediation"]["actor"], audit["mediation"]["role"]) == (mediator["mediator_name"], "mediator")
    assert (audit["visit"]["role"], audit["visit"]["after"]) == ("visitor", {"satisfied": True})
    assert audit["settled"]["after"] == {"stage": "settled"}
    assert [e["at"] for e in archive["audit"]] == sorted(e["at"] for e in archive["audit"])

    # Its printable page is the archive paper (tests/papers/test_papers.py reads its PDF).
    page = await api.get(f"/cases/{case_no}/papers/archive")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for text in (case_no, "王建国", "操作记录", "城关镇劳动保障所（T101-LDS）承办人", "@page"):
        assert text in page.text, text


async def test_no_archive_for_a_case_that_is_not_in_the_register(api):
    for view in ("archive", "papers/archive", "register"):
        response = await api.get(f"/cases/139001-2026-999999/{view}")
        assert response.status_code == 404 and "139001-2026-999999" in response.json()["detail"]
