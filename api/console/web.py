"""What every console page shares: who is signed in (the session cookie of api/ui.py), the role a
page serves, refusals shown as a page in Chinese, forms protected against cross-site posts, and a
Problem's message put beside the field it names.

A console route is an ordinary FastAPI route on `ConsoleRoute`: it takes the Principal from
`Depends(viewer)` or `Depends(role(...))` and calls the same service functions as the JSON API with
it, so scopes, validation and audit are the API's. An HTTPException such a function raises (a
Problem) becomes the refusal page; a form that wants the message beside its field catches it and
reads it with `problems()`."""

import re
from datetime import UTC, datetime, timedelta
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Cookie, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from api.auth import SESSION_COOKIE, Principal, allow, principal_for_session
from onedoor.domain.labels import ClockStatus, RiskGrade, Role, Stage
from onedoor.domain.timezone import as_shanghai

TEMPLATES = Path(__file__).parent / "templates"
templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
templates.filters["when"] = lambda at: as_shanghai(at).strftime("%Y-%m-%d %H:%M") if at else ""
templates.filters["day"] = lambda at: f"{at:%Y年%-m月%-d日}" if at else ""


def time_left(due_at: datetime, status: str, paused_left: timedelta | float | None = None) -> str:
    """A clock as a worker reads it: 剩余 x 小时 y 分, 已超时 …, or what a paused one keeps (its span, or seconds as the register has it)."""
    if isinstance(paused_left, int | float):
        paused_left = timedelta(seconds=paused_left)
    if status == ClockStatus.PAUSED:
        return f"已暂停，剩余 {hours_minutes(paused_left)}" if paused_left is not None else "已暂停"
    if status not in (ClockStatus.RUNNING, ClockStatus.BREACHED):
        return ClockStatus(status).label
    left = due_at - datetime.now(UTC)
    return f"剩余 {hours_minutes(left)}" if left > timedelta(0) else f"已超时 {hours_minutes(-left)}"


