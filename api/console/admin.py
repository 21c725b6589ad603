"""The admin's pages: the directory, each center's duty list, the units' rota, a scope's calendar,
users and their keys. Each form calls the JSON API's own function (api/directory.py, api/calendars.py,
api/users.py) with what was typed, so a page saves exactly what the API would, and a refusal (a
Problem) is shown beside the field it names."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData

from api.auth import Principal
from api.calendars import entering, parse_notice, view, write
from api.console.web import FIELD, ConsoleRoute, page, problems, role, templates
from api.deps import sessions
from api.directory import DutyLineForm, change_unit, save_duty_list
from api.users import UserForm, revoke, save_user
from onedoor.domain.bounds import Day
from onedoor.domain.calendar import CalendarEntries
from onedoor.domain.case import Code, Name
from onedoor.domain.labels import Backstop, Category, Channel, Level, Role, UnitKind, UnitMode
from onedoor.store.tables import DutyLine, Jurisdiction, Mediator, Unit, User

router = APIRouter(route_class=ConsoleRoute)
Admin = Annotated[Principal, Depends(role(Role.ADMIN))]
Sessions = Annotated[sessionmaker[Session], Depends(sessions)]
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
DONE = {"duty-list": "职责清单已保存，此后登记的案件按新清单分派。", "rota": "值班安排已保存。", "day": "工作日历已更新，辖区内未结案件的时限随之调整。",
        "removed": "已删除该日，辖区内未结案件的时限随之调整。", "notice": "节假日安排已导入。", "revoked": "已停用该用户的密钥。"}


def labelled(kind) -> list[tuple[str, str]]:
    return [(member.value, member.label) for member in kind]


def done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def refused(error: HTTPException | ValidationError | RequestValidationError, fields: Collection[str]) -> tuple[int, dict[str, str]]:
    """The status and the messages of a refusal, each beside the form's field it names (`fields`: the
    form's inputs; a row's `<i>.name` counts as `name`). A whole-form validator's message naming a field
    ("jurisdiction_code: 必须填写") goes beside it too; what names none of them is said above the form."""
    placed: dict[str, str] = {}
    for field, message in problems(error).items():
        named = FIELD.match(message) if field == "" else None
        if named and named.group(1) in fields:
            field, message = named.groups()
        if field.split(".")[-1] not in fields:
            field, message = "", f"{field}：{message}" if field else message
        placed[field] = f"{placed[field]}；{message}" if field in placed else message
    return (error.status_code if isinstance(error, HTTPException) else 422), placed


# The directory --------------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    jurisdictions: list[Jurisdiction]
    units: list[Unit]
    mediators: list[Mediator]
    names: dict[str, str]  # every code's name: jurisdictions, units, mediators


def read_directory(make_session: sessionmaker[Session]) -> Directory:
    with make_session() as session:
        jurisdictions = list(session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))
        units = list(session.scalars(select(Unit).order_by(Unit.jurisdiction_code, Unit.code)))
        mediators = list(session.scalars(select(Mediator).order_by(Mediator.jurisdiction_code, Mediator.id)))
        session.expunge_all()
    names = {j.code: j.name for j in jurisdictions} | {u.code: u.name for u in units} | {m.id: m.name for m in mediators}
    return Directory(jurisdictions=jurisdictions, units=units, mediators=mediators, names=names)


@router.get("/console/admin")
async def directory_page(request: Request, principal: Admin, make_session: Sessions) -> Response:
    found = await run_in_threadpool(read_directory, make_session)
    return page(request, "admin_directory.html", directory=found, levels=dict(labelled(Level)), kinds=dict(labelled(UnitKind)),
                modes=dict(labelled(UnitMode)), channels=dict(labelled(Channel)), backstops=dict(labelled(Backstop)), weekdays=WEEKDAYS)


def unit_options(found: Directory) -> list[tuple[str, str]]:
    return [(u.code, f"{u.name}（{u.code}）· {found.names.get(u.jurisdiction_code, u.jurisdiction_code)}") for u in found.units]


# Duty lists -----------------------------------------------------------------------------------------------------------------------------


def read_duty_list(make_session: sessionmaker[Session], code: str) -> list[dict]:
    with make_session() as session:
        jurisdiction = session.get(Jurisdiction, code)
        if jurisdiction is None or not jurisdiction.has_center:
            raise HTTPException(404, f"辖区 {code} 不在目录中或没有综治中心 (no such center)")
        lines = session.scalars(select(DutyLine).where(DutyLine.jurisdiction_code == code).order_by(DutyLine.id))
        return [{"category": line.category, "unit_code": line.unit_code, "lead": line.lead} for line in lines]


async def duty_list_page(request: Request, make_session: sessionmaker[Session], code: str, lines: list[dict], status: int = 200,
                         errors: dict | None = None) -> Response:
    found = await run_in_threadpool(read_directory, make_session)
    return page(request, "admin_duty_list.html", status=status, code=code, name=found.names.get(code, code), lines=lines, errors=errors or {},
                categories=[(c.value, c.value) for c in Category], units=unit_options(found), done=done(request),
                centers=[(j.code, f"{j.name}（{j.code}）") for j in found.jurisdictions if j.has_center])


@router.get("/console/admin/duty-lists/{code}")
async def show_duty_list(code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    return await duty_list_page(request, make_session, code, await run_in_threadpool(read_duty_list, make_session, code))


def typed_lines(form: FormData) -> list[dict]:
    """The rows the form sent (`<i>.category`, `<i>.unit_code`, `<i>.lead`), in order, without those marked
    for removal and the empty new row: renumbered, so a refusal's `<i>.field` names the row shown again."""
    rows = sorted({int(name.split(".", 1)[0]) for name in form if name.split(".", 1)[0].isdigit()})
    kept = []
    for row in rows:
        category, unit = text(form, f"{row}.category"), text(form, f"{row}.unit_code")
        if text(form, f"{row}.remove") or not (category or unit):
            continue
        kept.append({"category": category, "unit_code": unit, "lead": bool(text(form, f"{row}.lead"))})
    return kept


