"""Outside systems simulator: plays any unit in the directory — departments, industry units, the
police platform, courts and arbitration bodies, the partner center — and the receivers of the
notification port.

Every unit receives at `POST /units/{code}/dispatches`, checks onedoor's signature (401 when it
does not match), and follows its script: slow, failing at random or at first, down for a while,
refusing, and answering the case through onedoor's API, its signed callback, or never.
Deliveries are counted by idempotency key, so a test can see a retried document arrived once.
"""

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import httpx
import structlog
from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import TypeAdapter, ValidationError

from onedoor import signing
from api.docs import serve_docs
from onedoor.domain.documents import Document
from onedoor.simulator.answers import Staff
from onedoor.simulator.notifications import notification_receivers
from onedoor.simulator.script import Behaviour, Script
from onedoor.simulator.units import Delivery, PoliceStatusRecord, UnitCredentials, UnitSystem

log = structlog.get_logger("simulator")
DOCUMENT = TypeAdapter(Document)


def create_simulator(api_url: str, credentials: Callable[[str], UnitCredentials | None], notification_secret: str | None = None) -> FastAPI:
    """credentials gives each unit's API key and signing secret (what onedoor issued the unit);
    notification_secret verifies the notification webhook's signature."""
    systems: dict[str, UnitSystem] = defaultdict(UnitSystem)
    answering: set[asyncio.Task] = set()
    notifications, forget_notifications = notification_receivers(notification_secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as api:
            app.state.staff = Staff(api, credentials)
            yield

    app = FastAPI(title="onedoor outside systems simulator 外部系统模拟器", lifespan=lifespan, docs_url=None, redoc_url=None)
    serve_docs(app)
    app.include_router(notifications)

    @app.post("/units/{unit}/dispatches")
    async def receive(unit: str, request: Request, idempotency_key: Annotated[str, Header(alias=signing.IDEMPOTENCY_KEY)],
                      timestamp: Annotated[str | None, Header(alias=signing.TIMESTAMP)] = None,
                      signature: Annotated[str | None, Header(alias=signing.SIGNATURE)] = None) -> dict:
        body = await request.body()
        given = await asyncio.to_thread(credentials, unit)  # a lookup may read a file or a database
        secret = given and given.signing_secret
        try:
            signing.verify(secret, body, timestamp, signature, idempotency_key)
        except signing.BadSignature as bad:
            log.warning("unsigned or forged document refused", unit=unit, reason=str(bad))
            raise HTTPException(401, str(bad))
        try:
            document = DOCUMENT.validate_json(body)
        except ValidationError as invalid:
            raise HTTPException(422, str(invalid))
        if document.recipient != unit:
            raise HTTPException(422, f"文书收件单位为 {document.recipient}，不是 {unit} (addressed to another unit)")

        system = systems[unit]
        delivery = system.attempt(idempotency_key)
        behaviour = system.behaviour
        await asyncio.sleep(behaviour.script.latency)  # in flight meanwhile: counted, not yet answered
        failure = behaviour.failure(delivery.attempts)
        if failure:
            raise HTTPException(*failure)
        if system.accept(unit, delivery, document):
            log.info("document received", unit=unit, case_no=document.case_no, schema=document.schema_version)
            if behaviour.script.answer != "never":
                task = asyncio.create_task(request.app.state.staff.answer(unit, delivery, behaviour.script))
                answering.add(task)
                task.add_done_callback(answering.discard)
        return {"reference": delivery.reference}

    @app.put("/units/{unit}/script")
    async def set_script(unit: str, script: Script) -> Script:
        systems[unit].behaviour = Behaviour(script)
        return script

    @app.get("/units/{unit}/dispatches")
    async def received(unit: str) -> list[Delivery]:
        return list(systems[unit].deliveries.values())

    @app.get("/units/{unit}/incidents/{incident_id}")
    async def incident(unit: str, incident_id: str) -> list[PoliceStatusRecord]:
        """The police platform's view of an incident: each status change, in the order it arrived."""
        return systems[unit].incidents.get(incident_id, [])

    @app.delete("/")
    async def reset() -> None:
        for task in answering:
            task.cancel()
        systems.clear()
        forget_notifications()

    return app


def key_file_credentials(path: Path) -> Callable[[str], UnitCredentials | None]:
    """Credentials from the file `onedoor up` writes ({unit: {api_key, signing_secret}}), read
    again whenever it changes: every start issues new keys."""
    read: dict = {"stamp": None, "units": {}}

    def lookup(unit: str) -> UnitCredentials | None:
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if stamp != read["stamp"]:
            read.update(stamp=stamp, units=json.loads(path.read_text()) if stamp else {})
        given = read["units"].get(unit)
        return UnitCredentials(**given) if given else None

    return lookup


def main() -> None:
    """Entry point for `onedoor simulator`."""
    import uvicorn

    from onedoor import logs
    from onedoor.settings import Settings

    settings = Settings()
    logs.configure(settings.log_level)
    secret = settings.notification_webhook_secret
    uvicorn.run(
        create_simulator(settings.public_api_url, key_file_credentials(settings.simulator_key_file), secret and secret.get_secret_value()),
        host=settings.simulator_host,
        port=settings.simulator_port,
        log_config=None,
        timeout_keep_alive=settings.http_keep_alive,
    )
