"""A case's papers (受理告知书, 派单/转办单, 督办单, 人民调解协议书, 不予受理告知书, 案卷), fetched from the API
as PDF and read back as text: names instead of codes, Chinese labels instead of program values, the case
number and the page count on every page, the header of a table that runs onto the next page again there,
the contents 人民调解法 §29 asks of an agreement, signature lines; 409 for a paper the case does not have."""

import asyncio
import io
import os
import shutil
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from pypdf import PdfReader
from sqlalchemy import text

from onedoor import codec
from onedoor.domain.labels import (
    ActorRole, CaseField, ClockBasis, ClockName, ClockStatus, HandlingMode, Level, MediationOutcome, PartyRole, Result, RiskGrade, Source, Stage, StepKind,
)
from onedoor.domain.policy import LadderPolicy
from onedoor.settings import Settings
from onedoor.store import register, users
from onedoor.store.db import alembic_config, make_engine, make_sessions, migrate, throwaway_register
from onedoor.store.directory import names as directory_names
from onedoor.store.papers import CaseRecord
from tests.cases import decide, mediate, mediator_of, register_case, someone, today, units_answer, visit, wage_arrears, wait_for
from onedoor.papers.views import Names
from tests.conftest import CODEC_KEYS

def pdf_unavailable() -> str | None:
    """Why this machine cannot lay out a PDF in Chinese (None: it can; in CI it must)."""
    if os.environ.get("CI") == "true":
        return None
    if not Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc").exists():
        return "Debian's fonts-noto-cjk is not installed (apt-get install fonts-noto-cjk; .ci/run installs it, and in CI this test fails without it)"
    try:
        import weasyprint  # noqa: F401  loads Pango
    except OSError:
        return "Pango is not installed (apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; .ci/run installs it)"
    return None


needs_pdf = pytest.mark.skipif(pdf_unavailable() is not None, reason=pdf_unavailable() or "")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Every program value a paper could leak in place of its Chinese label.
PROGRAM_VALUES = {
    member.value for enum in (ActorRole, CaseField, ClockBasis, ClockName, ClockStatus, HandlingMode, Level, MediationOutcome, PartyRole, Result, RiskGrade, Source, Stage, StepKind)
    for member in enum
} | {"True", "False", "None", "null", "true", "false"}


class Pdf:
    """A paper's PDF as its reader sees it: one text per page."""

    def __init__(self, response: httpx.Response):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        self.disposition = response.headers["content-disposition"]
        self.pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
        self.text = "\n".join(self.pages)
        self.joined = self.text.replace("\n", "")  # a table's cell wraps its words over lines
        self.squeezed = squeezed(self.text)

    def has(self, *words: str) -> None:
        """Each of these words is in the paper (read without its spacing: a table's cells come out spaced)."""
        for word in words:
            assert squeezed(word) in self.squeezed, f"{word!r} not in the paper:\n{self.text}"


def squeezed(words: str) -> str:
    return re.sub(r"\s+", "", words)


async def paper(api: httpx.AsyncClient, case_no: str, kind: str, **params) -> Pdf:
    return Pdf(await api.get(f"/cases/{case_no}/papers/{kind}", params={"format": "pdf", **params}))


def read_as_printed(pdf: Pdf, case_no: str, codes: set[str]) -> None:
    """What every paper must be: the case number and 第 x 页 共 y 页 on each page, the file named by the
    case, no program value among its words, and no code of the directory without its name beside."""
    assert case_no in pdf.disposition
    for number, page in enumerate(pdf.pages, 1):
        assert case_no in page, f"page {number} lacks the case number:\n{page}"
        assert f"第 {number} 页 共 {len(pdf.pages)} 页" in page, f"page {number} lacks its number:\n{page}"
    leaked = set(re.findall(r"[A-Za-z_]+", pdf.text)) & PROGRAM_VALUES
    assert not leaked, f"program values in the paper: {leaked}\n{pdf.text}"
    # A code is named where it stands in brackets beside its name: 城关镇劳动保障所（T101-LDS）, （城关镇 139001101）.
    standing = re.compile(r"(?<![0-9A-Za-z_（-])(" + "|".join(map(re.escape, sorted(codes, key=len, reverse=True))) + r")(?![0-9A-Za-z_）-])")
    bare = standing.findall(pdf.joined)
    assert not bare, f"codes without their names: {bare}\n{pdf.text}"


