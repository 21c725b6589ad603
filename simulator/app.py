"""Department system simulator: receives dispatches like a unit's real endpoint would.

Each unit follows a script: fail its first N deliveries (or all of them), and answer the case
through onedoor's API after a delay (on time or late), or never. Deliveries are counted by
idempotency key, so a test can see that a retried dispatch arrived once.
"""

import asyncio
import json
import time
from collections.abc import Callable
from collections import defaultdict
from typing import Annotated, Literal

import httpx
import structlog
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, Field

from domain.messages import DispatchDocument, ReferralDocument

Document = Annotated[DispatchDocument | ReferralDocument, Field(discriminator="schema_version")]

log = structlog.get_logger("simulator")


class Script(BaseModel):
    fail_first: int = Field(0, ge=0, description="answer 503 to this many delivery attempts first")
    fail_always: bool = Field(False, description="the unit's system is down")
    answer: Literal["never", "auto"] = Field("never", description="never: staff answer through onedoor's API themselves")
    respond_after: float = Field(1.0, ge=0, description="seconds after delivery the unit responds, or accepts a referral (auto)")
    feedback_after: float = Field(2.0, ge=0, description="seconds after delivery the unit gives feedback (auto)")
    latency: float = Field(0.0, ge=0, description="seconds the unit's system takes to answer a delivery (a slow system)")


class Delivery(BaseModel):
    idempotency_key: str
    attempts: int = 0
    accepted: int = 0
    reference: str | None = None
    received_at: float | None = Field(None, description="when it was first accepted (Unix time)")
    document: Document | None = None


def create_simulator(api_url: str, unit_key: Callable[[str], str | None]) -> FastAPI:
    """unit_key gives the API key each unit's system signs in with (onedoor issues one per unit)."""
    app = FastAPI(title="onedoor department simulator 部门系统模拟器")
    scripts: dict[str, Script] = defaultdict(Script)
    deliveries: dict[str, dict[str, Delivery]] = defaultdict(dict)
    answering: set[asyncio.Task] = set()

    async def answer(unit: str, document: Document, reference: str, script: Script) -> None:
        """Play the unit's staff: respond and report on a dispatch, accept a referral."""
        case = f"/cases/{document.case_no}"
        key = unit_key(unit)
        async with httpx.AsyncClient(base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {key}"} if key else {}) as api:
            await asyncio.sleep(script.respond_after)
            if isinstance(document, ReferralDocument):
                await api.post(f"{case}/referral/acceptance", json={"body_code": unit, "reference": reference})
                return
            await api.post(f"{case}/response", json={"unit_code": unit, "handler": "模拟承办人"})
            await asyncio.sleep(max(0.0, script.feedback_after - script.respond_after))
            await api.post(f"{case}/feedback", json={"unit_code": unit, "handler": "模拟承办人", "summary": "已按职责处理（模拟）"})

    @app.post("/units/{unit}/dispatches")
    async def receive(unit: str, document: Document, idempotency_key: str = Header()) -> dict:
        script = scripts[unit]
        delivery = deliveries[unit].setdefault(idempotency_key, Delivery(idempotency_key=idempotency_key))
        delivery.attempts += 1
        await asyncio.sleep(script.latency)  # the delivery is in flight meanwhile: counted, not yet answered
        if script.fail_always or delivery.attempts <= script.fail_first:
            raise HTTPException(503, "unit system unavailable (simulated)")
        delivery.accepted += 1
        log.info("dispatch received", unit=unit, case_no=document.case_no, accepted=delivery.accepted)
        if delivery.reference is None:  # first acceptance: the unit opens its own file
            delivery.reference, delivery.document = f"{unit}-{len(deliveries[unit]):05d}", document
            delivery.received_at = time.time()
            if script.answer == "auto":
                task = asyncio.create_task(answer(unit, document, delivery.reference, script))
                answering.add(task)
                task.add_done_callback(answering.discard)
        return {"reference": delivery.reference}

    @app.put("/units/{unit}/script")
    async def set_script(unit: str, script: Script) -> Script:
        scripts[unit] = script
        return script

    @app.get("/units/{unit}/dispatches")
    async def received(unit: str) -> list[Delivery]:
        return list(deliveries[unit].values())

    @app.delete("/")
    async def reset() -> None:
        scripts.clear()
        deliveries.clear()

    return app


def main() -> None:
    """Entry point for `onedoor simulator`."""
    import uvicorn

    import logs
    from settings import Settings

    settings = Settings()
    logs.configure(settings.log_level)
    keys = settings.simulator_key_file

    def unit_key(unit: str) -> str | None:
        # Read afresh: `onedoor up` issues new keys at every start.
        return json.loads(keys.read_text()).get(unit) if keys.exists() else None

    uvicorn.run(
        create_simulator(settings.public_api_url, unit_key),
        host=settings.simulator_host,
        port=settings.simulator_port,
        log_config=None,
    )
