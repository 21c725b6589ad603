"""Directory routes: jurisdictions, units, duty lists and mediators are data, edited here, not in code."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import allow, signed_in
from api.deps import sessions
from domain.case import Code, Strict, Text
from domain.labels import Backstop, Category, Level, Role, UnitMode
from domain.routing import DutyEntry
from store import directory
from store.tables import DutyLine, Jurisdiction, Mediator, Unit

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
    name: Text
    jurisdiction_code: Code
    mode: UnitMode
    endpoint_url: HttpUrl | None = Field(None, description="the unit's own system; none: it works from its inbox")
    backstop: Backstop | None = None
    rota_days: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(None, description="rotating units: ISO weekdays on duty")


class UnitView(Read):
    code: str
    name: str
    jurisdiction_code: str
    mode: UnitMode
    endpoint_url: str | None
    backstop: Backstop | None
    rota_days: list[int] | None


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
    name: Text
    jurisdiction_code: Code
    gold: bool = False
    active: bool = True


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


async def listing(make_session: sessionmaker[Session], table, view: type[Read], order, jurisdiction_code: str | None) -> list:
    """A directory table's rows, of one jurisdiction when asked."""

    def read():
        with make_session() as session:
            query = select(table).order_by(order)
            if jurisdiction_code:
                query = query.where(table.jurisdiction_code == jurisdiction_code)
            return [view.model_validate(row) for row in session.scalars(query)]

    return await run_in_threadpool(read)


@router.get("/units", response_model=list[UnitView], summary="单位 units")
async def units(make_session: Sessions, jurisdiction_code: str | None = None):
    return await listing(make_session, Unit, UnitView, Unit.code, jurisdiction_code)


@router.put("/units/{code}", response_model=UnitView, summary="新增或修改单位 add or change a unit", dependencies=ADMIN)
async def put_unit(code: Code, form: UnitForm, make_session: Sessions):
    def write():
        with make_session() as session:
            must_exist(session, Jurisdiction, form.jurisdiction_code, "jurisdiction_code")
            values = form.model_dump(mode="json")
            unit = session.merge(Unit(code=code, **values))
            session.commit()
            return UnitView.model_validate(unit)

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
            must_exist(session, Jurisdiction, jurisdiction_code, "jurisdiction_code")
            for index, line in enumerate(lines):
                must_exist(session, Unit, line.unit_code, f"{index}.unit_code")
            if Category.OTHER not in {line.category for line in lines if line.lead}:
                raise HTTPException(422, "category: 职责清单须有“其他”类的牵头单位兜底 (a lead unit for 其他 is required)")
            entries = [DutyEntry(jurisdiction_code=jurisdiction_code, **line.model_dump()) for line in lines]
            directory.replace_duty_list(session, jurisdiction_code, entries)
            return [DutyLineView.model_validate(entry, from_attributes=True) for entry in entries]

    return await run_in_threadpool(write)


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
