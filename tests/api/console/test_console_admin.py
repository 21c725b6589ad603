"""The admin's console pages over HTTP: only an admin reaches them (a supervisor gets the Chinese 403
page, and a form it posts changes nothing), each form saves through the API's own function (what it
saved reads back from the JSON API), and a refusal is named beside its field. A supervisor's case
outside their township is a 404 page, as the API answers it."""

import re

import pytest

from tests.cases import register_case, someone, wage_arrears, wait_for

HEDONG = "139001102"  # 河东乡
ADMIN_PAGES = ["/console/admin", "/console/admin/duty-lists/139001101", "/console/admin/rota", "/console/admin/calendars/139001", "/console/admin/users"]


def error_beside(page: str, field: str) -> str:
    """The message the page shows beside the field (the form macro's `<field>-error`)."""
    found = re.search(rf'id="{re.escape(field)}-error" role="alert">([^<]*)<', page)
    assert found, f"no message beside {field}"
    return found.group(1)


@pytest.fixture
async def admin(console):
    return await console("admin", "目录管理员")


@pytest.fixture
async def supervisor(console):
    return await console("supervisor", "城关镇督办员", jurisdiction_code="139001101")


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_a_supervisor_cannot_reach_the_admin_pages(supervisor, path):
    refused = await supervisor.get(path)
    assert refused.status_code == 403 and "<html" in refused.text
    assert "督办无权执行此操作，仅限管理员" in refused.text and "not allowed" not in refused.text  # Chinese, without the English aside


async def test_a_form_a_supervisor_posts_to_an_admin_page_changes_nothing(supervisor, api):
    before = (await api.get("/directory/duty-list/139001101")).json()
    refused = await supervisor.post("/console/admin/duty-lists/139001101", data={"0.category": "其他", "0.unit_code": "T101-SFS", "0.lead": "true"})
    assert refused.status_code == 403 and "仅限管理员" in refused.text
    assert (await api.get("/directory/duty-list/139001101")).json() == before
    refused = await supervisor.post("/console/admin/users", data={"user_id": "sneaky", "name": "自封管理员", "role": "admin"})
    assert refused.status_code == 403 and "sneaky" not in {u["id"] for u in (await api.get("/users")).json()}


async def test_another_townships_case_is_a_404_page_for_a_township_supervisor(supervisor, api):
    theirs = await register_case(api, wage_arrears(place={"township_code": HEDONG}, parties=[{**someone("东方明"), "role": "applicant"}]))
    await wait_for(api, theirs, lambda c: c["stage"] == "dispatched")
    refused = await supervisor.get(f"/console/cases/{theirs}")
    assert refused.status_code == 404 and f"案件 {theirs} 不存在" in refused.text and "东方明" not in refused.text
    refused = await supervisor.post(f"/console/cases/{theirs}/supervision", data={"supervisor": "城关镇督办员", "order": "请立即处理"})
    assert refused.status_code == 404 and (await api.get(f"/cases/{theirs}")).json()["supervision_orders"] == []