@pytest.fixture
def codes(sessions) -> set[str]:
    """The directory's units', jurisdictions' and mediators' codes."""
    with sessions() as session:
        units = set(session.scalars(text("SELECT code FROM units")))
        places = set(session.scalars(text("SELECT code FROM jurisdictions")))
        mediators = set(session.scalars(text("SELECT id FROM mediators")))
        assert directory_names(session, ["T101-LDS"]) == {"T101-LDS": "城关镇劳动保障所"}
    return units | places | mediators


@needs_pdf
async def test_a_settled_case_has_its_papers_in_chinese_with_names_page_numbers_and_the_case_number_on_every_page(api, codes):
    """A wage case: registered, dispatched, supervised from above, mediated over many sessions (its
    timeline runs over pages), agreed, visited and settled; each paper read back from its PDF."""
    applicant = {**someone("王建国"), "role": "applicant", "address": "城关镇幸福路 8 号"}
    case_no = await register_case(api, wage_arrears(parties=[applicant, {"name": "某建筑公司", "role": "respondent"}]))
    case = await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    await units_answer(api, case)
    supervised = await api.post(f"/cases/{case_no}/supervision", json={"supervisor": "县综治中心 刘志强", "order": "请于三日内约谈项目负责人并报告"})
    assert supervised.status_code == 202, supervised.text
    await wait_for(api, case_no, lambda r: any(e["kind"] == "supervised" for e in r["timeline"]), view="/register")
    mediator = await mediator_of(api, case_no)
    for n in range(1, 31):
        await decide(api, case_no, "mediation/sessions", {"mediator_id": mediator, "held_on": today(), "mode": "desk",
                                                         "notes": f"第 {n} 次调解：双方就工资数额、支付方式和期限逐项核对，申请人出示考勤记录，被申请人表示需向总包单位核实。"})
    due = date.today() + timedelta(days=30)
    terms = "被申请人某建筑公司向申请人王建国等 3 人支付拖欠工资共计人民币 24000 元，以银行转账方式分两期支付"
    await mediate(api, case_no, "agreement", terms=terms, performance_due=due.isoformat())
    await visit(api, case_no, satisfied=True)
    await wait_for(api, case_no, lambda c: c["stage"] == "settled")

    acceptance = await paper(api, case_no, "acceptance")
    read_as_printed(acceptance, case_no, codes)
    acceptance.has("受理告知书", "城关镇综治中心", "王建国：", "窗口", "劳动争议", "城关镇劳动保障所（T101-LDS）", "牵头", "城关镇司法所（T101-SFS）", "协办",
                   "申请人", "被申请人", "某建筑公司", applicant["id_number"], "黄色", "（盖章）", "送达回证", "受送达人（签名或按指印）")

    dispatch = await paper(api, case_no, "dispatch")
    read_as_printed(dispatch, case_no, codes)
    dispatch.has("派单/转办单", "派单时间", "一键派单至 城关镇劳动保障所（T101-LDS）", "按时完成", "派单人（签名）", "签收单位（盖章）及签收人（签名）")

    order = await paper(api, case_no, "supervision", order=1)
    read_as_printed(order, case_no, codes)
    order.has("督办单", "督办单第 1 号（本案共 1 份）", "城关镇劳动保障所（T101-LDS）：", "县综治中心 刘志强", "上级督办", "请于三日内约谈项目负责人并报告",
              "被督办单位负责人（签名）")
    missing = await api.get(f"/cases/{case_no}/papers/supervision", params={"order": 2})
    assert missing.status_code == 404 and missing.json()["detail"].startswith("order:") and "共有 1 份督办单" in missing.json()["detail"]

    agreement = await paper(api, case_no, "agreement")
    read_as_printed(agreement, case_no, codes)
    # 人民调解法 §29: the parties, the dispute, the agreed terms, how and when they are performed; signed by
    # each party and the mediator, sealed by the committee; one copy for each party and one kept.
    agreement.has("城关镇人民调解委员会", "人民调解协议书", "当事人基本情况", "申请人 王建国", "被申请人 某建筑公司", applicant["id_number"], applicant["phone"], "城关镇幸福路 8 号",
                  "纠纷的主要事实和争议事项", "某建筑工地拖欠 3 名农民工工资共 2.4 万元", "调解协议的内容", terms, "履行方式和期限",
                  f"于 {due.year}年{due.month}月{due.day}日 前履行完毕", "申请人 王建国（签名、盖章或按指印）：", "被申请人 某建筑公司（签名、盖章或按指印）：",
                  "人民调解员 城关镇金牌调解员 赵立新（签名）：", "城关镇人民调解委员会（印章）", "一式 3 份，当事人各执一份，人民调解委员会留存一份", "三十日内共同向人民法院申请司法确认")

    archive = await paper(api, case_no, "archive")
    read_as_printed(archive, case_no, codes)
    archive.has("矛盾纠纷调处案卷", "回访意见 满意", "结案方式 调解成功", "案结事了", "调解记录", "第 30 次调解", "上级督办", "操作记录", "回访员", "阶段：", "受理员", terms)
    # The timeline runs over several pages, each of them headed again.
    timeline_pages = [page for page in archive.pages if "次调解：" in page]
    assert len(timeline_pages) >= 2, archive.text
    assert all("时间步骤记录" in squeezed(page) for page in timeline_pages), timeline_pages

    refused = await api.get(f"/cases/{case_no}/papers/refusal", params={"format": "pdf"})
    assert refused.status_code == 409 and "未作出不予受理决定" in refused.json()["detail"]

    page = await api.get(f"/cases/{case_no}/papers/agreement")  # html, the default: the browser prints it on the same stylesheet
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for said in ("size: A4", 'counter(page) " 页 共 " counter(pages)', f'"案件编号 {case_no}"', "<thead>", "（盖章）", terms):
        assert said in page.text, said


