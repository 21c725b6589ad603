"""Directory routes: jurisdictions, units, duty lists and mediators are data, edited here, not in code."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, StringConstraints, ValidationError, computed_field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onedoor import signing
from api.auth import allow, signed_in
from api.deps import sessions
from api.views import Problem
from onedoor.domain.case import Code, Name, Strict
from onedoor.domain.labels import Backstop, Category, Channel, Level, Role, UnitKind, UnitMode
from onedoor.domain.routing import DutyEntry
from onedoor.store import directory
from onedoor.store.tables import DutyLine, Jurisdiction, Mediator, Unit

router = APIRouter(prefix="/directory", tags=["directory 目录"], dependencies=[Depends(signed_in)])
ADMIN = [Depends(allow(Role.ADMIN))]  # anyone signed in reads the directory; admins change it
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class JurisdictionView(Read):
    code: str
    name: str
    level: Level
    parent_code: str | None
    has_center: bool
    leaders: list[str] | None


class UnitForm(Strict):
    """The whole unit: a PUT names every field (null where none), so nothing left out is silently
    reset to a default; PATCH changes only the fields it names."""

    name: Name
    jurisdiction_code: Code
    mode: UnitMode
    kind: UnitKind
    channel: Channel = Field(description="webhook: documents are POSTed, signed, to endpoint_url; inbox: no system, staff answer through the API")
    endpoint_url: HttpUrl | None = Field(description="the unit's own system; required for a webhook unit, null for an inbox unit")
    signing_secret: Annotated[SecretStr, Field(min_length=32, max_length=128)] | None = Field(
        None, description="write-only HMAC-SHA256 key shared with the unit's system; omitted: the unit keeps its own (a webhook unit without one gets a new one, shown once)"
    )
    backstop: Backstop | None
    rota_days: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(
        description="轮驻 rotating units only: ISO weekdays on duty at the center (1 Monday … 7 Sunday); their clocks start when next on duty"
    )
    province_code: Annotated[str, StringConstraints(pattern=r"^\d{2}$")] | None = Field(description="a partner center's province (GB/T 2260, e.g. 37 山东)")


class UnitView(Read):
    code: str
    name: str
    jurisdiction_code: str
    mode: UnitMode
    kind: UnitKind
    channel: Channel
    endpoint_url: str | None
    backstop: Backstop | None
    rota_days: list[int] | None
    province_code: str | None
    signing_secret: str | None = Field(None, exclude=True, repr=False)  # read from the row, never shown

    @computed_field(description="the unit has a signing secret (the secret itself is never shown)")
    @property
    def has_secret(self) -> bool:
        return self.signing_secret is not None


class SavedUnit(UnitView):
    new_secret: str | None = Field(None, description="a signing secret this call made: shown once, to configure the unit's system with")


class NewSecret(BaseModel):
    unit_code: str
    signing_secret: str = Field(description="shown once: configure the unit's system with it; the previous secret stops working now")


class DutyLineForm(Strict):
    category: Category
    unit_code: Code
    lead: bool = True


class DutyLineView(Read):
    jurisdiction_code: str
    category: Category
    unit_code: str
    lead: bool


class MediatorForm(Strict):
    """The whole mediator, as for a unit: a PUT leaving out `gold` or `active` would reset them."""

    name: Name
    jurisdiction_code: Code
    gold: bool = Field(description="金牌调解员: first for serious cases")
    active: bool


class MediatorView(Read):
    id: str
    name: str
    jurisdiction_code: str
    gold: bool
    active: bool


def must_exist(session: Session, table, key: str, field: str) -> None:
    if session.get(table, key) is None:
        raise HTTPException(422, f"{field}: {key} 不在目录中 (unknown)")


@router.get("/jurisdictions", response_model=list[JurisdictionView], summary="辖区与综治中心 jurisdictions and their centers")
async def jurisdictions(make_session: Sessions):
    def read():
        with make_session() as session:
            return [JurisdictionView.model_validate(j) for j in session.scalars(select(Jurisdiction).order_by(Jurisdiction.code))]

    return await run_in_threadpool(read)


async def listing(make_session: sessionmaker[Session], table, view: type[Read], order, jurisdiction_code: str | None, *where) -> list:
    """A directory table's rows, of one jurisdiction when asked, and matching any further conditions."""

    def read():
        with make_session() as session:
            query = select(table).where(*where).order_by(order)
            if jurisdiction_code:
                query = query.where(table.jurisdiction_code == jurisdiction_code)
            return [view.model_validate(row) for row in session.scalars(query)]

    return await run_in_threadpool(read)


