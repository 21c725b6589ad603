"""The FastAPI application: its lifespan holds the Temporal client and the register's sessions."""

from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from temporalio.service import RPCError

import logs
from api import assessment, calendars, callbacks, cases, codec, directory, health, households, incidents, metrics, notices, records, reports, supervision, users, worklists
from api.docs import serve_docs
from settings import Settings
from store.db import make_engine, make_sessions
from worker import connect

log = structlog.get_logger("api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    api_metrics = metrics.ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.party_marks_key = cases.party_mark_key(settings)  # not per request: it reads the key file
        app.state.temporal = await connect(settings)
        engine = make_engine(settings.register_url)
        app.state.sessions = make_sessions(engine)
        register = metrics.RegisterCollector(app.state.sessions)
        api_metrics.registry.register(register)
        metrics_server = metrics.serve(api_metrics, settings)
        app.state.calendar_warning = await run_in_threadpool(calendars.warn, app.state.sessions)  # loud in the log at start
        log.info("api started", temporal=settings.temporal_address)
        yield
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        api_metrics.registry.unregister(register)
        engine.dispose()

    app = FastAPI(
        title="onedoor 矛盾纠纷多元化解 API",
        description="只进一扇门，最多跑一地 — register disputes, follow them, answer dispatches.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from the package by serve_docs: FastAPI's load from a CDN
    )
    serve_docs(app)
    app.include_router(health.router)
    app.include_router(cases.router)
    app.include_router(incidents.router)
    app.include_router(callbacks.router)
    app.include_router(supervision.router)
    app.include_router(directory.router)
    app.include_router(calendars.router)
    app.include_router(reports.router)
    app.include_router(households.router)
    app.include_router(records.router)
    app.include_router(worklists.router)
    app.include_router(notices.router)
    app.include_router(assessment.router)
    app.include_router(users.router)
    app.include_router(codec.router)
    # Only the Temporal UI calls us from a browser page of another origin (the codec endpoint).
    app.add_middleware(CORSMiddleware, allow_origins=[settings.temporal_ui_origin], allow_credentials=True,
                       allow_methods=["POST"], allow_headers=["Content-Type", "Authorization", "X-Namespace"])
    app.add_middleware(metrics.HttpMetrics, metrics=api_metrics)  # added last: outermost, it sees every answer

    @app.exception_handler(RequestValidationError)
    async def invalid_input(_request: Request, error: RequestValidationError) -> JSONResponse:
        # One readable sentence naming every bad field, plus the structured list for programs
        # (without the echoed input, which may hold a party's personal data).
        problems = ["{}: {}".format(".".join(str(p) for p in e["loc"] if p != "body") or "body", e["msg"]) for e in error.errors()]
        return JSONResponse(
            status_code=422,
            content={"detail": "输入有误 invalid input — " + "; ".join(problems), "errors": jsonable_encoder([{k: v for k, v in e.items() if k != "input"} for e in error.errors()])},
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def register_unavailable(_request: Request, error: DBAPIError) -> JSONResponse:
        # The register is restarting or unreachable: nothing was done, the request can be sent again.
        log.warning("register unavailable", error=str(error.orig)[:200])
        return JSONResponse(status_code=503, headers={"Retry-After": "2"}, content={"detail": "登记簿暂时不可用，请稍后重试 (register unavailable)"})

    @app.exception_handler(RPCError)
    async def temporal_unavailable(_request: Request, error: RPCError) -> JSONResponse:
        # Temporal is busy or restarting: the request was fine and can be sent again (a repeated
        # registration keeps its number and starts the case). Routes handle NOT_FOUND themselves.
        log.warning("temporal unavailable", status=str(error.status), error=error.message)
        return JSONResponse(status_code=503, headers={"Retry-After": "1"}, content={"detail": f"服务暂时繁忙，请稍后重试 (temporal unavailable: {error.message})"})

    return app


def main() -> None:
    """Entry point for `onedoor api`: serve the API with uvicorn."""
    import uvicorn

    settings = Settings()
    logs.configure(settings.log_level)
    uvicorn.run(
        create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None,
        timeout_graceful_shutdown=10,  # a request waiting on a case (an update) must not hold up a shutdown for ever
        timeout_keep_alive=settings.http_keep_alive,
    )