@router.post("/console/admin/duty-lists/{code}")
async def save_duty_list_form(code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    await run_in_threadpool(read_duty_list, make_session, code)  # 404 for a place without a center, before reading the form
    lines = typed_lines(await request.form())

    def save() -> None:
        with make_session() as session:
            save_duty_list(session, code, TypeAdapter(list[DutyLineForm]).validate_python(lines))

    try:
        await run_in_threadpool(save)
    except (HTTPException, ValidationError, RequestValidationError) as error:
        status, errors = refused(error, ("category", "unit_code", "lead"))
        return await duty_list_page(request, make_session, code, lines, status, errors)
    return RedirectResponse(f"/console/admin/duty-lists/{code}?done=duty-list", status_code=303)


# The rota: how each unit sits in its center, and a rotating unit's duty days ------------------------------------------------------------


async def rota_page(request: Request, make_session: sessionmaker[Session], status: int = 200, failed: str | None = None,
                    errors: dict | None = None, typed: dict | None = None) -> Response:
    found = await run_in_threadpool(read_directory, make_session)
    sitting = [u for u in found.units if u.kind in (UnitKind.DEPARTMENT, UnitKind.INDUSTRY)]
    return page(request, "admin_rota.html", status=status, units=sitting, names=found.names, modes=labelled(UnitMode), weekdays=WEEKDAYS,
                failed=failed, errors=errors or {}, typed=typed or {}, done=done(request))


@router.get("/console/admin/rota")
async def show_rota(request: Request, principal: Admin, make_session: Sessions) -> Response:
    return await rota_page(request, make_session)


@router.post("/console/admin/rota/{unit_code}")
async def save_rota(unit_code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    form = await request.form()
    days = [int(day) for day in form.getlist("rota_days") if isinstance(day, str) and day.isdigit()]
    changes = {"mode": text(form, "mode"), "rota_days": days or None}

    def save() -> None:
        with make_session() as session:
            change_unit(session, unit_code, changes)

    try:
        await run_in_threadpool(save)
    except (HTTPException, ValidationError, RequestValidationError) as error:
        if isinstance(error, HTTPException) and error.status_code == 404:
            raise
        status, errors = refused(error, ("mode", "rota_days"))
        return await rota_page(request, make_session, status, unit_code, errors, changes)
    return RedirectResponse(f"/console/admin/rota?done=rota#{unit_code}", status_code=303)


# A scope's calendar ---------------------------------------------------------------------------------------------------------------------


class DayForm(BaseModel):
    """One day the scope declares: closed (a holiday, a local closure) or open (a make-up or extra workday)."""

    day: Day
    kind: Literal["holiday", "workday"]
    name: Name


class DayGone(BaseModel):
    day: Day


class NoticeForm(BaseModel):
    """A year's State Council notice, as CSV rows `date,kind,name` (api/calendars.py reads them)."""

    year: int = Field(ge=2000, le=2100)
    csv: str = Field(min_length=1)


def read_calendar(make_session: sessionmaker[Session], code: str):
    with make_session() as session:
        return view(session, code), [(j.code, f"{j.name}（{j.code}）") for j in session.scalars(select(Jurisdiction).order_by(Jurisdiction.code))]


async def calendar_page(request: Request, make_session: sessionmaker[Session], code: str, status: int = 200, failed: str | None = None,
                        errors: dict | None = None, typed: dict | None = None) -> Response:
    calendar, scopes = await run_in_threadpool(read_calendar, make_session, code)
    return page(request, "admin_calendar.html", status=status, code=code, calendar=calendar, scopes=scopes, name=dict(scopes).get(code, code),
                weekdays=WEEKDAYS, failed=failed, errors=errors or {}, typed=typed or {}, done=done(request))


@router.get("/console/admin/calendars/{code}")
async def show_calendar(code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    return await calendar_page(request, make_session, code)


async def change_calendar(request: Request, principal: Principal, make_session: sessionmaker[Session], code: str, what: str, typed: dict, change) -> Response:
    """`change(typed)` → the change of the scope's entries, saved by the API's own write (open cases get their calendars)."""
    try:
        await write(request, make_session, code, change(typed), principal.name)
    except (HTTPException, ValidationError, RequestValidationError) as error:
        if isinstance(error, HTTPException) and error.status_code == 404:
            raise
        status, errors = refused(error, typed)
        return await calendar_page(request, make_session, code, status, what, errors, typed)
    return RedirectResponse(f"/console/admin/calendars/{code}?done={what}", status_code=303)


def declaring(typed: dict):
    day = DayForm.model_validate(typed)
    closed = day.kind == "holiday"

    def declare(current: CalendarEntries) -> CalendarEntries:
        holidays = {d: n for d, n in current.holidays.items() if d != day.day} | ({day.day: day.name} if closed else {})
        workdays = {d: n for d, n in current.workdays.items() if d != day.day} | ({} if closed else {day.day: day.name})
        return current.model_copy(update={"holidays": holidays, "workdays": workdays})

    return declare


def removing(typed: dict):
    day = DayGone.model_validate(typed).day

    def remove(current: CalendarEntries) -> CalendarEntries:
        return current.model_copy(update={"holidays": {d: n for d, n in current.holidays.items() if d != day},
                                          "workdays": {d: n for d, n in current.workdays.items() if d != day}})

    return remove


def importing(typed: dict):
    notice = NoticeForm.model_validate(typed)
    return entering(parse_notice(notice.csv.encode(), "text/csv"), notice.year)


@router.post("/console/admin/calendars/{code}/days")
async def declare_day(code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    form = await request.form()
    typed = {name: text(form, name) for name in ("day", "kind", "name")}
    return await change_calendar(request, principal, make_session, code, "day", typed, declaring)


@router.post("/console/admin/calendars/{code}/days/remove")
async def remove_day(code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    typed = {"day": text(await request.form(), "day")}
    return await change_calendar(request, principal, make_session, code, "removed", typed, removing)


@router.post("/console/admin/calendars/{code}/notice")
async def import_notice(code: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    form = await request.form()
    typed = {"year": text(form, "year"), "csv": text(form, "csv")}
    return await change_calendar(request, principal, make_session, code, "notice", typed, importing)


# Users and their keys -------------------------------------------------------------------------------------------------------------------


def read_users(make_session: sessionmaker[Session]) -> list[User]:
    with make_session() as session:
        found = list(session.scalars(select(User).order_by(User.id)))
        session.expunge_all()
        return found


async def users_page(request: Request, make_session: sessionmaker[Session], status: int = 200, errors: dict | None = None, typed: dict | None = None,
                     issued: tuple[str, str] | None = None) -> Response:
    found = await run_in_threadpool(read_directory, make_session)
    people = await run_in_threadpool(read_users, make_session)
    return page(request, "admin_users.html", status=status, people=people, names=found.names, roles=labelled(Role), errors=errors or {},
                typed=typed or {}, issued=issued, done=done(request),
                jurisdictions=[(j.code, f"{j.name}（{j.code}）") for j in found.jurisdictions], units=unit_options(found),
                mediators=[(m.id, f"{m.name}（{m.id}）· {found.names.get(m.jurisdiction_code, '')}") for m in found.mediators])


@router.get("/console/admin/users")
async def show_users(request: Request, principal: Admin, make_session: Sessions) -> Response:
    return await users_page(request, make_session)


class UserId(BaseModel):
    user_id: Code


@router.post("/console/admin/users")
async def save_user_form(request: Request, principal: Admin, make_session: Sessions) -> Response:
    form = await request.form()
    typed = {name: text(form, name) for name in ("user_id", "name", "role", "jurisdiction_code", "unit_code", "mediator_id")}

    def save():
        user_id = UserId.model_validate(typed).user_id
        fields = UserForm.model_validate({name: value for name, value in typed.items() if name != "user_id" and value})
        with make_session() as session:
            return save_user(session, user_id, fields)

    try:
        issued = await run_in_threadpool(save)
    except (HTTPException, ValidationError, RequestValidationError) as error:
        status, errors = refused(error, typed)
        return await users_page(request, make_session, status, errors, typed)
    # The key is shown on this answer only, never in an address the browser keeps.
    return await users_page(request, make_session, issued=(issued.user.id, issued.api_key))


@router.post("/console/admin/users/{user_id}/revoke")
async def revoke_user(user_id: str, request: Request, principal: Admin, make_session: Sessions) -> Response:
    def write_down() -> None:
        with make_session() as session:
            revoke(session, user_id)

    try:
        await run_in_threadpool(write_down)
    except HTTPException as error:
        if error.status_code == 404:
            raise
        status, errors = refused(error, ())
        return await users_page(request, make_session, status, errors)
    return RedirectResponse("/console/admin/users?done=revoked", status_code=303)


def weekday_list(days: list[int] | None) -> str:
    return "、".join(WEEKDAYS[d] for d in sorted(days or [])) or "—"


templates.filters["weekdays"] = weekday_list