@router.get("/units", response_model=list[UnitView], summary="单位 units")
async def units(make_session: Sessions, jurisdiction_code: str | None = None, kind: UnitKind | None = None):
    return await listing(make_session, Unit, UnitView, Unit.code, jurisdiction_code, *([Unit.kind == kind.value] if kind else []))


def unit_problem(form: UnitForm) -> str | None:
    """What makes the unit unreachable or unplaceable, naming the field; None when it is whole."""
    if form.channel == Channel.WEBHOOK and form.endpoint_url is None:
        return "endpoint_url: 系统对接单位须填写接收地址 (a webhook unit needs an endpoint_url)"
    if form.channel == Channel.INBOX and form.endpoint_url is not None:
        return "endpoint_url: 收件箱单位没有自己的系统 (an inbox unit has no endpoint_url)"
    if form.mode == UnitMode.ROTATING and not form.rota_days:
        return "rota_days: 轮驻单位须填写值班日（ISO 星期 1–7）(a rotating unit needs its rota_days)"
    if form.mode != UnitMode.ROTATING and form.rota_days:
        return "rota_days: 只有轮驻单位有值班日 (only a rotating unit has rota_days)"
    if form.kind == UnitKind.PARTNER and form.province_code is None:
        return "province_code: 跨省协作中心须填写所在省份代码 (a partner center needs its province_code)"
    return None


def save_unit(session: Session, code: str, form: UnitForm) -> SavedUnit:
    must_exist(session, Jurisdiction, form.jurisdiction_code, "jurisdiction_code")
    problem = unit_problem(form)
    if problem:
        raise HTTPException(422, problem)
    values = form.model_dump(mode="json", exclude={"signing_secret"})
    unit = session.merge(Unit(code=code, **values))
    made = None
    if form.signing_secret is not None:
        unit.signing_secret = form.signing_secret.get_secret_value()
    elif unit.signing_secret is None and form.channel == Channel.WEBHOOK:
        unit.signing_secret = made = signing.new_secret()
    session.commit()
    return SavedUnit.model_validate(unit).model_copy(update={"new_secret": made})


@router.put("/units/{code}", response_model=SavedUnit, summary="新增或整体替换单位 add or replace a unit (every field)", dependencies=ADMIN)
async def put_unit(code: Code, form: UnitForm, make_session: Sessions):
    def write():
        with make_session() as session:
            return save_unit(session, code, form)

    return await run_in_threadpool(write)


