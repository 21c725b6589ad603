"""One error body for every refusal the API answers, and an OpenAPI document that says so.

Every 4xx and 5xx answer is a Problem (api/views.py): `detail`, one Chinese sentence naming the
field; a 422 also lists each bad input in `errors`. Each operation documents every status it can
answer: those its route names (responses=), those of the dependencies it runs — marked here with
answers(): the key check 401, the role check 403, the case's scope 404, Temporal and the register
503 — and 422 wherever it takes a parameter or a body. A generated client parses every error.
"""

from collections.abc import Callable, Iterator
from http import HTTPStatus

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.views import Problem

REF = "#/components/schemas/"
BODY_UNREADABLE = "There was an error parsing the body"  # FastAPI's 400 for a body that is not JSON (or not UTF-8)
# The framework's own refusals, which say only the status's English name.
FRAMEWORK = {404: "路径不存在 (no such path)", 405: "该路径不支持此方法 (method not allowed)"}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before sending the request again", "schema": {"type": "integer"}}}
# What each status means wherever it is answered; a route's own description (responses=) says more.
MEANING: dict[int, dict] = {
    401: {"description": "未登录或密钥无效 (no API key, or an unknown or revoked one)",
          "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}},
    403: {"description": "当前角色无权办理 (the caller's role may not do this)"},
    404: {"description": "不存在或不在您的辖区内 (no such thing, or outside the caller's scope)"},
    422: {"description": "输入有误：detail 点名字段，errors 逐项列出 (a bad input, named in detail; each one in errors)"},
    503: {"description": "Temporal 或登记簿暂时不可用，请按 Retry-After 秒数后重发 (Temporal or the register unavailable: send it again)",
          "headers": RETRY_AFTER},
}


def answers(*statuses: int) -> Callable:
    """Mark a dependency with the error statuses it answers, for every route that runs it."""

    def mark(call: Callable) -> Callable:
        call.answers = statuses  # type: ignore[attr-defined]
        return call

    return mark


def dependency_statuses(dependant: Dependant) -> Iterator[int]:
    for dependency in dependant.dependencies:
        yield from getattr(dependency.call, "answers", ())
        yield from dependency_statuses(dependency)


def invalid_input(errors) -> JSONResponse:
    """422: one readable sentence naming every bad field, plus the structured list for programs
    (without the echoed input, which may hold a party's personal data)."""
    problems = ["{}: {}".format(".".join(str(p) for p in e["loc"] if p != "body") or "body", e["msg"]) for e in errors]
    listed = jsonable_encoder([{k: v for k, v in e.items() if k != "input"} for e in errors])
    return JSONResponse(status_code=422, content={"detail": "输入有误 invalid input — " + "; ".join(problems), "errors": listed})


async def no_nul_in_parameters(request: Request) -> None:
    """A NUL character in a path or query parameter is refused as bad input, naming the parameter:
    PostgreSQL cannot hold or compare one (bodies refuse it by their types, domain/bounds.py)."""
    bad = [("path", name) for name, value in request.path_params.items() if "\x00" in str(value)]
    bad += [("query", name) for name, value in request.query_params.multi_items() if "\x00" in value]
    if bad:
        raise RequestValidationError([{"type": "string_pattern_mismatch", "loc": loc, "msg": "不能含 NUL 字符 (must not contain a NUL character)"} for loc in bad])


def handle_errors(app: FastAPI, routers: list[APIRouter]) -> None:
    """Bad input answers a Problem; the OpenAPI document names every error each operation of the
    routers answers."""

    @app.exception_handler(RequestValidationError)
    async def refuse(_request: Request, error: RequestValidationError) -> JSONResponse:
        return invalid_input(error.errors())

    @app.exception_handler(StarletteHTTPException)
    async def refuse_in_words(request: Request, error: StarletteHTTPException):
        if error.status_code == 400 and error.detail == BODY_UNREADABLE:  # bad input like any other: 422 naming the body
            return invalid_input([{"type": "json_invalid", "loc": ("body",), "msg": "正文不是可解析的 JSON (the body cannot be parsed as JSON)"}])
        if error.detail == HTTPStatus(error.status_code).phrase:
            error.detail = FRAMEWORK.get(error.status_code, error.detail)
        return await http_exception_handler(request, error)

    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document_errors([route for router in routers for route in router.routes], build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(routes: list, schema: dict) -> None:
    """Each operation's error answers as a Problem, with the statuses its dependencies answer; FastAPI's
    own 422 schema (a list in `detail`) is not what the API answers, so it goes."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=REF + "{model}")
    components.update(problem.pop("$defs", {}), Problem=problem)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            statuses = set(dependency_statuses(route.dependant))
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.add(422)
            for status in sorted(statuses):
                responses.setdefault(str(status), {})
            for status, response in responses.items():
                if not status.startswith(("4", "5")):
                    continue
                meaning = MEANING.get(int(status), {})
                if response.get("description") in (None, "Validation Error", "Additional Response"):
                    response["description"] = meaning.get("description", "见 detail (see detail)")
                if "headers" in meaning:
                    response.setdefault("headers", meaning["headers"])
                content = response.get("content", {}).get("application/json", {}).get("schema", {})
                if not content or content.get("$ref") == REF + "HTTPValidationError":
                    response["content"] = {"application/json": {"schema": {"$ref": REF + "Problem"}}}