@needs_pdf
async def test_a_refused_case_has_its_refusal_and_no_acceptance_nor_agreement(api, codes):
    case_no = await register_case(api, wage_arrears(category="合同", summary="装修合同尾款纠纷", factors={"amount_at_stake": 8000, "people_involved": 2}))
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    no_agreement = await api.get(f"/cases/{case_no}/papers/agreement", params={"format": "pdf"})
    assert no_agreement.status_code == 409 and "没有达成调解协议" in no_agreement.json()["detail"]
    no_order = await api.get(f"/cases/{case_no}/papers/supervision")
    assert no_order.status_code == 409 and "没有督办记录" in no_order.json()["detail"]
    await decide(api, case_no, "decline", {"operator": "县综治中心 李科长", "reason": "已进入诉讼程序，不属于调解受理范围"})

    refusal = await paper(api, case_no, "refusal")
    read_as_printed(refusal, case_no, codes)
    refusal.has("不予受理告知书", "王建国：", "合同纠纷", "决定不予受理", "理由：已进入诉讼程序，不属于调解受理范围", "向人民法院提起诉讼", "（盖章）", "送达回证")
    accepted = await api.get(f"/cases/{case_no}/papers/acceptance")
    assert accepted.status_code == 409 and "不予受理告知书" in accepted.json()["detail"]
    archive = await paper(api, case_no, "archive")
    read_as_printed(archive, case_no, codes)
    archive.has("结案方式 不予受理", "县综治中心 李科长 决定不予受理")