def changes_schema(form: type[BaseModel]) -> dict:
    """A PATCH body's OpenAPI: any of the form's fields, none required (its enums are components already, by the PUT)."""
    schema = {k: v for k, v in form.model_json_schema(ref_template="#/components/schemas/{model}").items() if k not in ("required", "$defs")}
    schema |= {"title": f"{form.__name__}Changes", "description": "the fields to change; the others stay as they are"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.patch("/units/{code}", response_model=SavedUnit, responses={404: {"model": Problem}}, openapi_extra=changes_schema(UnitForm),
              summary="修改单位的部分字段 change only the named fields of a unit", dependencies=ADMIN)
async def patch_unit(code: Code, request: Request, make_session: Sessions):
    try:
        changes = await request.json()
    except ValueError:
        changes = None
    if not isinstance(changes, dict):
        raise HTTPException(422, "body: 须为 JSON 对象 (a JSON object of the fields to change)")

    def write():
        with make_session() as session:
            return change_unit(session, code, changes)

    return await run_in_threadpool(write)


def change_unit(session: Session, code: str, changes: dict) -> SavedUnit:
    """The named fields of a unit changed, the others as they are (a rota edited, say): the PATCH
    route's and the console's one way."""
    unit = session.get(Unit, code)
    if unit is None:
        raise HTTPException(404, f"单位 {code} 不在目录中 (unknown unit)")
    now = UnitView.model_validate(unit).model_dump(mode="json", include=set(UnitForm.model_fields))
    try:
        form = UnitForm.model_validate(now | changes)
    except ValidationError as invalid:
        raise RequestValidationError(invalid.errors())
    return save_unit(session, code, form)


@router.post("/units/{code}/secret", response_model=NewSecret, responses={404: {"description": "no such unit"}}, summary="更换单位签名密钥 rotate a unit's signing secret", dependencies=ADMIN)
async def rotate_secret(code: Code, make_session: Sessions):
    def write():
        with make_session() as session:
            unit = session.get(Unit, code)
            if unit is None:
                raise HTTPException(404, f"单位 {code} 不在目录中 (unknown unit)")
            unit.signing_secret = signing.new_secret()
            session.commit()
            return NewSecret(unit_code=code, signing_secret=unit.signing_secret)

    return await run_in_threadpool(write)


@router.get("/duty-list/{jurisdiction_code}", response_model=list[DutyLineView], summary="一个中心的职责清单 a center's duty list")
async def duty_list(jurisdiction_code: str, make_session: Sessions):
    def read():
        with make_session() as session:
            must_exist(session, Jurisdiction, jurisdiction_code, "jurisdiction_code")
            lines = session.scalars(select(DutyLine).where(DutyLine.jurisdiction_code == jurisdiction_code).order_by(DutyLine.id))
            return [DutyLineView.model_validate(line) for line in lines]

    return await run_in_threadpool(read)


@router.put("/duty-list/{jurisdiction_code}", response_model=list[DutyLineView], summary="修订职责清单 replace a center's duty list", dependencies=ADMIN)
async def put_duty_list(jurisdiction_code: str, lines: list[DutyLineForm], make_session: Sessions):
    def write():
        with make_session() as session:
            return save_duty_list(session, jurisdiction_code, lines)

    return await run_in_threadpool(write)


def save_duty_list(session: Session, jurisdiction_code: str, lines: list[DutyLineForm]) -> list[DutyLineView]:
    """A center's whole duty list replaced, once it is whole (known units, a lead for 其他): the PUT
    route's and the console's one way."""
    must_exist(session, Jurisdiction, jurisdiction_code, "jurisdiction_code")
    for index, line in enumerate(lines):
        must_exist(session, Unit, line.unit_code, f"{index}.unit_code")
    if Category.OTHER not in {line.category for line in lines if line.lead}:
        raise HTTPException(422, "category: 职责清单须有“其他”类的牵头单位兜底 (a lead unit for 其他 is required)")
    entries = [DutyEntry(jurisdiction_code=jurisdiction_code, **line.model_dump()) for line in lines]
    directory.replace_duty_list(session, jurisdiction_code, entries)
    return [DutyLineView.model_validate(entry, from_attributes=True) for entry in entries]


@router.get("/mediators", response_model=list[MediatorView], summary="调解员 mediators")
async def mediators(make_session: Sessions, jurisdiction_code: str | None = None):
    return await listing(make_session, Mediator, MediatorView, Mediator.id, jurisdiction_code)


@router.put("/mediators/{mediator_id}", response_model=MediatorView, summary="新增或修改调解员 add or change a mediator", dependencies=ADMIN)
async def put_mediator(mediator_id: Code, form: MediatorForm, make_session: Sessions):
    def write():
        with make_session() as session:
            must_exist(session, Jurisdiction, form.jurisdiction_code, "jurisdiction_code")
            mediator = session.merge(Mediator(id=mediator_id, **form.model_dump()))
            session.commit()
            return MediatorView.model_validate(mediator)

    return await run_in_threadpool(write)
