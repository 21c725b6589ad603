"""Input at the edges of what the domain allows: a page offset past any register, a date in year 1
or 9999, a time whose UTC is before year 1 — each a 422 naming the field, never a server error."""

from tests.cases import incident, register_case, wage_arrears

HUGE = str(2**63)
WORKLISTS = ("/worklists/units/T101-LDS/inbox", "/worklists/overdue", "/worklists/red", "/worklists/waiting", "/worklists/near-breach",
             "/worklists/due-today", "/worklists/awaiting-referral")


async def refused(api, path: str, params: dict, field: str) -> None:
    response = await api.get(path, params=params)
    assert response.status_code == 422, (path, params, response.text)
    assert field in response.json()["detail"], (path, params, response.json()["detail"])


async def test_an_offset_past_any_register_is_refused_naming_it(api):
    for path in ("/notices", "/households", *WORKLISTS):
        await refused(api, path, {"offset": HUGE}, "offset")
    assert (await api.get("/notices", params={"offset": 10_000_000})).status_code == 200  # the bound itself is a page


async def test_dates_outside_the_years_a_case_can_have_are_refused_naming_them(api):
    for path in WORKLISTS:
        await refused(api, path, {"from": "0001-01-01"}, "from")
        await refused(api, path, {"to": "9999-12-31"}, "to")
    await refused(api, "/assessment/units", {"from": "0001-01-01", "to": "2026-01-31"}, "from")
    await refused(api, "/assessment/units", {"from": "2026-01-01", "to": "9999-12-31"}, "to")
    await refused(api, "/notices", {"since": "0001-01-01T00:00:00+14:00"}, "since")
    await refused(api, "/reports/139001/0001-01-01", {}, "week_start")  # a Monday
    assert (await api.get("/worklists/red", params={"from": "2000-01-01", "to": "2100-12-31"})).status_code == 200


async def test_an_incident_reported_before_year_one_in_utc_is_refused_naming_reported_at(police):
    response = await police.post("/incidents", json=incident(reported_at="0001-01-01T00:00:00+14:00"))
    assert response.status_code == 422 and "reported_at" in response.json()["detail"], response.text


async def test_free_text_is_bounded_and_a_nul_character_refused_naming_the_field(api):
    """Checked on PostgreSQL too (DATABASE_URL): it refuses a NUL in text, so it must never get one."""
    unit = {"name": "某单位", "jurisdiction_code": "139001", "mode": "resident", "kind": "department", "channel": "inbox",
            "endpoint_url": None, "backstop": None, "rota_days": None, "province_code": None}
    mediator = {"jurisdiction_code": "139001", "gold": False, "active": True}
    case = await register_case(api)
    bad = {
        ("PUT", "/users/bounds-clerk", "name"): [{"name": "周" * 65, "role": "admin"}, {"name": "周\x00敏", "role": "admin"}],
        ("PUT", "/directory/units/BOUNDS-1", "name"): [{**unit, "name": "单" * 65}, {**unit, "name": "某\x00单位"}],
        ("PUT", "/directory/mediators/bounds-m", "name"): [{**mediator, "name": "调" * 65}, {**mediator, "name": "\x00"}],
        ("POST", "/cases", "summary"): [wage_arrears(summary="案" * 4001), wage_arrears(summary="拖欠\x00工资")],
        ("POST", "/cases", "parties.0.name"): [wage_arrears(parties=[{"name": "王\x00建国"}])],
        ("POST", "/cases", "client_request_id"): [wage_arrears(client_request_id="req-\x00-0001")],
        ("POST", f"/cases/{case}/pause", "reason"): [{"reason": "等待\x00材料", "actor": "受理员"}],
    }
    for (method, path, field), bodies in bad.items():
        for body in bodies:
            response = await api.request(method, path, json=body)
            assert response.status_code == 422 and field in response.json()["detail"], (path, field, response.text)
    assert (await api.get("/users")).status_code == 200 and "bounds-clerk" not in (await api.get("/users")).text


async def test_a_nul_character_in_a_path_or_query_parameter_is_refused_naming_it(api):
    """On PostgreSQL (DATABASE_URL) a NUL reaching a query was a server error: it cannot hold one."""
    nul, sent = "T101\x00LDS", "T101%00LDS"  # a URL's path carries it percent-encoded
    in_path = {
        ("GET", f"/worklists/units/{sent}/inbox"): "unit_code",
        ("GET", f"/assessment/units/{sent}"): "unit_code",
        ("POST", f"/directory/units/{sent}/secret"): "code",
        ("DELETE", f"/users/{sent}"): "user_id",
        ("GET", f"/households/{sent}"): "household_id",
        ("GET", f"/directory/duty-list/{sent}"): "jurisdiction_code",
        ("POST", f"/callbacks/{sent}"): "unit_code",
    }
    for (method, path), name in in_path.items():
        response = await api.request(method, path, params={"period": "2026-01"} if "assessment" in path else None)
        assert response.status_code == 422 and f"path.{name}" in response.json()["detail"], (path, response.text)
    in_query = {"/directory/units": "jurisdiction_code", "/worklists/red": "jurisdiction", "/notices": "case_no", "/reports": "scope"}
    for path, name in in_query.items():
        response = await api.get(path, params={name: nul})
        assert response.status_code == 422 and f"query.{name}" in response.json()["detail"], (path, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", name]
