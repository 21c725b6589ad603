"""The Temporal UI, served by the API on its own origin for signed-in supervisors: one address, one
sign-in, and the codec endpoint same-origin, so the UI decodes with no setting in its dialog. Every
path none of the API's routes answers is the UI's (its pages, /_app, /api/v1, /render); at the root
rather than under a path, where UI 2.54.1 cannot render a case's summary and details.

What passes to the UI server is narrowed to the reader's scope and to reading: a supervisor's list
and count queries get their jurisdiction's filter (`Township IN (…)`), a case outside it answers 404
as it does in the API, and every write (cancel, terminate, reset, signal, update, batch, schedules)
is refused for all but an admin: people's decisions go through the API, its roles and its audit."""

import json
import re
from datetime import timedelta
from html import escape
from typing import Annotated
from urllib.parse import quote

import httpx
import structlog
from fastapi import APIRouter, Cookie, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from api.auth import SESSION_COOKIE, Principal, allow, may_see_workflow, principal_for_key, principal_for_session, unauthenticated
from api.console.web import page
from domain.labels import Role
from store import directory, users
from store.tables import User

log = structlog.get_logger("ui")
SESSION_LENGTH = timedelta(hours=8)  # a working day
UI_ROLES = (Role.SUPERVISOR,)  # and admins, who may act in any role
# The UI's paths that name one workflow (its pages and its API), and the ones that list or count them.
ONE_WORKFLOW = re.compile(r"^(?:api/v1/)?namespaces/[^/]+/workflows/([^/]+)(/.*)?$")
LISTS = re.compile(r"^api/v1/namespaces/[^/]+/(?:workflows|workflow-count|archived-workflows)$")
# The one non-GET the UI reads with: a query (the current details, the stack trace).
READING_POST = re.compile(r"^api/v1/namespaces/[^/]+/workflows/[^/]+/query/[^/]+$")
GROUPING = re.compile(r"\s*\b(?:GROUP|ORDER)\s+BY\b", re.IGNORECASE)
GROUPING_NAMES = re.compile(r"(?:\s*\b(?:GROUP|ORDER)\s+BY\s+[\w`, ]+)?", re.IGNORECASE)
NOT_IN_SCOPE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>案件不存在</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto"><h1>案件 {case_no} 不存在或不在您的辖区内</h1>
<p><a href="/">返回案件清单</a></p></body></html>"""
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}

router = APIRouter(tags=["temporal-ui 督办界面"])


class SignIn(BaseModel):
    api_key: str


@router.get("/ui/signin", response_class=HTMLResponse, summary="登录页 sign-in page of the console and the Temporal UI")
async def sign_in_page(request: Request, next: str = "") -> HTMLResponse:
    return page(request, "signin.html", next=next)


@router.post("/ui/session", status_code=204, responses=dict.fromkeys((401, 503), {}),  # a wrong key, the register down
             summary="登录 sign in to the console and the Temporal UI (a session cookie, not the key)")
async def sign_in(form: SignIn, request: Request, response: Response) -> None:
    await start_session(request, await principal_for_key(request.app.state.sessions, form.api_key), response)


@router.post("/ui/signout", status_code=204, summary="退出登录 sign out of the console and the Temporal UI")
async def sign_out(request: Request, response: Response, token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None) -> None:
    await end_session(request, token, response)


async def start_session(request: Request, principal: Principal, response: Response) -> None:
    """A session for any role (the console's pages are every role's); the Temporal UI itself serves UI_ROLES only."""

    def open_session() -> str:
        with request.app.state.sessions() as session:
            return users.open_ui_session(session, session.get(User, principal.id), SESSION_LENGTH)

    token = await run_in_threadpool(open_session)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_LENGTH.total_seconds()), path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


async def end_session(request: Request, token: str | None, response: Response) -> None:
    if token:
        def close() -> None:
            with request.app.state.sessions() as session:
                users.close_ui_session(session, token)

        await run_in_threadpool(close)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def temporal_ui(path: str, request: Request, token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None) -> Response:
    principal = await principal_for_session(request.app.state.sessions, token)
    if principal is None:
        if "authorization" in request.headers:  # a program calling the API at a path it does not have
            raise HTTPException(404, "没有这个接口 (no such route)")
        if request.method == "GET" and not path.startswith("api/"):
            return RedirectResponse(f"/ui/signin?next={quote(request.url.path)}", status_code=303)
        raise unauthenticated("需要督办人员登录：/ui/signin")
    if principal.role != Role.ADMIN and principal.role not in UI_ROLES and request.method == "GET" and not path.startswith("api/"):
        return RedirectResponse("/console", status_code=303)  # signed in for the console: its own pages, not the UI's
    await allow(*UI_ROLES)(principal)
    params = request.query_params.multi_items()
    if principal.role != Role.ADMIN:
        if request.method not in ("GET", "HEAD") and not READING_POST.match(path):
            raise HTTPException(403, "督办界面只读：案件的决定请通过 onedoor 接口办理 (the UI is read-only; decisions go through the API)")
        if (one := ONE_WORKFLOW.match(path)) and not await run_in_threadpool(visible_workflow, request.app.state.sessions, principal, one.group(1)):
            if path.startswith("api/"):
                raise HTTPException(404, f"案件 {one.group(1)} 不存在 (no such case)")  # as GET /cases/… answers it
            return HTMLResponse(NOT_IN_SCOPE.format(case_no=escape(one.group(1))), status_code=404)
        if LISTS.match(path):
            query = await scoped_query(request, principal, request.query_params.get("query", ""))
            params = [(name, value) for name, value in params if name != "query"] + [("query", query)]
    upstream = request.app.state.ui_http
    headers = {name: value for name, value in request.headers.items() if name not in HOP_BY_HOP and name not in ("cookie", "authorization")}
    cookies = {name: value for name, value in request.cookies.items() if name != SESSION_COOKIE}  # our session never leaves the API
    if cookies:
        headers["cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = await request.body() if request.method not in ("GET", "HEAD") else None  # the UI's requests are small JSON
    sent = upstream.build_request(request.method, f"/{path}", params=params, headers=headers, content=body)
    try:
        answer = await upstream.send(sent, stream=True)
    except httpx.HTTPError as error:  # the UI server is restarting or down: the API itself is fine
        log.warning("temporal ui unavailable", error=str(error))
        return JSONResponse(status_code=503, headers={"Retry-After": "2"}, content={"detail": "督办界面暂时不可用，请稍后重试 (temporal ui unavailable)"})
    if path == "api/v1/settings" and answer.status_code == 200:
        await answer.aread()
        return JSONResponse(ui_settings(json.loads(answer.content), principal))
    kept = [(name, value) for name, value in answer.headers.multi_items() if name.lower() not in HOP_BY_HOP]
    response = StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, background=BackgroundTask(answer.aclose))
    response.raw_headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in kept]
    return response


def visible_workflow(make_session, principal: Principal, workflow_id: str) -> bool:
    with make_session() as session:
        return may_see_workflow(session, principal, workflow_id)


def ui_settings(given: dict, principal: Principal) -> dict:
    """The UI's own settings, preconfigured: its codec is this API's /codec (a path: same origin,
    so the browser sends the session cookie, and right behind a TLS proxy too), and for all but an
    admin its write actions are off."""
    given["Codec"] = {**given.get("Codec", {}), "Endpoint": "/codec", "IncludeCredentials": True, "PassAccessToken": False}
    if principal.role != Role.ADMIN:
        given |= {name: True for name in given if name.endswith("Disabled")} | {"DisableWriteActions": True}
    return given


async def scoped_query(request: Request, principal: Principal, query: str) -> str:
    """The list filter the supervisor typed, within their jurisdiction. The typed part must be
    balanced (parentheses outside quotes): `a) OR (b` would otherwise escape the scope. A trailing
    GROUP BY or ORDER BY (the UI counts by status) stays after the filter, names only."""
    clause = GROUPING.search(query)
    while clause and not balanced(query[:clause.start()]):  # inside a quoted value: not a clause
        clause = GROUPING.search(query, clause.end())
    query, grouping = (query[:clause.start()], query[clause.start():]) if clause else (query, "")
    if not balanced(query) or not GROUPING_NAMES.fullmatch(grouping):
        raise HTTPException(400, "query: 查询条件的括号或引号不匹配 (unbalanced parentheses or quotes)")
    if principal.jurisdiction_code is None:
        raise HTTPException(403, "督办人员没有辖区，不能查看案件清单 (no jurisdiction to list)")

    def places() -> list[str]:
        with request.app.state.sessions() as session:
            return directory.jurisdiction_and_below(session, principal.jurisdiction_code)

    scope = "Township IN ({})".format(", ".join(json.dumps(code) for code in await run_in_threadpool(places)))
    return (f"{scope} AND ({query})" if query.strip() else scope) + grouping


def balanced(query: str) -> bool:
    depth, quote_char, escaped = 0, None, False
    for char in query:
        if quote_char:
            escaped, quote_char = (not escaped and char == "\\"), (None if char == quote_char and not escaped else quote_char)
            continue
        if char in "'\"`":
            quote_char = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and quote_char is None
