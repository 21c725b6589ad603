"""The console's pages, one router. Every action is a form handled by a route here that calls the
JSON API's own service functions with the signed-in Principal: one set of rules, one audit trail.
Pages only: none of these routes is in the OpenAPI document."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from api.auth import Principal
from api.console import admin, analysis, cases, home, intake, papers, supervision, worklists
from api.console.web import ConsoleRoute, same_origin, viewer

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])
for part in (home, intake, worklists, papers, supervision, cases, analysis, admin):  # supervision before cases: its order's form
    router.include_router(part.router)

# Last: a console address no page answers is the console's own 404 (after signing in), not the Temporal UI's.
unknown = APIRouter(route_class=ConsoleRoute)


@unknown.api_route("/console/{rest:path}", methods=["GET", "POST"])
async def no_such_page(rest: str, principal: Annotated[Principal, Depends(viewer)]) -> None:
    raise HTTPException(404, "页面不存在 (no such page)")


router.include_router(unknown)
