"""The documents exchanged with outside systems are contracts: each is versioned, documented in
docs/contracts.md and in contracts/, and reads back exactly what was written. No stack needed."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, TypeAdapter

from onedoor.domain.case import Party, Place
from onedoor.domain.contracts import block_of, render, schema_file, schema_text, version_of
from onedoor.domain.documents import (
    CONTRACTS,
    DispatchDocument,
    Document,
    NotificationDocument,
    PartnerNoticeDocument,
    PoliceIncidentDocument,
    PoliceStatusDocument,
    ReferralDocument,
    SupervisionDocument,
    UnitCallback,
)
from onedoor.domain.labels import Audience, Backstop, Category, Level, PoliceStatus, RiskGrade

ROOT = Path(__file__).parent.parent
AT = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
PLACE = Place(township_code="139001101", village_code="139001101201")
PARTIES = [
    Party(name="王建国", role="applicant", id_number="130123198001011234", phone="13800138000", address="示范县城关镇东关社区 3 号楼"),
    Party(name="山东某建筑劳务公司", role="respondent", address="山东省聊城市冠县", province_code="37"),
]
EXAMPLES: dict[type[BaseModel], BaseModel] = {
    DispatchDocument: DispatchDocument(
        case_no="139001-2026-000042", unit_code="T101-LDS", lead=True, level=Level.TOWNSHIP, co_units=["T101-SFS"],
        category=Category.LABOUR, grade=RiskGrade.YELLOW, grade_reasons=["涉及农民工欠薪（弱势群体）"],
        summary="某建筑工地拖欠 3 名农民工工资共 2.4 万元", place=PLACE, parties=PARTIES,
        respond_by=datetime(2026, 11, 27, 3, 30, tzinfo=UTC), feedback_by=datetime(2026, 11, 28, 1, 30, tzinfo=UTC),
    ),
    ReferralDocument: ReferralDocument(
        case_no="139001-2026-000042", body_code="C-LDZC", kind=Backstop.ARBITRATION, category=Category.LABOUR,
        summary="社区超市拖欠店员工资 3000 元", place=PLACE, parties=PARTIES,
        mediation_history=["村/社区：调解不成 双方对金额分歧较大", "乡镇/街道：调解不成 被申请人拒不到场"],
        accept_by=datetime(2026, 12, 4, 1, 30, tzinfo=UTC),
    ),
    PoliceStatusDocument: PoliceStatusDocument(
        platform_code="GA-JQPT", incident_id="JQ20261127000318", case_no="139001-2026-000042", seq=2,
        status=PoliceStatus.DISPATCHED, at=AT, note="已派至城关镇劳动保障所办理", unit_code="T101-LDS",
    ),
    PartnerNoticeDocument: PartnerNoticeDocument(
        partner_code="SD-PARTNER", province_code="37", case_no="139001-2026-000042", center_code="139001",
        category=Category.LABOUR, grade=RiskGrade.YELLOW, summary="冠县劳务公司拖欠示范县农民工工资，请协助联合调解",
        place=PLACE, parties=PARTIES, reply_by=datetime(2026, 11, 29, 1, 30, tzinfo=UTC),
    ),
    SupervisionDocument: SupervisionDocument(
        case_no="139001-2026-000042", unit_code="T101-LDS", order="城关镇劳动保障所 未在响应时限内完成，提请县级综治中心督办",
        by="示范县综治中心", at=AT,
    ),
    NotificationDocument: NotificationDocument(
        key="139001-2026-000042:notice:party:intake", case_no="139001-2026-000042", audience=Audience.PARTY, recipient="王建国",
        kind="intake", text="您的纠纷已受理，案件编号 139001-2026-000042，我们将在 2 小时内派单办理。", at=AT,
    ),
    UnitCallback: UnitCallback(
        kind="feedback", case_no="139001-2026-000042", handler="城关镇劳动保障所 刘干事", summary="已约谈用工单位，承诺 12 月 1 日前结清工资",
    ),
    PoliceIncidentDocument: PoliceIncidentDocument(
        incident_id="JQ20261127000318", reported_at=datetime(2026, 11, 27, 1, 20, tzinfo=UTC), place=Place(township_code="139001101"),
        category=Category.NEIGHBOUR, summary="报警称邻居因宅前排水沟堵塞发生争吵，民警到场劝离",
        parties=[Party(name="赵大军", phone="13900001111"), Party(name="钱小红", role="respondent")],
    ),
}


def test_the_contracts_page_shows_the_models_as_they_are():
    page = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert block_of(page) == render(), "docs/contracts.md is stale: run `onedoor contracts --write`"


def test_contracts_folder_holds_each_schema_as_it_is():
    """A receiver validates against these files: a model that changes without its schema (or a
    version bump, when the receiver would notice) fails here."""
    kept = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "contracts").glob("*.json")}
    assert kept == {schema_file(model): schema_text(model) for model in CONTRACTS}, "run `onedoor contracts --write`"


@pytest.mark.parametrize("model", CONTRACTS, ids=lambda model: model.__name__)
def test_a_document_reads_back_as_written(model):
    document = EXAMPLES[model]
    text = document.model_dump_json()
    assert model.model_validate_json(text) == document
    assert json.loads(text)["schema_version"] == version_of(model)
    assert "\\u" not in text  # Chinese travels as UTF-8 characters, not as escapes


def test_every_document_sent_is_told_apart_by_its_version():
    for model in (DispatchDocument, ReferralDocument, PoliceStatusDocument, PartnerNoticeDocument, SupervisionDocument):
        assert type(TypeAdapter(Document).validate_json(EXAMPLES[model].model_dump_json())) is model


def test_versions_are_named_alike_and_each_once():
    versions = [version_of(model) for model in CONTRACTS]
    assert all(re.fullmatch(r"onedoor\.[a-z][a-z-]*/v[1-9]\d*", v) for v in versions), versions
    assert len({v.split("/")[0] for v in versions}) == len(versions)
    assert set(EXAMPLES) == set(CONTRACTS), "a new contract needs an example here"


def test_every_model_says_what_it_is_and_every_field_has_a_type():
    for model in CONTRACTS:
        assert (model.__dict__.get("__doc__") or "").strip(), f"{model.__name__} has no docstring"
        schema = model.model_json_schema()
        for name, part in [(model.__name__, schema), *schema.get("$defs", {}).items()]:
            assert part.get("description"), f"{name} has no description"
            for field, spec in part.get("properties", {}).items():
                assert spec.keys() & {"type", "$ref", "anyOf", "allOf", "const", "enum"}, f"{name}.{field} has no type"
    for row in render().splitlines():
        if row.startswith("| `"):
            assert row.split(" | ")[1].strip(), f"a field without a type: {row}"