@needs_pdf
async def test_a_breach_raises_an_order_from_the_county_and_a_lift_a_second_dispatch(api, clocks, configure, codes):
    """The township's lead unit is late: the county's order (督办单 of a breach); the case lifted to the
    county is dispatched again (转办 on the same paper)."""
    clocks(response=2)
    configure(ladder=LadderPolicy(breach_escalates=False))
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: any(o["unit_code"] == "T101-LDS" and o["clock"] == "response" for o in c["supervision_orders"]), timeout=20)
    case = await decide(api, case_no, "response", {"unit_code": "T101-LDS", "handler": "刘干事"})
    lifted = await decide(api, case_no, "escalation", {"supervisor": "县综治中心 刘志强", "reason": "镇级多次督办未果，提级办理"})
    assert lifted["level"] == "county", case

    dispatch = await paper(api, case_no, "dispatch")
    read_as_printed(dispatch, case_no, codes)
    dispatch.has("派单", "乡镇/街道级 城关镇综治中心", "转办（第 1 次）", "县/区级 示范县综治中心", "县人力资源和社会保障局（C-RSJ）", "超时后完成")
    first = await paper(api, case_no, "supervision", order=1)
    read_as_printed(first, case_no, codes)
    first.has("督办单第 1 号", "督办单位 示范县综治中心", "响应时限超时", "原定时限", "未在响应时限内完成", "县/区级综治中心督办")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
async def test_a_browser_prints_the_page_with_the_case_number_and_page_count_on_every_page(api, tmp_path):
    """Printed from Chromium, the page is the same paper: its running header and footer come from the
    stylesheet, not from the browser (which prints none here)."""
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched" and c["mediations"])
    page = await api.get(f"/cases/{case_no}/papers/archive")
    assert page.status_code == 200
    saved, printed = tmp_path / "archive.html", tmp_path / "archive.pdf"
    saved.write_text(page.text, encoding="utf-8")  # whole in itself: the browser fetches nothing
    chromium = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--no-pdf-header-footer", f"--print-to-pdf={printed}", saved.as_uri(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await asyncio.wait_for(chromium.communicate(), timeout=120)
    assert chromium.returncode == 0, errors.decode()[-2000:]
    pages = [page.extract_text() for page in PdfReader(printed).pages]
    assert len(pages) >= 2
    for number, said in enumerate(pages, 1):
        # Chromium's PDF names some characters by their radicals (页 as ⻚): the numbers are what is read.
        assert case_no in said and re.search(rf"第 {number} \S 共 {len(pages)} \S", said), said


async def test_papers_are_read_in_the_archives_scope_only(api, sessions):
    """Another township's operator does not see the case (404, as if it did not exist); a unit may not read papers (403)."""
    case_no = await register_case(api)
    await wait_for(api, case_no, lambda c: c["stage"] == "dispatched")
    with sessions() as session:
        keys = {name: users.issue_key(session, users.ensure_user(session, f"papers-{n}", name=name, active=True, **fields)) for n, (name, fields) in enumerate({
            "城关镇受理员": dict(role="operator", jurisdiction_code="139001101", unit_code=None, mediator_id=None),
            "河东乡受理员": dict(role="operator", jurisdiction_code="139001102", unit_code=None, mediator_id=None),
            "城关镇劳动保障所": dict(role="unit", jurisdiction_code=None, unit_code="T101-LDS", mediator_id=None),
        }.items())}

    async def asks(who: str, kind: str) -> httpx.Response:
        return await api.get(f"/cases/{case_no}/papers/{kind}", headers={"Authorization": f"Bearer {keys[who]}"})

    assert (await asks("城关镇受理员", "acceptance")).status_code == 200
    for kind in ("acceptance", "archive", "agreement"):
        hidden = await asks("河东乡受理员", kind)
        assert hidden.status_code == 404 and hidden.json()["detail"] == f"案件 {case_no} 不存在 (no such case)", hidden.text
        refused = await asks("城关镇劳动保障所", kind)
        assert refused.status_code == 403 and "无权" in refused.json()["detail"]
    unknown = await api.get(f"/cases/{case_no}/papers/receipt")
    assert unknown.status_code == 422 and "kind" in unknown.json()["detail"]


