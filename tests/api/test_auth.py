"""Every route × every role: who may call it (401 without a key, 403 for a role that may not), and
scopes that do not leak: a case outside the caller's jurisdiction, unit or mediation is a 404, the
same answer as a case that does not exist."""

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from onedoor.domain.labels import Role
from onedoor.store import users
from onedoor.store.tables import User
from tests.cases import decide, mediate, register_case, wage_arrears, wait_for

OPERATOR, UNIT, MEDIATOR, SUPERVISOR, ADMIN = Role.OPERATOR, Role.UNIT, Role.MEDIATOR, Role.SUPERVISOR, Role.ADMIN
EVERYONE = tuple(Role)
MONDAY = date.today() - timedelta(days=date.today().weekday() + 7)

# (method, path, roles allowed, scoped to the case): {case_no} is a case in 城关镇 (139001101),
# dispatched to T101-LDS (lead) and T101-SFS, with its mediator; the other parameters are these
# ({code}: a unit not in the directory, so the admin's call does not rotate a seeded unit's secret;
# {scope_code}: a jurisdiction not in it, so the admin's call does not replace a center's calendar).
VALUES = {"code": "X-AUTH", "unit_code": "T101-LDS", "jurisdiction_code": "139001101", "mediator_id": "M-T101-01",
          "household_id": "HH-139001101-999999", "scope": "139001101", "week_start": str(MONDAY), "name": "trend", "user_id": "nobody",
          "scope_code": "139001999", "year": "2027", "kind": "acceptance"}
