"""The FastAPI application: its lifespan holds the Temporal client and the register's sessions."""

from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

import logs
from api import cases, directory
from settings import Settings
from store.db import make_engine, make_sessions
from worker import connect

log = structlog.get_logger("api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.temporal = await connect(settings)
        engine = make_engine(settings.register_url)
        app.state.sessions = make_sessions(engine)
        log.info("api started", temporal=settings.temporal_address)
        yield
        engine.dispose()

    app = FastAPI(
        title="onedoor 矛盾纠纷多元化解 API",
        description="只进一扇门，最多跑一地 — register disputes, follow them, answer dispatches.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(cases.router)
    app.include_router(directory.router)

    @app.exception_handler(RequestValidationError)
    async def invalid_input(_request: Request, error: RequestValidationError) -> JSONResponse:
        # One readable sentence naming every bad field, plus the structured list for programs
        # (without the echoed input, which may hold a party's personal data).
        problems = ["{}: {}".format(".".join(str(p) for p in e["loc"] if p != "body") or "body", e["msg"]) for e in error.errors()]
        return JSONResponse(
            status_code=422,
            content={"detail": "输入有误 invalid input — " + "; ".join(problems), "errors": jsonable_encoder([{k: v for k, v in e.items() if k != "input"} for e in error.errors()])},
        )

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict:
        return {"status": "ok"}

    return app


def main() -> None:
    """Entry point for `onedoor api`: serve the API with uvicorn."""
    import uvicorn

    settings = Settings()
    logs.configure(settings.log_level)
    # A request waiting on a case (an update) must not hold up a shutdown for ever.
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None, timeout_graceful_shutdown=10)