def test_the_migration_reads_the_parts_of_the_steps_written_before_out_of_their_notes(tmp_path, sessions):
    """0014 on a register whose notes were sealed by 0013: an agreement's terms, a refusal's reason, a
    supervisor's order and its unit are read out of the notes (SQLite, or PostgreSQL with DATABASE_URL)."""
    sealer = codec.FieldSealer(codec.decode_keys(CODEC_KEYS), "test-1")
    given = os.environ.get("DATABASE_URL")
    notes = {
        "0001-mediation": ("mediation", "城关镇金牌调解员 赵立新：达成调解协议。12月5日前付清：王建国"),
        "0002-mediation": ("mediation", "城关镇调解员 孙玉兰：调解不成。双方分歧较大"),
        "0003-declined": ("declined", "县综治中心 李科长 决定不予受理：已进入诉讼程序"),
        "0004-supervised": ("supervised", "县综治中心 刘志强 督办 T101-LDS：请于三日内报告"),
        "0005-handling": ("handling", "T101-LDS 已响应"),
    }
    with throwaway_register(given and Settings(database_url=given).register_url, tmp_path, "parts", migrated=False) as url:
        command.upgrade(alembic_config(url), "0013")
        engine = make_engine(url, sealer)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO cases (case_no, source, category, township_code, summary, parties, stage, received_at, overdue, escalation_count, last_step) "
                "VALUES ('139001-2026-000001', 'window', '劳动争议', '139001101', :summary, :parties, 'settled', '2026-11-03 08:00:00+00', false, 0, 5)"),
                {"summary": sealer.seal("王建国被拖欠工资"), "parties": sealer.seal('[{"name": "王建国", "role": "applicant"}]')})
            for key, (kind, note) in notes.items():
                connection.execute(text("INSERT INTO case_events (case_no, key, kind, at, note, recorded_at) "
                                        "VALUES ('139001-2026-000001', :key, :kind, '2026-11-04 08:00:00+00', :note, '2026-11-04 08:00:00+00')"),
                                   {"key": key, "kind": kind, "note": sealer.seal(note)})
        migrate(url, lambda: sealer)
        with make_sessions(engine)() as session:
            steps = {step.key: (step.parts, step.body_code) for step in register.timeline(session, "139001-2026-000001")}
        assert steps == {
            "0001-mediation": ({"terms": "12月5日前付清：王建国"}, None),
            "0002-mediation": (None, None),
            "0003-declined": ({"reason": "已进入诉讼程序"}, None),
            "0004-supervised": ({"order": "请于三日内报告"}, "T101-LDS"),
            "0005-handling": (None, None),
        }
        command.downgrade(alembic_config(url, lambda: sealer), "0013")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM case_events WHERE body_code IS NOT NULL")).scalar_one() == 0
        engine.dispose()


def test_directory_names_stand_beside_codes_but_never_inside_a_case_number():
    """The notes' codes get their names; a county code inside a case number or an ID number stays as it is,
    and a code a note already names (the mediator's step) is left alone."""
    names = {"139001": "示范县", "139001101": "城关镇", "T101-LDS": "城关镇劳动保障所", "M-T101-1": "城关镇金牌调解员 赵立新"}
    record = CaseRecord.model_construct(names=names)
    said = Names(record).in_text("案件 139001-2026-000007 派至 T101-LDS（139001101），当事人身份证 139001199001011234；139001 督办；金牌调解员 城关镇金牌调解员 赵立新（M-T101-1）")
    assert said == ("案件 139001-2026-000007 派至 城关镇劳动保障所（T101-LDS）（城关镇 139001101），当事人身份证 139001199001011234；示范县（139001） 督办；"
                    "金牌调解员 城关镇金牌调解员 赵立新（M-T101-1）")