async def test_a_calendar_day_entered_on_the_page_is_the_apis_and_goes_again(admin, api):
    saved = await admin.post(f"/console/admin/calendars/{HEDONG}/days", data={"day": "2027-03-15", "kind": "holiday", "name": "河东乡综治中心搬迁闭馆"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/console/admin/calendars/{HEDONG}?done=day"
    calendar = (await api.get(f"/calendars/{HEDONG}")).json()
    assert calendar["holidays"]["2027-03-15"] == "河东乡综治中心搬迁闭馆" and calendar["updated_by"] == "目录管理员"
    shown = await admin.get(saved.headers["location"])
    assert "工作日历已更新" in shown.text and "河东乡综治中心搬迁闭馆" in shown.text

    gone = await admin.post(f"/console/admin/calendars/{HEDONG}/days/remove", data={"day": "2027-03-15"})
    assert gone.status_code == 303 and "2027-03-15" not in (await api.get(f"/calendars/{HEDONG}")).json()["holidays"]


async def test_a_years_notice_imported_on_the_page_is_the_scopes(admin, api):
    before = (await api.get(f"/calendars/{HEDONG}")).json()
    try:
        imported = await admin.post(f"/console/admin/calendars/{HEDONG}/notice", data={"year": "2030", "csv": "date,kind,name\n2030-01-01,休,元旦\n2030-02-09,班,春节调休上班"})
        assert imported.status_code == 303 and imported.headers["location"].endswith("?done=notice")
        calendar = (await api.get(f"/calendars/{HEDONG}")).json()
        assert (calendar["holidays"]["2030-01-01"], calendar["workdays"]["2030-02-09"]) == ("元旦", "春节调休上班") and 2030 in calendar["years"]
        shown = await admin.get(imported.headers["location"])
        assert "节假日安排已导入" in shown.text and "春节调休上班" in shown.text
    finally:
        entries = {k: before[k] for k in ("week", "holidays", "workdays", "years")}
        assert (await api.put(f"/calendars/{HEDONG}", json=entries)).status_code == 200


async def test_the_calendars_refusals_are_named_beside_their_fields(admin, api):
    bad_day = await admin.post(f"/console/admin/calendars/{HEDONG}/days", data={"day": "2027-02-30", "kind": "holiday", "name": "不存在的一天"})
    assert bad_day.status_code == 422 and error_beside(bad_day.text, "day")
    assert 'value="不存在的一天"' in bad_day.text  # what was typed stays
    no_name = await admin.post(f"/console/admin/calendars/{HEDONG}/days", data={"day": "2027-03-16", "kind": "holiday", "name": ""})
    assert no_name.status_code == 422 and error_beside(no_name.text, "name") == "不能为空"
    stray = await admin.post(f"/console/admin/calendars/{HEDONG}/notice", data={"year": "2027", "csv": "2028-01-01,休,元旦"})
    assert stray.status_code == 422 and "2028-01-01 不在 2027 年" in stray.text
    assert "2028-01-01" not in (await api.get(f"/calendars/{HEDONG}")).json()["holidays"]


async def test_a_duty_list_the_api_would_refuse_is_refused_beside_the_field_and_kept_as_typed(admin, api):
    before = (await api.get("/directory/duty-list/139001101")).json()
    without_fallback = await admin.post("/console/admin/duty-lists/139001101", data={"0.category": "劳动争议", "0.unit_code": "T101-LDS", "0.lead": "true"})
    assert without_fallback.status_code == 422 and "职责清单须有“其他”类的牵头单位兜底" in error_beside(without_fallback.text, "category")
    no_unit = await admin.post("/console/admin/duty-lists/139001101", data={"0.category": "其他", "0.unit_code": "T101-SFS", "0.lead": "true",
                                                                           "1.category": "邻里", "1.unit_code": ""})
    assert no_unit.status_code == 422 and error_beside(no_unit.text, "1.unit_code")
    assert (await api.get("/directory/duty-list/139001101")).json() == before


async def test_a_rota_for_a_resident_unit_is_refused_beside_the_days(admin, api):
    async def justice_office() -> dict:
        return next(u for u in (await api.get("/directory/units", params={"jurisdiction_code": "139001101"})).json() if u["code"] == "T101-SFS")

    before = await justice_office()
    refused = await admin.post("/console/admin/rota/T101-SFS", data={"mode": "resident", "rota_days": ["2", "4"]})
    assert refused.status_code == 422 and "只有轮驻单位有值班日" in error_beside(refused.text, "rota_days")
    refused = await admin.post("/console/admin/rota/T101-SFS", data={"mode": "rotating"})
    assert refused.status_code == 422 and "轮驻单位须填写值班日" in error_beside(refused.text, "rota_days")
    assert await justice_office() == before


async def test_an_admin_issues_a_key_on_the_page_and_it_signs_in(admin, api, settings):
    refused = await admin.post("/console/admin/users", data={"user_id": "op-hedong-1", "name": "河东乡受理员", "role": "operator"})
    assert refused.status_code == 422 and "必须填写" in error_beside(refused.text, "jurisdiction_code")
    issued = await admin.post("/console/admin/users", data={"user_id": "op-hedong-1", "name": "河东乡受理员", "role": "operator", "jurisdiction_code": HEDONG})
    assert issued.status_code == 200 and "只显示这一次" in issued.text
    key = re.search(r'<code class="key">(od_[^<]+)</code>', issued.text).group(1)
    assert key not in str(issued.headers)
    user = next(u for u in (await api.get("/users")).json() if u["id"] == "op-hedong-1")
    assert (user["role"], user["jurisdiction_code"], user["active"]) == ("operator", HEDONG, True)
    as_operator = await api.get("/worklists/red", headers={"Authorization": f"Bearer {key}"})
    assert as_operator.status_code == 200

    revoked = await admin.post("/console/admin/users/op-hedong-1/revoke")
    assert revoked.status_code == 303 and (await api.get("/worklists/red", headers={"Authorization": f"Bearer {key}"})).status_code == 401
