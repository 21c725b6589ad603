"""The FastAPI application: its lifespan holds the Temporal client and the register's sessions."""

import asyncio
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from temporalio.service import RetryConfig, RPCError

import logs
from api import assessment, calendars, callbacks, cases, codec, directory, health, households, incidents, lookup, metrics, notices, records, reports, supervision, ui, users, worklists
from api.console import routes as console
from api.docs import serve_docs
from api.errors import handle_errors, no_nul_in_parameters
from codec import field_sealer
from ops.temporal import connect
from settings import Settings
from store.db import make_engine, make_sessions
from store.sealed import Keys

log = structlog.get_logger("api")
# A call to Temporal that fails is retried for about half a second, not the SDK's ten: a request
# caught by an outage answers 503 with Retry-After (the client sends it again) instead of hanging.
RETRIES = RetryConfig(max_retries=3, max_elapsed_time_millis=1000)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    api_metrics = metrics.ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.party_marks_key = cases.party_mark_key(settings)  # not per request: it reads the key file
        Keys.use(field_sealer(settings))  # the register's personal fields, sealed with the payload keys
        # Lazily: the API starts while Temporal does not answer yet, and answers 503 until it does.
        app.state.temporal = await connect(settings, lazy=True, retry_config=RETRIES)
        app.state.temporal_watch = health.TemporalWatch(app.state.temporal)
        await app.state.temporal_watch.check()
        watching = asyncio.create_task(app.state.temporal_watch.run())
        engine = make_engine(settings.register_url)
        app.state.sessions = make_sessions(engine)
        register = metrics.RegisterCollector(app.state.sessions)
        api_metrics.registry.register(register)
        metrics_server = metrics.serve(api_metrics, settings)
        app.state.ui_http = httpx.AsyncClient(base_url=settings.ui_upstream, timeout=60)  # the Temporal UI server behind /temporal
        app.state.calendar_warning = await run_in_threadpool(calendars.warn, app.state.sessions)  # loud in the log at start
        log.info("api started", temporal=settings.temporal_address)
        yield
        watching.cancel()
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
        dependencies=[Depends(no_nul_in_parameters)],
        docs_url=None, redoc_url=None,  # served from the package by serve_docs: FastAPI's load from a CDN
    )
    serve_docs(app)
    routers = [health.router, cases.router, incidents.router, callbacks.router, supervision.router, directory.router, calendars.router, reports.router,
               households.router, records.router, worklists.router, notices.router, assessment.router, users.router, codec.router,
               lookup.router, console.router, ui.router]  # ui last: every path no route above answers is the Temporal UI's
    for router in routers:
        app.include_router(router)
    handle_errors(app, routers)
    app.add_middleware(metrics.HttpMetrics, metrics=api_metrics)  # added last: outermost, it sees every answer


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
