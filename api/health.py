"""Liveness and readiness, for the orchestrator and the load balancer (no key needed).

/healthz: the process answers (restart it if not). /readyz: it can also do its work — Temporal's
frontend and the register both answer — so traffic goes to it; a short wait on each, so a probe
is answered in about READY_WAIT even when a dependency hangs."""

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

from api.deps import sessions, temporal

router = APIRouter(tags=["operations"])
log = structlog.get_logger("api")

READY_WAIT = 2.0  # seconds each dependency has to answer a readiness probe
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
async def readyz(client: Annotated[Client, Depends(temporal)], make_session: Annotated[sessionmaker[Session], Depends(sessions)]) -> JSONResponse:
    temporal_ok, database_ok = await asyncio.gather(temporal_answers(client), database_answers(make_session))
    checks = {"temporal": "ok" if temporal_ok else "unreachable", "database": "ok" if database_ok else "unreachable"}
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        return JSONResponse({"status": "ready", "checks": checks})
    detail = f"未就绪：{'、'.join(NAMES[name] for name in down)}不可达 (not ready: {', '.join(down)} unreachable)"
    return JSONResponse({"status": "unavailable", "detail": detail, "checks": checks}, status_code=503, headers={"Retry-After": "2"})


async def temporal_answers(client: Client) -> bool:
    """Temporal's frontend answers the gRPC health check."""
    try:
        return await asyncio.wait_for(client.service_client.check_health(timeout=timedelta(seconds=READY_WAIT)), READY_WAIT + 0.5)
    except Exception as error:  # RPCError, a timeout, a dropped connection: all mean "not ready"
        log.warning("readiness: temporal unreachable", error=str(error)[:200])
        return False


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