def hours_minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds()) // 60
    days, hours = divmod(minutes // 60, 24)
    if days:  # a mediation's month reads in days
        return f"{days} 天 {hours} 小时"
    return f"{hours} 小时 {minutes % 60} 分" if hours else f"{minutes} 分"


templates.globals["time_left"] = time_left
# The register's codes, as the words people read.
templates.filters["stage"] = lambda code: Stage(code).label
templates.filters["grade"] = lambda code: RiskGrade(code).label

# Each role's home, where the landing page sends it, and its menu (an admin may act in any role: every item).
HOMES = {Role.OPERATOR: "/console/intake", Role.UNIT: "/console/inbox", Role.MEDIATOR: "/console/mediation",
         Role.SUPERVISOR: "/console/home", Role.ADMIN: "/console/home"}
MENUS: dict[Role, list[tuple[str, str]]] = {
    Role.OPERATOR: [("登记受理", "/console/intake")],
    Role.UNIT: [("本单位待办", "/console/inbox")],
    Role.MEDIATOR: [("我的调解案件", "/console/mediation")],
    Role.SUPERVISOR: [("工作清单", "/console/worklists"), ("研判周报", "/console/reports"), ("考核", "/console/assessment"), ("督办界面", "/")],
}
MENUS[Role.ADMIN] = [item for role in (Role.OPERATOR, Role.UNIT, Role.MEDIATOR, Role.SUPERVISOR) for item in MENUS[role]] + [
    ("目录", "/console/admin"), ("值班安排", "/console/admin/rota"), ("用户与密钥", "/console/admin/users")]


class SignInNeeded(Exception):
    """No session (or an expired one): the browser goes to the sign-in page and comes back."""


async def viewer(request: Request, token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None) -> Principal:
    """The signed-in user of this browser; kept on the request so a refusal page still shows who it is."""
    principal = await principal_for_session(request.app.state.sessions, token)
    if principal is None:
        raise SignInNeeded()
    request.state.principal = principal
    return principal


def role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the signed-in user, if their role is one of these (the API's own check, allow())."""

    async def check(principal: Annotated[Principal, Depends(viewer)]) -> Principal:
        return await allow(*roles)(principal)

    return check


async def same_origin(request: Request) -> None:
    """A form post must come from a page of this site: the cookie is SameSite=Strict, and the
    Origin (or, failing it, the Referer) must name this host. A cross-site form gets neither right."""
    if request.method in ("GET", "HEAD"):
        return
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent or urlsplit(sent).netloc != request.headers.get("host"):
        raise HTTPException(403, "请求来源不是本系统的页面，已拒绝（防跨站请求伪造）(cross-site form post refused)")


ENGLISH_ASIDE = re.compile(r"\s*\([\x20-\x27\x2a-\x7e]*\)\s*$")  # the API's messages end with an English gloss in parentheses (a code beside a word, 督办(supervisor), stays)
FIELD = re.compile(r"^([A-Za-z_][\w.]*): (.*)$", re.DOTALL)


def chinese(detail: str) -> str:
    """A Problem's sentence as a person reads it here: the Chinese, without the English beside it."""
    return ENGLISH_ASIDE.sub("", detail)


# Pydantic's own messages are English: what each kind of bad input means, in Chinese.
INPUT_MESSAGES = {
    "missing": "必填", "string_too_short": "不能为空", "string_too_long": "不能超过 {max_length} 个字",
    "string_pattern_mismatch": "格式不对", "int_parsing": "应为整数", "int_from_float": "应为整数", "decimal_parsing": "应为数字",
    "greater_than_equal": "不能小于 {ge}", "greater_than": "应大于 {gt}", "less_than_equal": "不能大于 {le}", "enum": "不是可选的值",
    "literal_error": "不是可选的值", "date_from_datetime_parsing": "日期格式不对", "date_parsing": "日期格式不对", "too_short": "至少填写 {min_length} 项",
    "bool_parsing": "应为是或否", "extra_forbidden": "多余的字段", "decimal_max_places": "小数位过多",
}


def input_message(error: dict) -> str:
    if error["type"] == "value_error":  # our own validators' words (Chinese, English beside)
        return chinese(error["msg"].removeprefix("Value error, "))
    return INPUT_MESSAGES.get(error["type"], "输入有误").format(**error.get("ctx", {}))


def problems(error: HTTPException | ValidationError | RequestValidationError) -> dict[str, str]:
    """The messages of a refusal by the field each names, as a form's inputs are named (the API's
    dotted paths: `place.township_code`, `parties.0.name`); "" holds what names no field."""
    if isinstance(error, HTTPException):
        detail = str(error.detail)
        named = FIELD.match(detail)
        return {named.group(1): chinese(named.group(2))} if named else {"": chinese(detail)}
    found: dict[str, str] = {}
    for e in error.errors():
        field, message = ".".join(str(part) for part in e["loc"] if part not in ("body", "query")), input_message(e)
        if e["type"] == "value_error" and (named := FIELD.match(message)):  # a model's own check names its field in its words
            field, message = ".".join(filter(None, (field, named.group(1)))), named.group(2)
        found.setdefault(field, message)
    return found


def page(request: Request, template: str, status: int = 200, headers: dict | None = None, **context) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    menu = MENUS.get(principal.role, []) if principal else []
    html = templates.get_template(template).render(request=request, principal=principal, menu=menu, **context)
    return HTMLResponse(html, status_code=status, headers=headers)


def sign_in_address(request: Request) -> str:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/ui/signin?next={quote(back)}"


class ConsoleRoute(APIRoute):
    """A page's refusals are pages: no session sends the browser to sign in, a Problem (403, 404,
    409, 422, 503…) is shown in Chinese with its status, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInNeeded:
                return RedirectResponse(sign_in_address(request), status_code=303)
            except HTTPException as refused:
                return page(request, "refused.html", status=refused.status_code, message=chinese(str(refused.detail)),
                            headers={"Retry-After": refused.headers["Retry-After"]} if refused.headers and "Retry-After" in refused.headers else None)
            except RequestValidationError as bad:
                listed = "；".join(f"{field or '请求'}：{message}" for field, message in problems(bad).items())
                return page(request, "refused.html", status=422, message=f"输入有误：{listed}")

        return console_handler


def nest(form: FormData, lists: frozenset[str] = frozenset()) -> dict:
    """A form's fields as the API's JSON body: dotted names nest (`place.township_code`), numbered
    parts make lists (`parties.0.name`), a name in `lists` keeps every value (a group of checkboxes).
    Blank fields are left out, so the model's defaults and its "required" apply; names starting
    with "_" are the page's own controls, not the body's."""
    data: dict = {}
    for name in dict.fromkeys(form.keys()):
        values = [value.strip() for value in form.getlist(name) if isinstance(value, str) and value.strip()]
        if name.startswith("_") or not values:
            continue
        target, *path, last = [data, *name.split(".")]
        for part in [*path]:
            target = target.setdefault(part, {})
        target[last] = values if name in lists else values[-1]
    return listed(data)


def listed(value):
    """{"0": a, "2": b} → [a, b]: numbered parts, in order (a row left blank leaves no gap)."""
    if not isinstance(value, dict):
        return value
    items = {key: listed(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items
