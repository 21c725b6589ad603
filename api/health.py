"""Liveness and readiness, for the orchestrator and the load balancer (no key needed).

/healthz: the process answers (restart it if not). /readyz: it can also do its work — Temporal's
frontend and the register both answer — so traffic goes to it; a short wait on each, so a probe
is answered in about READY_WAIT even when a dependency hangs.

TemporalWatch keeps, for the routes, whether Temporal answered its latest health check: while it
does not, they answer 503 with Retry-After at once (api.deps.temporal) instead of each waiting out
the client's retries with an operator's window frozen."""

import asyncio
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.deps import sessions

router = APIRouter(tags=["operations 运维"])
log = structlog.get_logger("api")

READY_WAIT = 2.0  # seconds each dependency has to answer a readiness probe
WATCH_EVERY = 1.0  # seconds between the watch's health checks of Temporal
DOWN_AFTER = 2  # failed checks in a row that mean Temporal is down
NAMES = {"temporal": "Temporal", "database": "数据库"}


@router.get("/healthz", summary="存活 liveness: the process answers (no dependency checked); `detail` warns when next year's holidays are unknown")
async def healthz(request: Request) -> dict:
    # The calendar's warning, as read at start (and after an admin's calendar edit): liveness asks no dependency.
    warning = request.app.state.calendar_warning
    return {"status": "ok"} | ({"detail": warning} if warning else {})


@router.get(
    "/readyz",
    summary="就绪 readiness: Temporal and the register answer",
    responses={503: {"description": "未就绪：依赖不可达 (not ready: a dependency is unreachable), named in `detail` and `checks`"}},
)
async def readyz(request: Request, make_session: Annotated[sessionmaker[Session], Depends(sessions)]) -> JSONResponse:
    # The client itself, not api.deps.temporal: a probe asks Temporal afresh whatever the watch saw.
    temporal_ok, database_ok = await asyncio.gather(temporal_answers(request.app.state.temporal), database_answers(make_session))
    checks = {"temporal": "ok" if temporal_ok else "unreachable", "database": "ok" if database_ok else "unreachable"}
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        return JSONResponse({"status": "ready", "checks": checks})
    detail = f"未就绪：{'、'.join(NAMES[name] for name in down)}不可达 (not ready: {', '.join(down)} unreachable)"
    return JSONResponse({"status": "unavailable", "detail": detail, "checks": checks}, status_code=503, headers={"Retry-After": "2"})


async def temporal_answers(client: Client, wait: float = READY_WAIT, quiet: bool = False) -> bool:
    """Temporal's frontend answers the gRPC health check."""
    try:
        return await asyncio.wait_for(client.service_client.check_health(timeout=timedelta(seconds=wait)), wait + 0.5)
    except Exception as error:  # RPCError, a timeout, a dropped connection, a lazy client not connected: all mean "not ready"
        if not quiet:
            log.warning("readiness: temporal unreachable", error=str(error)[:200])
        return False


class TemporalWatch:
    """Whether Temporal answers, as its health checks every WATCH_EVERY seconds show."""

    def __init__(self, client: Client):
        self.client = client
        self.up: bool | None = None  # not checked yet: the API checks once before it serves
        self.failures = 0

    async def check(self) -> None:
        answered = await temporal_answers(self.client, READY_WAIT, quiet=True)
        self.failures = 0 if answered else self.failures + 1
        # Down after DOWN_AFTER checks in a row fail (one slow answer on a loaded host is not an
        # outage; meanwhile a call to a Temporal that is gone fails within a second anyway).
        up = answered or (self.up is True and self.failures < DOWN_AFTER)
        if up != self.up:
            (log.info if up else log.warning)("temporal answers" if up else "temporal unreachable: routes that need it answer 503")
        self.up = up

    async def run(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY)
            await self.check()


async def database_answers(make_session: sessionmaker[Session]) -> bool:
    """The register answers SELECT 1 (on a thread: the driver blocks; a hung connection is left to it)."""

    def ping() -> None:
        with make_session() as session:
            session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(run_in_threadpool(ping), READY_WAIT)
        return True
    except Exception as error:  # OperationalError, a timeout: all mean "not ready"
        log.warning("readiness: register unreachable", error=str(error)[:200])
        return False