ROUTES = [
    ("POST", "/cases", (OPERATOR,), False),
    ("POST", "/incidents", (), False),  # the police platform's unit key only (tests/scenarios/test_incidents.py): other units get 403
    ("GET", "/cases/{case_no}", EVERYONE, True),
    ("GET", "/cases/{case_no}/register", EVERYONE, True),
    ("GET", "/cases/{case_no}/archive", (OPERATOR, SUPERVISOR), True),
    ("GET", "/cases/{case_no}/papers/{kind}", (OPERATOR, SUPERVISOR), True),
    ("POST", "/cases/{case_no}/response", (UNIT,), True),
    ("POST", "/cases/{case_no}/feedback", (UNIT,), True),
    ("POST", "/cases/{case_no}/grade", (OPERATOR, SUPERVISOR), True),
    ("POST", "/cases/{case_no}/facts", (OPERATOR, MEDIATOR), True),
    ("POST", "/cases/{case_no}/pause", (OPERATOR, MEDIATOR), True),
    ("POST", "/cases/{case_no}/resume", (OPERATOR, MEDIATOR), True),
    ("POST", "/cases/{case_no}/extensions", (SUPERVISOR,), True),
    ("POST", "/cases/{case_no}/decline", (OPERATOR,), True),
    ("POST", "/cases/{case_no}/mediation/sessions", (MEDIATOR,), True),
    ("POST", "/cases/{case_no}/mediation/result", (MEDIATOR,), True),
    ("POST", "/cases/{case_no}/mediation/extension", (MEDIATOR,), True),
    ("POST", "/cases/{case_no}/alert/ack", (SUPERVISOR,), True),
    ("POST", "/cases/{case_no}/referral/acceptance", (UNIT,), True),
    ("POST", "/cases/{case_no}/confirmation/application", (OPERATOR,), True),
    ("POST", "/cases/{case_no}/confirmation/decision", (UNIT,), True),
    ("POST", "/cases/{case_no}/visit", (OPERATOR, SUPERVISOR), True),
    ("POST", "/cases/{case_no}/handover", (SUPERVISOR,), True),
    ("POST", "/cases/{case_no}/escalation", (SUPERVISOR,), True),
    ("POST", "/cases/{case_no}/partner/reply", (UNIT,), True),
    ("POST", "/cases/{case_no}/supervision", (SUPERVISOR,), True),
    ("GET", "/directory/jurisdictions", EVERYONE, False),
    ("GET", "/directory/units", EVERYONE, False),
    ("PUT", "/directory/units/{code}", (), False),
    ("PATCH", "/directory/units/{code}", (), False),
    ("POST", "/directory/units/{code}/secret", (), False),
    ("GET", "/directory/duty-list/{jurisdiction_code}", EVERYONE, False),
    ("PUT", "/directory/duty-list/{jurisdiction_code}", (), False),
    ("GET", "/directory/mediators", EVERYONE, False),
    ("PUT", "/directory/mediators/{mediator_id}", (), False),
    ("GET", "/calendars/{scope_code}", EVERYONE, False),
    ("PUT", "/calendars/{scope_code}", (), False),
    ("POST", "/calendars/{scope_code}/notices/{year}", (), False),
    ("GET", "/worklists/units/{unit_code}/inbox", (UNIT, OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/overdue", (OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/red", (OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/waiting", (OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/near-breach", (OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/due-today", (OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/awaiting-referral", (OPERATOR, SUPERVISOR), False),
    ("GET", "/worklists/ledger", (OPERATOR, SUPERVISOR), False),
    ("GET", "/notices", (OPERATOR, SUPERVISOR, UNIT), False),
    ("GET", "/assessment/units", (SUPERVISOR,), False),
    ("GET", "/assessment/units/{unit_code}", (SUPERVISOR, UNIT), False),
    ("GET", "/households", (OPERATOR, SUPERVISOR), False),
    ("GET", "/households/{household_id}", (OPERATOR, SUPERVISOR), False),
    ("POST", "/households/{household_id}/visits", (OPERATOR,), False),
    ("GET", "/reports", (OPERATOR, SUPERVISOR), False),
    ("GET", "/reports/{scope}/{week_start}", (OPERATOR, SUPERVISOR), False),
    ("POST", "/reports/{scope}/{week_start}", (SUPERVISOR,), False),
    ("GET", "/reports/{scope}/{week_start}/html", (OPERATOR, SUPERVISOR), False),
    ("GET", "/reports/{scope}/{week_start}/charts/{name}.png", (OPERATOR, SUPERVISOR), False),
    ("GET", "/users", (), False),
    ("PUT", "/users/{user_id}", (), False),
    ("DELETE", "/users/{user_id}", (), False),
    ("POST", "/codec/decode", (SUPERVISOR,), False),
    ("POST", "/codec/encode", (), False),  # the UI's signal and update forms: writes are an admin's alone
]
# The Temporal UI's sign-in (api/ui.py); the UI itself, every path no route answers, is not in the schema (tests/api/test_ui.py).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/ui/signin"), ("POST", "/ui/session"), ("POST", "/ui/signout"),
          ("GET", "/lookup"), ("POST", "/lookup"), ("POST", "/lookup/progress")}  # 便民服务: a citizen's number and phone digits (tests/api/test_lookup.py)
# A unit's system authenticates by its signature, not by a key (tests/api/test_gateway.py tries the signatures).
SIGNED = {("POST", "/callbacks/{unit_code}")}


@pytest.fixture(scope="module")
async def staff(stack, settings, keys, sessions):
    """A case in 城关镇 and a key for each role: insiders who may see it, outsiders who may not."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", headers={"Authorization": f"Bearer {keys['admin']}"}) as admin:
        case_no = await register_case(admin)
        case = await wait_for(admin, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    mediator = case["mediations"][0]["mediator_id"]
    people = {
        "operator": dict(role="operator", jurisdiction_code="139001101"),
        "supervisor": dict(role="supervisor", jurisdiction_code="139001101"),
        "unit": dict(role="unit", unit_code="T101-LDS"),
        "mediator": dict(role="mediator", mediator_id=mediator),
        "admin": dict(role="admin"),
        "supervisor of 河东乡": dict(role="supervisor", jurisdiction_code="139001102"),
        "operator of 河东乡": dict(role="operator", jurisdiction_code="139001102"),
        "unit of 河东乡": dict(role="unit", unit_code="T102-SFS"),
        "county supervisor": dict(role="supervisor", jurisdiction_code="139001"),
    }
    keys = {}
    with sessions() as session:
        for n, (name, fields) in enumerate(people.items()):
            fields = {"jurisdiction_code": None, "unit_code": None, "mediator_id": None, **fields}
            keys[name] = users.issue_key(session, users.ensure_user(session, f"auth-{n}", name=name, active=True, **fields))
    return case_no, keys


async def call(api: httpx.AsyncClient, method: str, path: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {"Authorization": ""}
    return await api.request(method, path, headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None)


def test_every_route_is_in_the_matrix(stack):
    documented = {(method.upper(), path) for path, ops in stack.openapi()["paths"].items() for method in ops}
    assert documented - PUBLIC - SIGNED == {(method, path) for method, path, _, _ in ROUTES}


async def test_a_callback_needs_the_units_signature_not_a_key(api, staff):
    """Even an admin's key does not stand in for a unit's signature."""
    case_no, keys = staff
    body = {"kind": "response", "case_no": case_no, "handler": "冒名"}
    for key in (None, keys["unit"], keys["admin"]):
        response = await api.post("/callbacks/T101-LDS", json=body, headers={"Authorization": f"Bearer {key}" if key else "", "Idempotency-Key": "auth-1"})
        assert response.status_code == 401 and "签名" in response.json()["detail"], response.text


def concrete(path: str, case_no: str) -> str:
    return path.format(case_no=case_no, **VALUES)


@pytest.mark.parametrize(("method", "path", "allowed", "scoped"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
async def test_each_role_may_call_only_its_routes(api, staff, method, path, allowed, scoped):
    case_no, keys = staff
    path = concrete(path, case_no)
    assert (await call(api, method, path, None)).status_code == 401
    assert (await call(api, method, path, "od_not-a-key")).status_code == 401
    for name in ("operator", "supervisor", "unit", "mediator", "admin"):
        response = await call(api, method, path, keys[name])
        if name == "admin" or Role(name) in allowed:
            assert response.status_code not in (401, 403), (name, response.text)
            assert not (scoped and response.status_code == 404), (name, response.text)
        else:
            assert response.status_code == 403, (name, response.status_code, response.text)
            assert "无权" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "allowed", "scoped"), [r for r in ROUTES if r[3]], ids=[f"{m} {p}" for m, p, _, s in ROUTES if s])
async def test_outside_their_scope_a_case_does_not_exist(api, staff, method, path, allowed, scoped):
    case_no, keys = staff
    for name in ("supervisor of 河东乡", "operator of 河东乡", "unit of 河东乡"):
        if Role(name.split()[0]) not in allowed:
            continue
        hidden = await call(api, method, concrete(path, case_no), keys[name])
        missing = await call(api, method, concrete(path, "139001-2026-999999"), keys[name])
        assert hidden.status_code == missing.status_code == 404, (name, hidden.text)
        assert hidden.json()["detail"].replace(case_no, "") == missing.json()["detail"].replace("139001-2026-999999", "")


async def test_units_and_mediators_act_only_in_their_own_name(api, staff):
    case_no, keys = staff
    as_other_unit = await api.post(f"/cases/{case_no}/response", json={"unit_code": "T101-SFS", "handler": "冒名"}, headers={"Authorization": f"Bearer {keys['unit']}"})
    assert as_other_unit.status_code == 403 and "unit_code" in as_other_unit.json()["detail"]
    as_other_mediator = await api.post(f"/cases/{case_no}/mediation/sessions", headers={"Authorization": f"Bearer {keys['mediator']}"},
                                       json={"mediator_id": "M-T101-99", "held_on": "2026-11-27", "mode": "desk", "notes": "冒名"})
    assert as_other_mediator.status_code == 403 and "mediator_id" in as_other_mediator.json()["detail"]


async def test_lists_show_only_the_callers_jurisdiction(api, staff):
    case_no, keys = staff
    for name, sees in (("supervisor", True), ("county supervisor", True), ("supervisor of 河东乡", False)):
        headers = {"Authorization": f"Bearer {keys[name]}"}
        listed = await api.get("/worklists/near-breach", params={"limit": 200}, headers=headers)
        inbox = await api.get("/worklists/units/T101-LDS/inbox", params={"limit": 200}, headers=headers)
        assert listed.status_code == 200 and inbox.status_code == 200, (listed.text, inbox.text)
        assert (case_no in inbox.text) is sees, name
        outside = await api.get("/worklists/overdue", params={"jurisdiction": "139001101"}, headers=headers)
        assert outside.status_code == (200 if sees else 404), name
    other_inbox = await api.get("/worklists/units/T101-LDS/inbox", headers={"Authorization": f"Bearer {keys['unit of 河东乡']}"})
    assert other_inbox.status_code == 404  # another unit's inbox, as if it did not exist


async def test_operators_register_cases_in_their_own_jurisdiction_only(api, staff):
    _, keys = staff
    form = wage_arrears(place={"township_code": "139001102"})
    refused = await api.post("/cases", json=form, headers={"Authorization": f"Bearer {keys['operator']}"})
    assert refused.status_code == 403 and "place.township_code" in refused.json()["detail"]


async def test_an_admin_issues_and_revokes_keys(api):
    issued = await api.put("/users/auth-clerk", json={"name": "受理员 周敏", "role": "operator", "jurisdiction_code": "139001101"})
    assert issued.status_code == 200 and issued.json()["api_key"].startswith("od_")
    clerk = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    assert (await api.get("/directory/units", headers=clerk)).status_code == 200
    missing_scope = await api.put("/users/auth-clerk-2", json={"name": "受理员", "role": "operator"})
    assert missing_scope.status_code == 422 and "jurisdiction_code" in missing_scope.json()["detail"]
    assert (await api.delete("/users/auth-clerk")).status_code == 204
    assert (await api.get("/directory/units", headers=clerk)).status_code == 401


async def test_a_backstop_body_sees_only_the_cases_referred_or_applied_to_it(api, staff, settings, keys):
    """The court (C-FY) and the arbitration body (C-LDZC) are over the whole county; neither reads a
    case that never went to it."""
    plain_case, _ = staff
    referred = await register_case(api, wage_arrears(category="合同", summary="装修合同尾款纠纷", factors={"amount_at_stake": 8000, "people_involved": 2}))
    await mediate(api, referred, "refused", reason="被申请人明确拒绝调解")
    confirmed = await register_case(api, wage_arrears(category="合同", summary="装修合同尾款纠纷", factors={"amount_at_stake": 8000, "people_involved": 2}))
    await mediate(api, confirmed, "agreement", terms="业主于 12 月 1 日前支付尾款 8000 元", seek_confirmation=True)
    await wait_for(api, confirmed, lambda c: c["stage"] == "confirmation")

    async def seen(body: str, case_no: str) -> int:
        return (await call(api, "GET", f"/cases/{case_no}", keys[body])).status_code

    assert [await seen("C-FY", case_no) for case_no in (plain_case, referred, confirmed)] == [404, 200, 404]
    assert [await seen("C-LDZC", case_no) for case_no in (plain_case, referred, confirmed)] == [404, 404, 404]
    await decide(api, confirmed, "confirmation/application", {"applicant": "王建国", "court_code": "C-FY"})
    assert await seen("C-FY", confirmed) == 200  # applied to it: now the court reads and decides it
    decided = await api.post(f"/cases/{confirmed}/confirmation/decision", json={"court_code": "C-FY", "confirmed": True, "reference": "（2026）示 0101 民特 53 号"},
                             headers={"Authorization": f"Bearer {keys['C-FY']}"})
    assert decided.status_code == 200, decided.text


@pytest.fixture
def the_only_admin(sessions):
    """The suite's admin ("test-admin") as the only active one: the others are set aside (keys kept)
    for the test, and back as they were after it."""
    with sessions() as session:
        others = session.scalars(select(User).where(User.role == "admin", User.active.is_(True), User.id != "test-admin")).all()
        for user in others:
            user.active = False
        session.commit()
        ids = [user.id for user in others]
    yield "test-admin"
    with sessions() as session:
        for user_id in ids:
            session.get(User, user_id).active = True
        session.commit()


async def test_the_last_active_admin_is_neither_revoked_nor_demoted(api, the_only_admin):
    demoted = await api.put(f"/users/{the_only_admin}", json={"name": "测试管理员", "role": "supervisor", "jurisdiction_code": "139001"})
    revoked = await api.delete(f"/users/{the_only_admin}")
    for refused in (demoted, revoked):
        assert refused.status_code == 409 and "唯一在用的管理员" in refused.json()["detail"], refused.text
    assert (await api.get("/users")).status_code == 200  # its key still works: nothing changed

    # With a second admin, either may go.
    assert (await api.put("/users/auth-admin-2", json={"name": "第二管理员", "role": "admin"})).status_code == 200
    assert (await api.put("/users/auth-admin-2", json={"name": "第二管理员", "role": "operator", "jurisdiction_code": "139001"})).status_code == 200
    assert (await api.put("/users/auth-admin-2", json={"name": "第二管理员", "role": "admin"})).status_code == 200
    assert (await api.delete("/users/auth-admin-2")).status_code == 204
    assert (await api.delete(f"/users/{the_only_admin}")).status_code == 409


async def test_nobody_acts_in_another_centers_name_and_the_audit_names_the_signed_in_user(api, staff, sessions):
    """A township supervisor may neither acknowledge the county leader's alert by typing his name, nor
    order its own township's units "from above", nor hand a county case down; the county's may. The
    audit keeps the name typed and binds the entry to the user whose key made the call."""
    case_no, keys = staff

    def as_(who: str) -> dict:
        return {"Authorization": f"Bearer {keys[who]}"}

    order = {"supervisor": "城关镇综治中心主任 王海涛", "order": "请今日内联系当事人"}
    own = await api.post(f"/cases/{case_no}/supervision", headers=as_("supervisor"), json=order)
    assert own.status_code == 403 and "上级综治中心" in own.json()["detail"], own.text
    assert (await api.post(f"/cases/{case_no}/supervision", headers=as_("county supervisor"), json=order)).status_code == 202

    red = await register_case(api, wage_arrears(factors={"people_involved": 40}))
    alert = (await wait_for(api, red, lambda c: c["alerts"]))["alerts"][0]
    assert alert["center_code"] == "139001"
    ack = {"center_code": "139001", "leader": alert["leader"]}
    refused = await api.post(f"/cases/{red}/alert/ack", headers=as_("supervisor"), json=ack)
    assert refused.status_code == 403 and "139001101" in refused.json()["detail"], refused.text
    handover = {"supervisor": "城关镇综治中心主任 王海涛", "to_level": "township", "reason": "属地化解"}
    refused = await api.post(f"/cases/{red}/handover", headers=as_("supervisor"), json=handover)
    assert refused.status_code == 403 and "县/区级综治中心（139001）" in refused.json()["detail"], refused.text
    accepted = await api.post(f"/cases/{red}/alert/ack", headers=as_("county supervisor"), json=ack)
    assert accepted.status_code == 200, accepted.text

    with sessions() as session:
        county = users.user_for_key(session, keys["county supervisor"]).id
    archive = await wait_for(api, red, lambda r: any(a["action"] == "alert_ack" for a in r["audit"]), view="/archive")
    entry = next(a for a in archive["audit"] if a["action"] == "alert_ack")
    assert (entry["actor"], entry["user_id"], entry["user_role"], entry["user_jurisdiction"]) == (alert["leader"], county, "supervisor", "139001")

