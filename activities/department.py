"""The department gateway: deliver a document (a dispatch, a referral) to a unit's own system over HTTP."""

import asyncio
from datetime import datetime, timezone

import httpx
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.messages import DispatchOrder, DispatchReceipt
from store import register
from store.tables import Unit

# A unit's 4xx means the document is wrong for it: retrying would send the same thing again.
RETRYABLE_CLIENT_ERRORS = {408, 429}


class DepartmentGateway:
    def __init__(self, sessions: sessionmaker[Session], http: httpx.AsyncClient):
        self.sessions = sessions
        self.http = http

    def endpoint(self, unit_code: str) -> str:
        with self.sessions() as session:
            unit = session.get(Unit, unit_code)
        if unit is None or not unit.endpoint_url:
            # Not an outage: the unit works from its inbox in the API, so retrying cannot help.
            raise ApplicationError(f"单位 {unit_code} 没有自有系统，请在收件箱办理 (no endpoint: inbox)", type="NoEndpoint", non_retryable=True)
        return unit.endpoint_url

    @activity.defn
    async def dispatch_to_unit(self, order: DispatchOrder) -> DispatchReceipt:
        document = order.document
        url = await asyncio.to_thread(self.endpoint, order.recipient)
        response = await self.http.post(
            url,
            content=document.model_dump_json(),
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": order.idempotency_key},
        )
        if response.status_code >= 400:
            retryable = response.status_code >= 500 or response.status_code in RETRYABLE_CLIENT_ERRORS
            raise ApplicationError(
                f"单位系统拒收 (unit system answered {response.status_code}): {response.text[:200]}",
                type="UnitRejected",
                non_retryable=not retryable,
            )
        activity.logger.info("document delivered", extra={"case_no": document.case_no, "unit": order.recipient, "schema": document.schema_version})
        reference = response.json().get("reference") if response.content else None
        # The delivery goes into the case's timeline here, keyed by its idempotency key: a retry writes once.
        note = f"{order.recipient} 系统已接收（回执 {reference or response.status_code}）"
        await asyncio.to_thread(self.record_delivery, document.case_no, order.idempotency_key, note)
        return DispatchReceipt(unit_code=order.recipient, status_code=response.status_code, unit_reference=reference)

    def record_delivery(self, case_no: str, idempotency_key: str, note: str) -> None:
        with self.sessions() as session:
            register.record_event(session, case_no, f"delivered-{idempotency_key.split(':', 1)[1]}"[:64], "delivered", datetime.now(timezone.utc), note)
