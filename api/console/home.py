"""The console's door: sign in and out (the session of api/ui.py, one for the console and the
Temporal UI), the landing page that sends each role to its home, and the vendored static files."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, Principal, principal_for_key
from api.console.web import HOMES, ConsoleRoute, page, problems, viewer
from api.ui import end_session, start_session

router = APIRouter(route_class=ConsoleRoute)
STATIC = Path(__file__).parent / "static"
SERVED = {path.relative_to(STATIC).as_posix(): path for path in STATIC.rglob("*") if path.is_file() and path.suffix in (".css", ".js")}


def local(next_page: str | None) -> str:
    """Only back to a page of this site, never elsewhere (an open redirect would lend it our name)."""
    return next_page if next_page and next_page.startswith("/") and not next_page.startswith("//") and "\\" not in next_page else "/console"


@router.get("/console")
async def landing(principal: Annotated[Principal, Depends(viewer)]) -> RedirectResponse:
    return RedirectResponse(HOMES[principal.role], status_code=303)


@router.get("/console/home")
async def home(request: Request, principal: Annotated[Principal, Depends(viewer)]) -> Response:
    return page(request, "home.html")


@router.post("/console/signin")
async def sign_in(request: Request, api_key: Annotated[str, Form()] = "", next_page: Annotated[str, Form(alias="next")] = "") -> Response:
    try:
        principal = await principal_for_key(request.app.state.sessions, api_key.strip())
    except HTTPException as refused:
        return page(request, "signin.html", status=refused.status_code, next=next_page, errors={"api_key": problems(refused)[""]})
    response = RedirectResponse(local(next_page), status_code=303)
    await start_session(request, principal, response)
    return response


@router.post("/console/signout")
async def sign_out(request: Request, token: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None) -> RedirectResponse:
    response = RedirectResponse("/ui/signin", status_code=303)
    await end_session(request, token, response)
    return response


@router.get("/console/static/{name:path}")
async def static(name: str) -> FileResponse:
    if name not in SERVED:
        raise HTTPException(404, "文件不存在 (no such file)")
    return FileResponse(SERVED[name], headers={"Cache-Control": "public, max-age=3600"})
